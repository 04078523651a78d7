"""Loading and validating a pyhf workspace (JSON, pyhf schema version 1.0.0).

A workspace that does not validate against the schema raises :class:`~xfit.errors.InputError`
with one line naming the schema path and message; an unreadable file raises
:class:`~xfit.errors.DataError`.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import DataError, InputError

#: The pyhf workspace schema version accepted.
SCHEMA_VERSION = "1.0.0"


def load_spec(path_or_spec) -> dict:
    """The workspace dict from a JSON file path or a dict, validated against the schema."""
    if isinstance(path_or_spec, dict):
        spec = path_or_spec
    else:
        path = Path(path_or_spec)
        try:
            text = path.read_text()
        except OSError as exc:
            raise DataError(f"workspace file {str(path)!r} cannot be read: {exc.strerror or exc}") from None
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"workspace file {str(path)!r} is not JSON: {exc.msg} at line {exc.lineno}") from None
    validate(spec)
    return spec


def validate(spec, digest: str | None = None) -> None:
    """Raise InputError (one line: schema path and message) unless ``spec`` is a valid workspace.

    A workspace whose content (sha256 ``digest`` of its canonical JSON, computed when not given)
    validated before, in this process or in an earlier one (see :mod:`.layout_cache`), is not
    validated again.
    """
    if not isinstance(spec, dict):
        raise InputError(f"a workspace must be a JSON object, got {type(spec).__name__}")
    version = spec.get("version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise InputError(f"workspace version {version!r} not supported; accepted: {SCHEMA_VERSION!r}")
    try:
        validate_schema(spec, digest)
    except Exception as exc:
        import pyhf.exceptions  # imported by the validation that raised

        if not isinstance(exc, pyhf.exceptions.InvalidSpecification):
            raise
        message = str(exc.parent.message).splitlines()[0]
        if len(message) > 200:
            message = message[:197] + "..."
        raise InputError(f"invalid workspace at {exc.path or '<root>'}: {message}") from None


def validate_schema(spec: dict, digest: str | None = None) -> None:
    """pyhf's schema validation of a workspace, ``pyhf.schema.validate(spec, "workspace.json")``
    at the version the spec declares (what ``pyhf.Workspace(spec)`` runs), raising pyhf's own
    exceptions; skipped for content (``digest``: sha256 of its canonical JSON, computed when not
    given) that validated before, in this process or an earlier one (see :mod:`.layout_cache`).

    Validation costs ~50 ms for a workspace of 200 parameters; then build pyhf objects with
    ``validate=False``."""
    from . import layout_cache

    digest = digest or layout_cache.spec_digest(spec)
    if layout_cache.validated(digest):
        return
    import pyhf

    pyhf.schema.validate(spec, "workspace.json", version=spec.get("version") or SCHEMA_VERSION)
    layout_cache.store_validated(digest)


def pyhf_workspace_and_model(spec: dict, measurement: str | None, poi: str | None, modifier_settings: dict,
                             digest: str | None = None):
    """(pyhf.Workspace, pyhf.Model) with the numpy backend; pyhf's errors become InputError.

    ``digest``: sha256 of the canonical JSON of ``spec`` if known (see :func:`validate`)."""
    import pyhf
    import pyhf.exceptions

    validate(spec, digest)
    names = [m["name"] for m in spec.get("measurements", [])]
    if measurement is not None and measurement not in names:
        raise InputError(f"measurement {measurement!r} not in the workspace; accepted: {', '.join(names)}")
    kwargs = {"modifier_settings": modifier_settings, "validate": False}  # its parts validated with the workspace
    if poi is not None:
        kwargs["poi_name"] = poi
    saved = pyhf.get_backend()
    try:
        pyhf.set_backend("numpy")  # the layout is read as numpy arrays
        ws = pyhf.Workspace(spec, validate=False)
        model = ws.model(measurement_name=measurement, **kwargs)
    except (pyhf.exceptions.InvalidModel, pyhf.exceptions.InvalidModifier, pyhf.exceptions.InvalidMeasurement,
            pyhf.exceptions.InvalidSpecification, pyhf.exceptions.InvalidWorkspaceOperation,
            AssertionError, KeyError, ValueError, IndexError, TypeError) as exc:
        # e.g. a staterror carried by a sample in some but not all of the staterror's channels
        first = (str(exc).splitlines() or [""])[0]
        raise InputError(f"pyhf cannot build a model from this workspace: {type(exc).__name__} {first}".rstrip()
                         ) from None
    finally:
        pyhf.set_backend(*saved)
    return ws, model


def from_workspace(path_or_spec, measurement: str | None = None, poi: str | None = None, **kwargs):
    """The :class:`~xfit.histfactory.HistFactoryModel` of any user workspace.

    ``path_or_spec``: a JSON file path or a workspace dict (pyhf schema 1.0.0);
    ``measurement``: its name (default: the first); ``poi``: overrides the measurement's POI;
    further keywords (``modifier_settings``, ``extra_samples``) go to the model.
    """
    from .model import HistFactoryModel

    return HistFactoryModel(load_spec(path_or_spec), measurement=measurement, poi=poi, **kwargs)
