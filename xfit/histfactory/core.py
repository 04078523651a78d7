"""Former single-module HistFactory backend; kept as an alias of :mod:`xfit.histfactory`."""
from . import *
from . import __all__  # noqa: F401
