"""Belle: B -> pi E_miss and B -> rho E_miss, four 90 % CL upper limits (b -> d nu nubar).

J. Grygier et al. (Belle), arXiv:1702.03224, Phys. Rev. D 96 (2017) 091101, as in Eqs.
(3.17)-(3.20) of arXiv:2603.04394:

    B(B+ -> rho+ X) < 3.0e-5,  B(B+ -> pi+ X) < 1.4e-5,  B(B0 -> rho0 X) < 4.0e-5,
    B(B0 -> pi0 X) < 9.0e-6       (each times B(X -> invisible))

B0 -> pi0: Belle's limit is 0.9e-5; Eq. (3.20) of arXiv:2603.04394 prints 9.0e-4 (a typo).
B+ -> pi+: Belle's limit is 1.4e-5; Eq. (3.18) prints 1.5e-5.  xfit uses Belle's values
(data/limits/belle_b_to_h_nunu_2017.yaml says how they were checked).

The term is the sum of four independent half-Gaussian limits (xfit's one convention), each
applied from m_X = 0 to its kinematic endpoint m_B - m_h.
"""
from __future__ import annotations

from xfit.datafiles import load_data_file
from xfit.likelihood import Citation, MultiChannelLimits, register_term

NAME = "belle_b_to_pi_rho"
DATA_FILE = "limits/belle_b_to_h_nunu_2017.yaml"
CITATION = Citation(
    "Belle:2017hnunu",
    arxiv="1702.03224",
    journal="Phys. Rev. D 96 (2017) 091101",
    hepdata=None,
    note="B->pi/rho nu nubar limits used as B->pi/rho E_miss (Eqs. 3.17-3.20 of arXiv:2603.04394; "
    "B0->pi0 = 9.0e-6 from Belle, not the 9.0e-4 printed in Eq. 3.20)",
)

@register_term(NAME)
class BelleBToPiRho(MultiChannelLimits):
    """Sum of the four Belle limits on B(B -> pi/rho X) x B(X -> invisible) (90 % CL)."""

    name = NAME
    citation = CITATION
    projection = False
    description = "Belle B -> pi/rho E_miss (b -> d nu nubar), four 90% CL limits summed"

    def __init__(self):
        super().__init__(load_data_file(DATA_FILE))
        self.data_file = DATA_FILE
