"""``staterror``: Barlow-Beeston-lite MC statistical factors gamma_b shared by all samples that
carry the modifier (HistFactory note, K. Cranmer et al., CERN-OPEN-2012-016,
"StatError"; pyhf ``modifiers.staterror``).

Gaussian constraint with width sigma_b = sqrt(sum_s delta_sb^2) / sum_s nom_sb (read from pyhf's
parameter set; pyhf fixes gamma_b where sigma_b = 0).  A staterror name may appear in several
channels: its components are then the bins of those channels, in channel order.
"""
from __future__ import annotations

import numpy as np


def compile(builder, modifier: dict, channel: str, rows, nominal) -> None:
    builder.bin_array(modifier, "data", channel, rows)  # shape check only
    name = modifier["name"]
    start = builder.par_slices[name].start
    for c in builder.channels:  # components: the bins of the channels that carry it, in order
        if c == channel:
            break
        if c in builder.modifier_channels[name]:
            start += builder.channel_nbins[c]
    builder.add_linear(rows, np.arange(start, start + len(rows)))
