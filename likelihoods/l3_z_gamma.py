"""L3: Z -> gamma + invisible at the Z pole, B(Z -> gamma X) B(X -> invisible) < 1.0e-6 (95 % CL).

M. Acciarri et al. (L3), Phys. Lett. B 412 (1997) 201 (137 pb^-1), as used in Eq. (3.15) of
arXiv:2603.04394.  L3 searched for a single energetic photon plus missing energy, so the
constrained rate is B(Z -> gamma X) x B(X -> invisible).  xfit applies the limit for
0 <= m_X <= 10 GeV, where the photon line moves by at most 1.2 % from the massless case
(reasoning and caveats in data/limits/l3_z_gamma.yaml and docs/data.md).
"""
from __future__ import annotations

from xfit.likelihood import Citation, DataFileLimit, register_term

NAME = "l3_z_gamma"
DATA_FILE = "limits/l3_z_gamma.yaml"
CITATION = Citation(
    "L3:1997zgamma",
    arxiv=None,
    journal="Phys. Lett. B 412 (1997) 201",
    hepdata=None,
    note="B(Z->gamma X) B(X->inv) < 1.0e-6 at 95% CL, as quoted in Eq. (3.15) of arXiv:2603.04394",
)


@register_term(NAME)
class L3ZGamma(DataFileLimit):
    """Half-Gaussian limit on B(Z -> gamma X) x B(X -> invisible) (95 % CL)."""

    name = NAME
    citation = CITATION
    projection = False
    data_file = DATA_FILE

    def __init__(self, mass_range=None):
        super().__init__("L3 Z -> gamma + E_miss at LEP1: B(Z->gamma X) B(X->inv) < 1e-6 (95% CL)", mass_range=mass_range)
