"""NA62: K+ -> pi+ X with X invisible, 90 % CL upper limits versus m_X.

NA62 2016-2022 data (arXiv:2507.17286, JHEP 11 (2025) 143, HEPData 10.17182/hepdata.160245)
for 0-0.110 and 0.154-0.259 GeV, and the pi0 -> invisible search (arXiv:2010.07644,
JHEP 02 (2021) 201) for 0.110-0.154 GeV; ALPaca 1.2.0 digitisation (longest-lifetime row,
i.e. a stable X).  HEPData was not reachable when the curve was made: cross-check it against
the HEPData table.  Interpolated linearly in log(limit); no limit outside the covered masses
or in the 0.3 MeV gap at 0.110 GeV (the term contributes 0 there).
Numbers: data/limits/na62_k_pi_2025.{yaml,csv}.
"""
from __future__ import annotations

from xfit.errors import InputError
from xfit.likelihood import Citation, DataFileLimit, register_term

NAME = "na62_k_pi"
DATA_FILE = "limits/na62_k_pi_2025.yaml"
PI0_WINDOW_SEGMENT = 2
CITATION = Citation(
    "NA62:2025kpi",
    arxiv="2507.17286",
    journal="JHEP 11 (2025) 143",
    hepdata="10.17182/hepdata.160245",
    note="pi0 window from NA62:2021pi0inv (arXiv:2010.07644, JHEP 02 (2021) 201); "
    "curves digitised by ALPaca 1.2.0 (arXiv:2508.08354)",
)


@register_term(NAME)
class NA62KPi(DataFileLimit):
    """Half-Gaussian limit on B(K+ -> pi+ X) x B(X -> invisible) along the NA62 curve."""

    name = NAME
    citation = CITATION
    projection = False
    data_file = DATA_FILE

    def __init__(self, include_pi0_window: bool = True):
        if not isinstance(include_pi0_window, bool):
            raise InputError(f"include_pi0_window must be True or False, got {include_pi0_window!r}")
        super().__init__("NA62 K+ -> pi+ X (X invisible), 2016-2022 data + pi0 -> invisible window, 90% CL",
                         exclude_segments=() if include_pi0_window else (PI0_WINDOW_SEGMENT,))
        self.include_pi0_window = bool(include_pi0_window)
