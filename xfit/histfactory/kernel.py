"""Which evaluation kernel a model uses: the numpy path (always there) or the compiled numba one.

The numba kernel (:mod:`.kernel_numba`) evaluates -ln L, its gradient and Hessian blocks and
factorises the Newton system in a few compiled calls instead of ~150 numpy calls per Newton
step (a 232-parameter profile fit: about 2.5x less CPU).  Importing numba and loading the
compiled functions from the on-disk cache costs about 0.25 s CPU per process, so it pays only
for runs of many fits (the fit benchmark in ``benchmarks/`` prints the break-even).

Policy, set by the environment variable ``XFIT_KERNEL``:

* ``auto`` (default): numba for the models of many-fit runs (the entry points of scans, toys,
  posteriors, limits and MCMC call :meth:`~.model.HistFactoryModel.use_compiled_kernel`) when
  numba is installed, numpy everywhere else;
* ``numpy``: never numba;
* ``numba``: numba for every model (an error if numba is not installed).

Where the numba kernel does not cover a model or a point (interpolation codes other than
the defaults normsys code4 / histosys code4p, a local block that is not diagonal plus rank one
for the factorisation), that call takes the numpy path.
"""
from __future__ import annotations

import importlib.util
import os

from ..errors import InputError

#: Environment variable choosing the kernel.
ENV = "XFIT_KERNEL"
#: Its accepted values; the first is the default.
CHOICES = ("auto", "numpy", "numba")


def requested() -> str:
    """The value of ``XFIT_KERNEL`` (default ``auto``); InputError if it is not accepted."""
    raw = os.environ.get(ENV, "")
    value = raw.strip().lower() or CHOICES[0]
    if value not in CHOICES:
        raise InputError(f"{ENV}={raw[:80]!r} is not a kernel; accepted: {', '.join(CHOICES)}")
    return value


def numba_available() -> bool:
    """True if numba can be imported (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def resolve(choice: str | None = None, many_fits: bool = False) -> str:
    """``numpy`` or ``numba`` for a model: ``choice`` (one of :data:`CHOICES`, default the
    environment's), ``auto`` meaning numba only for ``many_fits`` and when numba is installed."""
    value = requested() if choice is None else choice
    if value not in CHOICES:
        raise InputError(f"kernel {str(value)[:80]!r} is not known; accepted: {', '.join(CHOICES)}")
    if value == "numba" and not numba_available():
        raise InputError(f"kernel 'numba' ({ENV}) asked for, but numba is not installed; "
                         "install it (pip install 'xfit[fast]') or set XFIT_KERNEL=numpy")
    if value == "auto":
        return "numba" if many_fits and numba_available() else "numpy"
    return value


def make(model, name: str):
    """The kernel object of ``model`` for ``name`` (None for the numpy path)."""
    if name == "numpy":
        return None
    from .kernel_numba import NumbaKernel  # imports numba: only here

    return NumbaKernel(model)
