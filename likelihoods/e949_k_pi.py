"""BNL E949: K+ -> pi+ X with X invisible, 90 % CL upper limits versus m_X.

A. V. Artamonov et al. (E949), arXiv:0903.0030, Phys. Rev. D 79 (2009) 092004; curve digitised
by ALPaca 1.2.0 (longest-lifetime row, 10 ns, of an array whose lifetime grid has no
documented origin - see data/limits/e949_k_pi.yaml).  Interpolated linearly in log(limit);
no limit between 0.115 and 0.151 GeV (the K+ -> pi+ pi0 peak) or above 0.2544 GeV.
"""
from __future__ import annotations

from xfit.likelihood import Citation, DataFileLimit, register_term

NAME = "e949_k_pi"
DATA_FILE = "limits/e949_k_pi.yaml"
CITATION = Citation(
    "E949:2009kpi",
    arxiv="0903.0030",
    journal="Phys. Rev. D 79 (2009) 092004",
    hepdata=None,
    note="digitised by ALPaca 1.2.0 (arXiv:2508.08354); lifetime-grid origin undocumented",
)


@register_term(NAME)
class E949KPi(DataFileLimit):
    """Half-Gaussian limit on B(K+ -> pi+ X) x B(X -> invisible) along the E949 curve."""

    name = NAME
    citation = CITATION
    projection = False
    data_file = DATA_FILE

    def __init__(self):
        super().__init__("E949 K+ -> pi+ X (X invisible), 90% CL")
