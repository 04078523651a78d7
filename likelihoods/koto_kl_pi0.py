"""KOTO: K_L -> pi0 X with X invisible, 90 % CL upper limits versus m_X (2015 data).

J. K. Ahn et al. (KOTO), arXiv:1810.09655, Phys. Rev. Lett. 122 (2019) 021802, curve digitised
by ALPaca 1.2.0.  The main paper cites KOTO's 2021 data (arXiv:2411.11237, PRL 134 (2025)
081802); its B(K_L -> pi0 X) limits versus m_X were found only as a figure (the abstract gives
1.6e-9 at 135 MeV, versus 2.37e-9 for the 2015 curve), so this term uses the 2015 curve and is
conservative.  Interpolated linearly in log(limit), 0-0.2601 GeV.
Numbers: data/limits/koto_kl_pi0_2015.yaml.
"""
from __future__ import annotations

from xfit.errors import InputError
from xfit.likelihood import Citation, DataFileLimit, register_term

NAME = "koto_kl_pi0"
DATA_FILE = "limits/koto_kl_pi0_2015.yaml"
CITATION = Citation(
    "KOTO:2019klpi0",
    arxiv="1810.09655",
    journal="Phys. Rev. Lett. 122 (2019) 021802",
    hepdata=None,
    note="2015 data, digitised by ALPaca 1.2.0; KOTO 2021 (arXiv:2411.11237) not available as numbers",
)


@register_term(NAME)
class KOTOKLPi0(DataFileLimit):
    """Half-Gaussian limit on B(K_L -> pi0 X) x B(X -> invisible) along the KOTO curve."""

    name = NAME
    citation = CITATION
    projection = False
    data_file = DATA_FILE

    def __init__(self, dataset: str = "2015"):
        if dataset != "2015":
            raise InputError(
                f"{NAME}: only dataset='2015' is available (arXiv:1810.09655); the 2021-data "
                f"limits versus m_X (arXiv:2411.11237) are not in xfit's data files, got {dataset!r}"
            )
        super().__init__("KOTO K_L -> pi0 X (X invisible), 2015 data, 90% CL")
        self.dataset = dataset
