"""rfrisk: asymptotic test error of deep random-features models with Gaussian or one-bit
hidden weights (arXiv 2510.16250), from the same Rust library as the ``rfrisk`` command.

A spec is a dict nested like the TOML file (``{"training": {"samples": 800}}``), a TOML or
JSON string, or a path to a spec file (a ``pathlib.Path``, or a string with no ``=``, no
line break and not starting with ``{`` or ``[``: a string with any of those is a document). Overrides use the CLI's dotted keys, as keyword
arguments (``predict(spec, **{"training.samples": 800})``) or a ``set={...}`` mapping;
a string value is read as the CLI reads ``--set KEY=VALUE`` (``"800"`` is the number 800).

    >>> import rfrisk
    >>> r = rfrisk.predict("examples/tanh-depth2.toml")
    >>> r["excess_risk"]

Errors are exceptions: :class:`SpecError` (a ValueError, with ``.key``),
:class:`OutsideTheory`, :class:`SolverError` (with ``.residuals``), :class:`SimulationError`.
Long calls release the GIL, take ``progress=callback(done, total)``, and stop on Ctrl-C
with KeyboardInterrupt.
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Union

import numpy as np

from importlib.metadata import PackageNotFoundError, version

from . import _native
from ._errors import Error, OutsideTheory, SimulationError, SolverError, SpecError

__all__ = [
    "predict",
    "gep",
    "sweep",
    "simulate",
    "gap",
    "Error",
    "SpecError",
    "OutsideTheory",
    "SolverError",
    "SimulationError",
]

try:
    __version__ = version("rfrisk")
except PackageNotFoundError:  # imported from a source tree without being installed
    __version__ = "unknown"

Spec = Union[Mapping[str, Any], str, "os.PathLike[str]"]
Progress = Callable[[int, int], Any]


def _plain(value: Any) -> Any:
    """What json.dumps cannot write by itself: NumPy scalars and arrays."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not a spec value (numbers, strings, lists of them)")


def _source(spec: Spec) -> tuple[str, bool, str]:
    """(text or path, is it a path, its name in errors)."""
    if isinstance(spec, Mapping):
        # Through JSON, so the dict goes through the very parser a spec file does.
        return json.dumps(spec, default=_plain), False, "<spec dict>.json"
    if isinstance(spec, os.PathLike):
        return os.fspath(spec), True, os.fspath(spec)
    if isinstance(spec, str):
        text = spec.strip()
        # A document has a key = value, a section, or is JSON; a path has none of those.
        if "\n" in text or "=" in text or text.startswith(("{", "[")):
            return spec, False, "<spec string>"
        return spec, True, spec
    raise TypeError(f"spec must be a dict, a TOML/JSON string or a path, not {type(spec).__name__}")


