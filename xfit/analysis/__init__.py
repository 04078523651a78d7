"""Analyses as files: one YAML file per figure or study, run by ``xfit run FILE``.

* :mod:`.schema` — every key, its type, default and meaning (:data:`SCHEMA`); the tables
  of docs/inference.md are generated from it (:func:`schema_markdown`);
* :mod:`.validation` — :func:`load_analysis` reads and validates a file into an
  :class:`Analysis` (an invalid file raises :class:`xfit.errors.InputError` with a one-line
  message naming the file, the bad key and the accepted keys or values);
* :mod:`.running` — :func:`run_analysis` runs it (``scan``, ``limits`` or ``reproduce``) and
  writes its outputs.

The model of an analysis is the mapping of :func:`xfit.models.build_model`.
"""
from .running import run_analysis
from .schema import KINDS, SCHEMA, Key, schema_markdown
from .validation import Analysis, load_analysis, range_values, validate_analysis

__all__ = ["SCHEMA", "Key", "KINDS", "schema_markdown", "Analysis", "load_analysis", "validate_analysis",
           "range_values", "run_analysis"]
