"""The exceptions rfrisk raises (the CLI's exit codes 2, 3 and 4 as types)."""

from __future__ import annotations


class Error(Exception):
    """Base of every rfrisk exception."""


class SpecError(Error, ValueError):
    """The spec, an override or a swept value is invalid (the CLI's exit 2).

    ``key`` is the spec key at fault (``"training.samples"``, ``"features.widths[1]"``),
    or None when the document itself could not be read or parsed.
    """

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


class OutsideTheory(Error):
    """The spec is valid but outside what the theory derives (the CLI's exit 3): a non-odd
    activation where the mean-corrected theory does not apply, real or heavy-tailed
    inputs, an infinite risk, no positive interpolator for the entropic map."""


class SolverError(Error):
    """The solver did not converge or found no root (the CLI's exit 4).

    ``residuals`` is the list of residuals it stopped at (None where the failure has none,
    e.g. no bracket; an entry is None where the residual was not a number).
    """

    def __init__(self, message: str, residuals: list[float | None] | None = None):
        super().__init__(message)
        self.residuals = residuals


class SimulationError(Error):
    """A trial of the finite-size model failed (the backend, the data, the training)."""


# Shown as rfrisk.SpecError, where a user imports them from.
for _class in (Error, SpecError, OutsideTheory, SolverError, SimulationError):
    _class.__module__ = "rfrisk"
