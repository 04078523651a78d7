"""CLEO D+ -> pi+ E_miss, from the recast by Martin Camalich et al. (c -> u + invisible).

J. Martin Camalich, M. Pospelov, P. N. H. Vuong, R. Ziegler, J. Zupan, arXiv:2002.04623,
Phys. Rev. D 102 (2020) 015023, recast a CLEO D+ -> tau+ nu (tau+ -> pi+ nubar) search as a
limit on B(D+ -> pi+ a) for a massless axion; arXiv:2603.04394 (Sec. 3.2.4) applies it to a
light vector for m_X <~ 100 MeV (the CLEO missing-mass resolution), hence 0 <= m_X <= 0.1 GeV.

THE NUMBER IS NOT VERIFIED: 8.0e-6 (90 % CL) is the recast's value as remembered; the stored
copies searched here reached only the abstract of arXiv:2002.04623.  The term therefore refuses
to build unless ``allow_unverified=True`` (``get_term("cleo_d_to_pi", allow_unverified=True)``).
Numbers: data/limits/cleo_d_to_pi_recast.yaml.
"""
from __future__ import annotations

from xfit.datafiles import load_data_file
from xfit.errors import DataError
from xfit.likelihood import Citation, DataFileLimit, register_term

NAME = "cleo_d_to_pi"
DATA_FILE = "limits/cleo_d_to_pi_recast.yaml"
CITATION = Citation(
    "MartinCamalich:2020cleo",
    arxiv="2002.04623",
    journal="Phys. Rev. D 102 (2020) 015023",
    hepdata=None,
    note="recast of a CLEO D+ -> tau+ nu (tau -> pi nu) search as B(D+ -> pi+ a), m_a ~ 0; "
    "value NOT VERIFIED against the paper",
)


@register_term(NAME)
class CLEODToPi(DataFileLimit):
    """Half-Gaussian limit on B(D+ -> pi+ X) x B(X -> invisible), 0 <= m_X <= 0.1 GeV."""

    name = NAME
    citation = CITATION
    projection = False
    data_file = DATA_FILE

    def __init__(self, allow_unverified: bool = False, mass_range=None):
        d = load_data_file(DATA_FILE)
        (entry,) = d["limits"]
        self.verified = bool(d.get("verified", True))
        if not self.verified and not allow_unverified:
            raise DataError(
                f"{NAME}: the limit {entry['upper_limit']:g} in data file {DATA_FILE!r} is not "
                f"verified against arXiv:2002.04623 (see its notes); check it there and set "
                f"'verified: true', or build the term with allow_unverified=True"
            )
        super().__init__("CLEO D+ -> pi+ E_miss (recast, m_X <~ 100 MeV), 90% CL"
                         + ("" if self.verified else " [UNVERIFIED VALUE]"), mass_range=mass_range)
