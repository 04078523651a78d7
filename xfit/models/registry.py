"""Named benchmark models (flavio-style registry by name)."""
from __future__ import annotations

from collections.abc import Callable

from ..errors import InputError
from .charges import ChargeModel

#: name -> (description, factory)
BENCHMARKS: dict[str, tuple[str, Callable[..., ChargeModel]]] = {
    "tau-flavor": ("gauged tau-lepton number, alpha_tau = 1 (A_XYY = -A_XWW = 1)",
                   lambda **kw: ChargeModel.vector(alpha_tau=1, name="tau-flavor", **kw)),
    "L-only": ("chiral tau, alpha_L = 1, alpha_R = 0 (chiral paper Sec. IV A)",
               lambda **kw: ChargeModel.chiral_tau(1, 0, name="L-only", **kw)),
    "L=-4R": ("chiral tau, alpha_L = 4, alpha_R = -1 (chiral paper Sec. IV B)",
              lambda **kw: ChargeModel.chiral_tau(4, -1, name="L=-4R", **kw)),
    "baryon": ("gauged baryon number, alpha_B = 1 (no neutrino coupling: B(X->inv) = 0)",
               lambda **kw: ChargeModel.vector(alpha_B=1, name="baryon", **kw)),
    "electron": ("gauged electron number, alpha_e = 1",
                 lambda **kw: ChargeModel.vector(alpha_e=1, name="electron", **kw)),
    "muon": ("gauged muon number, alpha_mu = 1",
             lambda **kw: ChargeModel.vector(alpha_mu=1, name="muon", **kw)),
}


def available_models() -> list[str]:
    return list(BENCHMARKS)


def get_model(name: str, **kw) -> ChargeModel:
    """A named benchmark, e.g. ``get_model("tau-flavor")``."""
    try:
        factory = BENCHMARKS[name][1]
    except KeyError:
        raise InputError(f"unknown model {name!r}; known models: {', '.join(BENCHMARKS)}") from None
    try:
        return factory(**kw)
    except TypeError as exc:
        raise InputError(f"model {name!r}: {exc}; accepted options: XS, br_invisible, sm, "
                         "loop_normalisation, goldstone, ew_scheme, description") from None
