"""BaBar: B -> K(*) E_miss, four 90 % CL upper limits from the B -> K(*) nu nubar search.

J. P. Lees et al. (BaBar), arXiv:1303.7465, Phys. Rev. D 87 (2013) 112005 (hadronic tag):

    B(B+ -> K+ X) < 3.7e-5,  B(B0 -> K0 X) < 8.1e-5,  B(B+ -> K*+ X) < 1.16e-4,
    B(B0 -> K*0 X) < 9.3e-5       (each times B(X -> invisible))

CAVEAT: BaBar's limits assume the SM three-body nu nubar spectrum; for a two-body B -> K(*) X
(a monochromatic kaon, q^2 = m_X^2) the efficiency differs, so these constant limits are only
indicative.  The two-body recast of Altmannshofer et al. (arXiv:2311.14629; ALPaca files
Babar_BtoK_bestfit.txt, Babar_BKstarinv.txt) is a best fit with a band, not a limit, and is
not implemented: ``recast=True`` raises an InputError explaining why
(data/limits/babar_b_to_k_nunu_2013.yaml, docs/data.md).  Each channel applies from m_X = 0
to m_B - m_K(*).  The numbers come from secondary sources and are marked for verification.
"""
from __future__ import annotations

from xfit.datafiles import load_data_file
from xfit.errors import InputError
from xfit.likelihood import Citation, MultiChannelLimits, register_term

NAME = "babar_b_to_k"
DATA_FILE = "limits/babar_b_to_k_nunu_2013.yaml"
CITATION = Citation(
    "BaBar:2013knunu",
    arxiv="1303.7465",
    journal="Phys. Rev. D 87 (2013) 112005",
    hepdata=None,
    note="hadronic-tag B->K(*) nu nubar limits (SM three-body spectrum) used as B->K(*) E_miss",
)

RECAST_REFUSAL = (
    f"{NAME}: recast=True (the two-body recast of BaBar by Altmannshofer et al., "
    "arXiv:2311.14629, digitised by ALPaca as Babar_BtoK_bestfit.txt / Babar_BKstarinv.txt) is "
    "not implemented: those files give a best-fit branching fraction with a 1-sigma band (lower "
    "edge clipped at 0), not an upper limit, so they need a two-sided likelihood rather than "
    "xfit's limit convention; the charge states they cover are not documented; and B -> K X "
    "data already enter the b_to_s_emiss term.  Use recast=False (the SM-spectrum limits)."
)

@register_term(NAME)
class BaBarBToK(MultiChannelLimits):
    """Sum of the four BaBar limits on B(B -> K(*) X) x B(X -> invisible) (90 % CL)."""

    name = NAME
    citation = CITATION
    projection = False
    description = "BaBar B -> K(*) E_miss (hadronic tag, SM-spectrum limits), four 90% CL limits summed"

    def __init__(self, recast: bool = False):
        if recast:
            raise InputError(RECAST_REFUSAL)
        super().__init__(load_data_file(DATA_FILE))
        self.recast = False
        self.data_file = DATA_FILE
