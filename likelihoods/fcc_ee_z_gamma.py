"""FCC-ee projection for Z -> gamma + invisible: B(Z -> gamma X) B(X -> invisible) < 2e-11.

A PROJECTION, not a measurement (``projection = True``): fits of current data leave it out.
150 ab^-1 at the Z pole; 2e-11 from Ref. [42] of arXiv:2603.04394 (Sec. 3.2.1), or the
naive luminosity scaling of its Eq. (3.16), 2.5e-11 (``estimate="naive"``).  The confidence
level is not stated there; 95 % is assumed since Eq. (3.16) scales the 95 % CL L3 limit.
Numbers and caveats: data/limits/fcc_ee_z_gamma.yaml.
"""
from __future__ import annotations

from xfit.datafiles import load_data_file
from xfit.errors import InputError
from xfit.likelihood import Citation, DataFileLimit, register_term

NAME = "fcc_ee_z_gamma"
DATA_FILE = "limits/fcc_ee_z_gamma.yaml"
CITATION = Citation(
    "DiLuzio:2026fccproj",
    arxiv="2603.04394",
    journal=None,
    hepdata=None,
    note="FCC-ee projection (150 ab^-1) quoted in Sec. 3.2.1 / Eq. (3.16), from its Ref. [42]; not a measurement",
)
ESTIMATES = ("ref42", "naive")


@register_term(NAME)
class FCCeeZGamma(DataFileLimit):
    """Projected half-Gaussian limit on B(Z -> gamma X) x B(X -> invisible) at FCC-ee."""

    name = NAME
    citation = CITATION
    #: A future-collider projection: excluded from fits of current data by default.
    projection = True
    data_file = DATA_FILE

    def __init__(self, estimate: str = "ref42", mass_range=None):
        if estimate not in ESTIMATES:
            raise InputError(f"{NAME}: estimate must be one of {ESTIMATES}, got {estimate!r}")
        alternative = None
        if estimate != "ref42":
            alternative = float(load_data_file(DATA_FILE)["alternatives"]["naive_scaling"])
        super().__init__("FCC-ee projection (150 ab^-1) of B(Z->gamma X) B(X->inv) (95% CL assumed)",
                         mass_range=mass_range, upper_limit=alternative)
        self.estimate = estimate
