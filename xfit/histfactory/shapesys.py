"""``shapesys``: an uncorrelated per-bin factor gamma_b with a Poisson constraint (HistFactory
note, K. Cranmer et al., CERN-OPEN-2012-016, "ShapeSys"; pyhf ``modifiers.shapesys``).

The constraint is Poisson(tau_b | gamma_b tau_b) with tau_b = (nom_b / sigma_b)^2 from the
sample's nominal yields and the modifier's absolute uncertainties; pyhf fixes gamma_b = 1 (and
uses tau_b = 1) in bins with zero nominal or zero uncertainty.  The factors and fixed flags
are read from pyhf's parameter set.
"""
from __future__ import annotations


def compile(builder, modifier: dict, channel: str, rows, nominal) -> None:
    builder.bin_array(modifier, "data", channel, rows)  # shape check only
    builder.add_linear(rows, builder.vector_params(modifier, channel))
