"""``shapefactor``: a free factor per bin, shared by the samples that name it (HistFactory
note, K. Cranmer et al., CERN-OPEN-2012-016, "ShapeFactor"; pyhf
``modifiers.shapefactor``).  Unconstrained; component i multiplies bin i of the channel.
"""
from __future__ import annotations


def compile(builder, modifier: dict, channel: str, rows, nominal) -> None:
    builder.add_linear(rows, builder.vector_params(modifier, channel))
