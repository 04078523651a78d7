"""Standard-Model inputs: the one place where every constant of xfit is defined.

Every number carries its unit and its source.  Physics functions take an
:class:`SMInputs` argument (default :data:`DEFAULT_SM`) so that a sensitivity study
replaces a constant with ``DEFAULT_SM.replace(m_t=172.57)`` instead of editing code.

Units: GeV for masses and widths, seconds for lifetimes.

Sources
-------
PDG 2024: S. Navas et al. (Particle Data Group), Phys. Rev. D 110 (2024) 030001.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

#: Reduced Planck constant in GeV s (PDG 2024, exact SI value of h / e).
HBAR_GEV_S = 6.582119569e-25


@dataclass(frozen=True)
class Meson:
    """A meson: PDG name, mass in GeV, mean lifetime in s (``None`` if not needed)."""

    name: str
    mass: float
    lifetime: float | None = None
    source: str = "PDG 2024"

    @property
    def width(self) -> float:
        """Total width in GeV, from the lifetime (Gamma = hbar / tau)."""
        if self.lifetime is None:
            raise ValueError(f"meson {self.name} has no lifetime in xfit's tables")
        return HBAR_GEV_S / self.lifetime


#: Mesons of Table 4 of arXiv:2603.04394 (PDG 2024 masses and lifetimes).
MESONS: dict[str, Meson] = {
    m.name: m
    for m in (
        Meson("K+", 0.493677, 1.2380e-8),
        Meson("K0", 0.497611),
        Meson("KL", 0.497611, 5.116e-8),
        Meson("pi+", 0.13957039),
        Meson("pi0", 0.1349768),
        Meson("D+", 1.86966, 1.033e-12),
        Meson("B+", 5.27934, 1.638e-12),
        Meson("B0", 5.27966, 1.517e-12),
        Meson("rho+", 0.77511),  # PDG 2024 rho(770)+- mass, tau-decay/e+e- average
        Meson("rho0", 0.77526),  # PDG 2024 rho(770)0 mass (e+e- average)
        Meson("K*+", 0.89167),  # PDG 2024 K*(892)+- hadroproduced
        Meson("K*0", 0.89555),  # PDG 2024 K*(892)0
    )
}


#: Normalisations of the W-loop coupling g_xi (Eqs. 3.6-3.7), as a factor on the printed
#: equations.  ``derived``: the one-loop W exchange computed from the operator of Eq. (3.4),
#: which is half of Eq. (3.6) as printed (derivation and numerical check in docs/physics.md,
#: "The W-loop coupling"; it agrees with the ALP-EFT matching of Bauer et al.,
#: arXiv:2012.12272).  ``paper``: Eq. (3.6) exactly as printed in arXiv:2603.04394.
LOOP_NORMALISATIONS: dict[str, float] = {"derived": 0.5, "paper": 1.0}
#: The default: what the derivation supports.
DEFAULT_LOOP_NORMALISATION = "derived"

#: 1/alpha(0), the Thomson-limit fine-structure constant (PDG 2024 physical constants,
#: CODATA 2022): 137.035999177(21).
ALPHA_0_INV = 137.035999177
#: Schemes for the electroweak couplings g = e/s_W and g' = e/c_W (the W loop of Eq. 3.6 and
#: Eq. 3.13): ``mz``: e from the MS-bar alpha(m_Z) (the default, the natural scale of a W loop);
#: ``alpha0``: e from alpha(0), which the paper's numbers correspond to (docs/physics.md,
#: "What moves the extracted g_X").  s_W^2 is the MS-bar value in both.
EW_SCHEMES: dict[str, str] = {"mz": "alpha_mz_inv", "alpha0": "alpha_0_inv"}
DEFAULT_EW_SCHEME = "mz"


@dataclass(frozen=True)
class SMInputs:
    """Standard-Model parameters used by the physics core (all PDG 2024 unless noted), and the
    normalisation convention of the loop-induced flavour-changing couplings.

    Attributes
    ----------
    G_F : Fermi constant [GeV^-2].
    alpha_mz_inv : 1/alpha(m_Z) in the MS-bar scheme, 127.930(8).
    sin2w : MS-bar s_W^2(m_Z) = 0.23129(4).  g and g' follow from alpha(m_Z) and s_W^2
        (g = e/s_W, g' = e/c_W), so that s_W = g'/sqrt(g^2+g'^2) exactly as in Eq. (3.13).
    m_W, m_Z, Gamma_Z : W and Z masses, Z total width [GeV].
    m_t : top mass in the loop function F(m_t^2/m_W^2) of Eq. (3.6): MS-bar m_t(m_t)
        = 162.5 GeV (PDG 2024, from the t-tbar cross section), the conventional choice for
        short-distance loop functions.  The pole mass 172.57 GeV lowers the extracted g_X
        by about 6 % (see docs/physics.md).
    m_b, m_c : MS-bar m_b(m_b) = 4.183 GeV and m_c(m_c) = 1.2730 GeV.
    m_s, m_d, m_u : MS-bar masses at 2 GeV: 93.5, 4.70 and 2.16 MeV.
    m_e, m_mu, m_tau : charged-lepton pole masses.
    ckm_lambda, ckm_A, ckm_rhobar, ckm_etabar : Wolfenstein parameters of the PDG 2024
        global fit (CKM review, Eq. 12.27): 0.22501, 0.826, 0.1591, 0.3523.
    loop_normalisation : ``"derived"`` (default) or ``"paper"``: the normalisation of the
        W-loop coupling g_xi, see :data:`LOOP_NORMALISATIONS`.  Every rate of a meson decay
        scales with its square; Z -> gamma X does not depend on it.
    goldstone : ``False`` (default): meson-decay rates of a massive vector X, summed over its
        three helicities (docs/physics.md, "Beyond the Goldstone limit"); ``True``: the
        Goldstone-equivalent rates Eqs. (3.9)/(3.10) of the paper (longitudinal X only,
        valid for m_X << m_parent), which the paper uses.
    alpha_0_inv : 1/alpha(0) (PDG 2024 / CODATA 2022), used by ``ew_scheme="alpha0"``.
    ew_scheme : ``"mz"`` (default) or ``"alpha0"``: which alpha fixes e, hence g and g'
        (see :data:`EW_SCHEMES`).  Meson rates scale with alpha^4 (g^8), B(Z -> gamma X)
        with alpha^2.

    Any of the numeric fields may be a numpy array (a batch of Monte Carlo draws, see
    :mod:`xfit.uncertainties`); :attr:`is_batch` tells, and the cached CKM/loop functions are
    bypassed for such inputs.
    """

    G_F: float = 1.1663788e-5
    alpha_mz_inv: float = 127.930
    sin2w: float = 0.23129
    m_W: float = 80.3692
    m_Z: float = 91.1880
    Gamma_Z: float = 2.4955
    m_t: float = 162.5
    m_b: float = 4.183
    m_c: float = 1.2730
    m_s: float = 0.0935
    m_d: float = 0.00470
    m_u: float = 0.00216
    m_e: float = 0.51099895e-3
    m_mu: float = 0.1056583755
    m_tau: float = 1.77693
    ckm_lambda: float = 0.22501
    ckm_A: float = 0.826
    ckm_rhobar: float = 0.1591
    ckm_etabar: float = 0.3523
    loop_normalisation: str = DEFAULT_LOOP_NORMALISATION
    goldstone: bool = False
    alpha_0_inv: float = ALPHA_0_INV
    ew_scheme: str = DEFAULT_EW_SCHEME
    mesons: dict = field(default_factory=lambda: dict(MESONS), compare=False, repr=False)

    def __post_init__(self):
        from ..errors import InputError

        if self.loop_normalisation not in LOOP_NORMALISATIONS:
            raise InputError(f"loop_normalisation (--loop-normalisation) must be one of "
                             f"{', '.join(LOOP_NORMALISATIONS)}; got {str(self.loop_normalisation)[:80]!r}")
        if not isinstance(self.goldstone, (bool, np.bool_)):
            raise InputError(f"goldstone (--goldstone) must be true or false; got {str(self.goldstone)[:80]!r}")
        if self.ew_scheme not in EW_SCHEMES:
            raise InputError(f"ew_scheme (--ew-scheme) must be one of {', '.join(EW_SCHEMES)}; "
                             f"got {str(self.ew_scheme)[:80]!r}")

    @property
    def is_batch(self) -> bool:
        """True if some numeric input is an array (a batch of draws): not hashable, not cached."""
        return any(isinstance(getattr(self, f.name), np.ndarray) for f in dataclasses.fields(self))

    @property
    def loop_factor(self) -> float:
        """Factor on Eqs. (3.6)-(3.7) as printed: 1/2 (derived) or 1 (paper)."""
        return LOOP_NORMALISATIONS[self.loop_normalisation]

    # --- derived electroweak couplings -------------------------------------------------
    @property
    def alpha_mz(self) -> float:
        return 1.0 / self.alpha_mz_inv

    @property
    def alpha_ew(self) -> float:
        """The alpha that fixes e, g and g': alpha(m_Z) (``ew_scheme="mz"``) or alpha(0)."""
        return 1.0 / getattr(self, EW_SCHEMES[self.ew_scheme])

    @property
    def e(self) -> float:
        """Electromagnetic coupling e = sqrt(4 pi alpha) in the scheme ``ew_scheme``
        (alpha(m_Z) by default)."""
        return np.sqrt(4.0 * math.pi * self.alpha_ew)

    @property
    def cos2w(self) -> float:
        return 1.0 - self.sin2w

    @property
    def g(self) -> float:
        """SU(2)_L coupling g = e / s_W."""
        return self.e / np.sqrt(self.sin2w)

    @property
    def g_prime(self) -> float:
        """Hypercharge coupling g' = e / c_W."""
        return self.e / np.sqrt(self.cos2w)

    def meson(self, name: str) -> Meson:
        try:
            return self.mesons[name]
        except KeyError:
            raise KeyError(
                f"unknown meson {name!r}; known: {', '.join(sorted(self.mesons))}"
            ) from None

    def replace(self, **changes) -> SMInputs:
        """A copy with some inputs changed, e.g. ``DEFAULT_SM.replace(m_t=172.57)``."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(
                f"unknown SM input(s) {sorted(unknown)}; accepted: "
                + ", ".join(f.name for f in dataclasses.fields(self) if f.name != "mesons")
            )
        return dataclasses.replace(self, **changes)


#: The default inputs used everywhere unless a caller passes its own.
DEFAULT_SM = SMInputs()

#: X_t, the top-loop function of the SM b -> s nu nubar Wilson coefficient, with NLO QCD and
#: two-loop electroweak corrections: X_t = 1.469 +- 0.017 (as used by Buras, Girrbach-Noe,
#: Niehoff, Straub, arXiv:1409.4557).  Dimensionless.
X_T = 1.469
#: C_L^SM = -X_t / s_W^2 (arXiv:1409.4557), the SM Wilson coefficient of b -> s nu nubar, with
#: the MS-bar s_W^2(m_Z) of DEFAULT_SM: -6.351.  Dimensionless.
C_L_SM = -X_T / DEFAULT_SM.sin2w

#: Top pole mass, PDG 2024 average of direct measurements (for sensitivity studies).
M_TOP_POLE = 172.57
