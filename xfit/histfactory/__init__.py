"""A general, fast HistFactory backend for any pyhf workspace (pyhf schema 1.0.0).

Nothing here knows about a particular analysis.  Modules, one job each:

* :mod:`.workspace` -- load and validate a workspace (:func:`from_workspace`);
* :mod:`.modifiers` -- registry of the modifier types; one module each (:mod:`.normfactor`,
  :mod:`.normsys`, :mod:`.histosys`, :mod:`.staterror`, :mod:`.shapesys`, :mod:`.shapefactor`,
  :mod:`.lumi`), with pyhf's interpolation codes;
* :mod:`.compile` -- spec -> index arrays (rows, entries, global/local parameters);
* :mod:`.constraints` -- Gaussian and Poisson constraint terms;
* :mod:`.evaluate` -- -ln L, exact gradient and block Hessian in one pass;
* :mod:`.blocks` -- block linear algebra (Schur complement over per-bin local blocks);
* :mod:`.minimizer` -- projected Newton with MIGRAD fallback, covariance;
* :mod:`.profile` -- many fits at many values of one parameter, advanced together;
* :mod:`.model` -- :class:`HistFactoryModel`, :class:`ExtraSample`.

See docs/histfactory.md.
"""
from .blocks import BlockSolver, HessianBlocks
from .minimizer import (
           MIGRAD_TOL,
           NEWTON_EDM,
           FitResult,
           covariance,
           minimize,
           numerical_hessian,
)
from .model import ExtraSample, HistFactoryModel
from .modifiers import INTERPOLATION_CODES, SUPPORTED_MODIFIERS
from .profile import ProfileFits
from .workspace import from_workspace, load_spec, validate

__all__ = [
           "INTERPOLATION_CODES",
           "MIGRAD_TOL",
           "NEWTON_EDM",
           "SUPPORTED_MODIFIERS",
           "BlockSolver",
           "ExtraSample",
           "FitResult",
           "HessianBlocks",
           "HistFactoryModel",
           "ProfileFits",
           "covariance",
           "from_workspace",
           "load_spec",
           "minimize",
           "numerical_hessian",
           "validate",
]
