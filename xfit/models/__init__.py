"""Models: a model maps (m_X, its parameters) to the full set of predictions.

* :class:`ChargeModel` — U(1)_X charges of the SM fields (vector, chiral tau, general
  table); one parameter, g_X.
* :class:`EFTPlane` — the Wess-Zumino plane (g_X A_XWW, g_X A_XYY) at fixed m_X.
* :class:`ChiralPlane` — the chiral-tau plane (alpha_L g_X, alpha_R g_X).
* named benchmarks: :func:`get_model` ("tau-flavor", "L-only", "L=-4R", "baryon",
  "electron", "muon").
* :func:`build_model` — any of these from a plain mapping (what the CLI and analysis files use);
  :meth:`Model.describe` — what a model is, as plain data.
"""
from .base import Model
from .builder import MODEL_KINDS, build_model
from .charges import ChargeModel
from .planes import ChiralPlane, EFTPlane, WessZuminoModel
from .registry import BENCHMARKS, available_models, get_model

__all__ = ["MODEL_KINDS", "build_model", "Model", "ChargeModel", "EFTPlane", "ChiralPlane", "WessZuminoModel",
           "BENCHMARKS", "available_models", "get_model"]
