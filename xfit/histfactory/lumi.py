"""``lumi``: the luminosity factor on a sample (HistFactory note, K. Cranmer et al.,
CERN-OPEN-2012-016, "Lumi"; pyhf ``modifiers.lumi``).

One parameter multiplies every row of each sample that carries it; it is constrained by a
Gaussian whose auxiliary datum and width (``auxdata``, ``sigmas``) the measurement config
gives -- they reach the constraint term through pyhf's parameter set.
"""
from __future__ import annotations


def compile(builder, modifier: dict, channel: str, rows, nominal) -> None:
    builder.add_linear(rows, builder.scalar_param(modifier["name"]))
