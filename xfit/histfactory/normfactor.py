"""``normfactor``: a free overall factor mu on a sample (HistFactory note, K. Cranmer et al.,
CERN-OPEN-2012-016, "NormFactor"; pyhf ``modifiers.normfactor``).

Unconstrained; its bounds, initial value and fixed flag come from the measurement config
(pyhf defaults: bounds [0, 10], init 1).  Every row of the sample is multiplied by mu.
"""
from __future__ import annotations


def compile(builder, modifier: dict, channel: str, rows, nominal) -> None:
    builder.add_linear(rows, builder.scalar_param(modifier["name"]))
