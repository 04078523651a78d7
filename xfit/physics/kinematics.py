"""Two-body kinematics."""
from __future__ import annotations

import numpy as np


def kallen(a, b, c):
    """Kallen function lambda(a, b, c) = a^2 + b^2 + c^2 - 2ab - 2ac - 2bc."""
    return a * a + b * b + c * c - 2 * a * b - 2 * a * c - 2 * b * c


def two_body_momentum(m_parent, m1, m2):
    """|k| = lambda^{1/2}(M^2, m1^2, m2^2) / (2M); 0 where the decay is closed."""
    lam = kallen(np.asarray(m_parent, float) ** 2, np.asarray(m1, float) ** 2, np.asarray(m2, float) ** 2)
    return np.sqrt(np.clip(lam, 0.0, None)) / (2.0 * m_parent)