def _value(value: Any) -> str:
    """A Python value as the text after `--set KEY=`."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))  # the shortest text that reads back to the same float
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(json.dumps(v) if isinstance(v, str) else _value(v) for v in value) + "]"
    raise TypeError(f"{type(value).__name__} is not a spec value (numbers, strings, lists of them)")


def _overrides(set: Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> list[str]:
    both = {**(set or {}), **overrides}
    return [f"{key}={_value(value)}" for key, value in both.items()]


def predict(spec: Spec, *, set: Mapping[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """The asymptotic prediction: the same object as ``rfrisk predict --format json``.

    Keys include ``test_error``, ``excess_risk``, ``bias``, ``variance``,
    ``approximation_error``, ``gep`` (per layer), ``top`` (the last layer's scalar
    problem, or None), ``solver`` (unknowns, residuals) and ``spec`` (the validated spec,
    every key explicit), and ``caveat`` where a known limit of the theory applies (a
    non-odd network of two or more layers with a mean part; equations/nonodd.md §7a).
    Floats are bit-identical to the CLI's.

    Raises SpecError (with ``.key``), OutsideTheory, or SolverError (with ``.residuals``).
    """
    return json.loads(_native.predict(*_source(spec), _overrides(set, overrides)))


def gep(spec: Spec, *, set: Mapping[str, Any] | None = None, **overrides: Any) -> Any:
    """The per-layer Gaussian-equivalence coefficients, as ``rfrisk gep --format json``:
    a list of ``{v_in, rho1, rho2, v_out}`` per layer, or, for a non-odd activation,
    ``{"gep": [...], "offsets": [...]}`` with the offset law each layer sees."""
    return json.loads(_native.gep(*_source(spec), _overrides(set, overrides)))


def sweep(
    spec: Spec,
    param: str,
    values: Iterable[Any] | str,
    *,
    progress: Progress | None = None,
    set: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, np.ndarray]:
    """One prediction per value of the spec key ``param``, solved in parallel with the
    GIL released: the columns of ``rfrisk sweep``'s CSV as NumPy arrays.

    ``values`` is a sequence (numbers, strings, lists for ``features.widths``) or the
    CLI's ``"a:b:step"`` / ``"v1,v2,..."`` text. The result has ``param`` (the values:
    an int or float array when they are all numbers, else strings), the float arrays
    ``excess_risk``, ``test_error``, ``bias``, ``variance``, ``eta``, ``s``,
    ``max_residual``, and ``status`` (``"ok"``, or the reason the point failed).

    NaN appears only here, exactly where the CSV has an empty cell: every number of a
    failed point (its ``status`` says why), and ``eta``, ``s`` where the last layer's
    scalar problem is not derived (a ridge). A failed point is not an exception;
    an unknown key or a value of the wrong type for it raises SpecError up front.
    """
    if isinstance(values, str):
        texts = _native.expand_values(param, values)
    else:
        texts = [_value(v) for v in values]
    given, numbers_, status = _native.sweep(*_source(spec), _overrides(set, overrides), param, texts, progress)
    columns: dict[str, np.ndarray] = {param: _column(given)}
    for name, column in zip(["excess_risk", "test_error", "bias", "variance", "eta", "s", "max_residual"], numbers_):
        columns[name] = np.array(column, dtype=np.float64)
    columns["status"] = np.array(status, dtype=str)
    return columns


def _column(texts: list[str]) -> np.ndarray:
    for kind in (int, float):
        try:
            return np.array([kind(t) for t in texts])
        except ValueError:
            pass
    return np.array(texts, dtype=str)


def _trial_args(trials: int, weights: str | Iterable[str]) -> tuple[int, list[str]]:
    laws = [w.strip() for w in weights.split(",")] if isinstance(weights, str) else [str(w) for w in weights]
    return int(trials), laws


def simulate(
    spec: Spec,
    trials: int,
    *,
    weights: str | Iterable[str] = ("gaussian", "onebit"),
    seed: int = 0,
    n_test: int = 2000,
    trainer: str = "direct",
    backend: str = "auto",
    kernel: str = "auto",
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    set: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> list[dict[str, Any]]:
    """Trials of the real finite-size model, as ``rfrisk simulate`` runs them: one dict
    per (weight law, trial) with ``weights``, ``trial``, ``seed``, ``excess_risk``,
    ``test_error``, ``train_residual``, ``seconds`` and ``status`` (``"ok"``, or
    ``"infeasible"`` when the entropic map had no positive interpolator: its numbers are
    None). Trial k of every law uses the same seed, derived from ``seed``.

    ``out`` appends each finished trial to that CSV as the CLI's ``--out`` does, so a
    run stopped by Ctrl-C continues with ``resume=True``. The GIL is released; Ctrl-C
    stops between trials (KeyboardInterrupt); ``progress(done, total)`` after each trial.
    """
    trials, laws = _trial_args(trials, weights)
    rows = _native.simulate(
        *_source(spec), _overrides(set, overrides), trials, laws, int(seed), int(n_test), trainer, backend, kernel,
        None if out is None else os.fspath(out), bool(resume), progress,
    )
    return json.loads(rows)


def gap(
    spec: Spec,
    trials: int,
    *,
    weights: str | Iterable[str] = ("gaussian", "onebit"),
    seed: int = 0,
    n_test: int = 2000,
    detect: float = 0.01,
    alpha: float = 0.05,
    power: float = 0.8,
    trainer: str = "direct",
    backend: str = "auto",
    kernel: str = "auto",
    scan: str | None = None,
    values: Iterable[Any] | str | None = None,
    progress: Progress | None = None,
    set: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Does the second weight law cost anything against the first? The same object as
    ``rfrisk gap --format json``: the theory's checklist (``assumptions``), the paired
    gap in excess risk with its confidence interval and p-value, and the trials needed
    to detect a relative gap ``detect`` at level ``alpha`` with power ``power``.

    With ``scan`` (a spec key, typically ``"features.width"``) and ``values`` (a sequence
    or the CLI's ``"a:b:step"``), as ``--scan --values``: ``{"scan", "points", "slope"}``,
    the report and the mean |gap| at each value and the fitted log-log slope.
    Releases the GIL, stops on Ctrl-C between trials, ``progress(done, total)``
    (per point of a scan)."""
    trials, laws = _trial_args(trials, weights)
    if isinstance(values, str):
        texts = _native.expand_values(scan or "--values", values)
    else:
        texts = None if values is None else [_value(v) for v in values]
    report = _native.gap(
        *_source(spec), _overrides(set, overrides), trials, laws, int(seed), int(n_test), trainer, backend, kernel,
        float(detect), float(alpha), float(power), scan, texts, progress,
    )
    return json.loads(report)
