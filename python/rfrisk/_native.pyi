# The native module's functions, as rfrisk/__init__.py calls them (src/lib.rs).
from typing import Any, Callable, Optional

_Progress = Optional[Callable[[int, int], Any]]

def expand_values(param: str, text: str) -> list[str]: ...
def predict(source: str, is_path: bool, origin: str, overrides: list[str]) -> str: ...
def gep(source: str, is_path: bool, origin: str, overrides: list[str]) -> str: ...
def sweep(
    source: str, is_path: bool, origin: str, overrides: list[str], param: str, values: list[str], progress: _Progress = None
) -> tuple[list[str], list[list[float]], list[str]]: ...
def simulate(
    source: str, is_path: bool, origin: str, overrides: list[str], trials: int, weights: list[str], seed: int, n_test: int,
    trainer: str, backend: str, kernel: str, out: Optional[str], resume: bool, progress: _Progress = None,
) -> str: ...
def gap(
    source: str, is_path: bool, origin: str, overrides: list[str], trials: int, weights: list[str], seed: int, n_test: int,
    trainer: str, backend: str, kernel: str, detect: float, alpha: float, power: float,
    scan: Optional[str] = None, values: Optional[list[str]] = None, progress: _Progress = None,
) -> str: ...
