"""Helicity amplitudes of P -> P' X and P -> V X for a massive vector X coupled to a quark current.

The amplitudes H_lambda are the hadronic matrix elements of the V - A current
<M(k)| qbar' gamma^mu (1 - gamma5) q |P(p)> contracted with the polarisation vectors
eps*_mu(lambda) of X (q = p - k, q^2 = m_X^2), in the P rest frame and for the daughter's
helicity equal to X's.  lambda = +, -, 0 are the three physical helicities of a massive X;
t is the timelike (scalar) projection q_mu/sqrt(q^2), the only one a Goldstone boson (the
longitudinal X of the equivalence theorem) sees.  Conventions and derivation in
docs/physics.md, "Beyond the Goldstone limit":

    P -> P':  H_0 = lambda^(1/2) f_+(q^2) / sqrt(q^2),   H_t = (m_P^2 - m_P'^2) f_0(q^2) / sqrt(q^2)
    P -> V:   H_+- = (m_P + m_V) A_1 -+ lambda^(1/2) V / (m_P + m_V)
              H_0  = 8 m_P m_V A_12 / sqrt(q^2)
              H_t  = lambda^(1/2) A_0 / sqrt(q^2)

with lambda = lambda(m_P^2, m_daughter^2, q^2) (Kallen) and the form factors of BSZ
(arXiv:1503.05534, Eqs. 2-4 and 14-16) for vector daughters.  The overall phases are
irrelevant: only |H|^2 enter the rates.  The sign of the V term in H_+- depends on the
epsilon-tensor convention and only exchanges H_+ and H_-.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .kinematics import kallen


class HelicityAmplitudes(NamedTuple):
    """H_0, H_+, H_-, H_t (GeV), arrays of a common shape."""

    zero: np.ndarray
    plus: np.ndarray
    minus: np.ndarray
    time: np.ndarray

    @property
    def massive_sum(self):
        """|H_0|^2 + |H_+|^2 + |H_-|^2: the polarisation sum of a massive vector X."""
        return np.abs(self.zero) ** 2 + np.abs(self.plus) ** 2 + np.abs(self.minus) ** 2

    @property
    def longitudinal_fraction(self):
        """F_L = |H_0|^2 / (|H_0|^2 + |H_+|^2 + |H_-|^2)."""
        return np.abs(self.zero) ** 2 / self.massive_sum


def pseudoscalar_daughter(m_parent, m_daughter, q2, f_plus, f_zero) -> HelicityAmplitudes:
    """Helicity amplitudes of P -> P' X from f_+ and f_0 at q^2 = m_X^2 (GeV^2).

    Only H_0 (massive X) and H_t (Goldstone limit) exist: a spin-0 daughter has helicity 0.
    """
    q2 = np.asarray(q2, dtype=float)
    root_q2 = np.sqrt(q2)
    lam = np.clip(kallen(m_parent**2, m_daughter**2, q2), 0.0, None)
    zero = np.sqrt(lam) * f_plus / root_q2
    time = (m_parent**2 - m_daughter**2) * f_zero / root_q2
    none = np.zeros(np.shape(zero))
    return HelicityAmplitudes(zero, none, none, time)


def vector_daughter(m_parent, m_vector, q2, V, A1, A12, A0) -> HelicityAmplitudes:
    """Helicity amplitudes of P -> V X from the BSZ form factors V, A_1, A_12, A_0 at q^2 = m_X^2."""
    q2 = np.asarray(q2, dtype=float)
    root_q2 = np.sqrt(q2)
    root_lam = np.sqrt(np.clip(kallen(m_parent**2, m_vector**2, q2), 0.0, None))
    m_sum = m_parent + m_vector
    axial = m_sum * A1
    vector = root_lam * V / m_sum
    zero = 8.0 * m_parent * m_vector * A12 / root_q2
    time = root_lam * A0 / root_q2
    return HelicityAmplitudes(zero, axial - vector, axial + vector, time)
