"""xfit: statistical inference on light vectors X coupled to electroweak-anomalous currents.

Data flows one way: model (:mod:`xfit.models`) -> predictions (:mod:`xfit.predictions`)
-> likelihood terms (:mod:`xfit.likelihood`, :mod:`xfit.likelihoods`) -> inference
(:mod:`xfit.inference`) -> results and plots.
"""
from pathlib import Path as _Path

__version__ = "0.1.0"

# In an installed xfit the repository folders `likelihoods/` and `data/` are the
# sub-packages `xfit.likelihoods` and `xfit.data` (see pyproject.toml).  In a source
# checkout (tests run from the repository root) they are siblings of this folder: let the
# package look there too, so both layouts import the same names.
_repo = _Path(__file__).resolve().parent.parent
if (_repo / "pyproject.toml").is_file() and (_repo / "likelihoods" / "__init__.py").is_file():
    __path__.append(str(_repo))  # noqa: F821  (package __path__)
del _Path, _repo
