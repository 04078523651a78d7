"""Loading and validating a pyhf workspace (JSON, pyhf schema version 1.0.0).

A workspace that does not validate against the schema raises :class:`~xfit.errors.InputError`
with one line naming the schema path and message; an unreadable file raises
:class:`~xfit.errors.DataError`.
"""
from __future__ import annotations

import hashlib
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


#: sha256 of ``repr`` of every workspace that passed :func:`validate` in this process: the
#: schema check is a pure function of the content (``repr`` tells list from tuple, 1 from 1.0)
#: and takes ~0.05 s for a workspace of ~200 parameters, which a session may build into
#: models many times.
_VALID_DIGESTS: set[str] = set()


def _content_digest(spec: dict) -> str:
    return hashlib.sha256(repr(spec).encode()).hexdigest()


def validate(spec) -> None:
    """Raise InputError (one line: schema path and message) unless ``spec`` is a valid workspace."""
    import pyhf
    import pyhf.exceptions

    if not isinstance(spec, dict):
        raise InputError(f"a workspace must be a JSON object, got {type(spec).__name__}")
    version = spec.get("version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise InputError(f"workspace version {version!r} not supported; accepted: {SCHEMA_VERSION!r}")
    digest = _content_digest(spec)
    if digest in _VALID_DIGESTS:
        return
    try:
        pyhf.schema.validate(spec, "workspace.json", version=SCHEMA_VERSION)
    except pyhf.exceptions.InvalidSpecification as exc:
        message = str(exc.parent.message).splitlines()[0]
        if len(message) > 200:
            message = message[:197] + "..."
        raise InputError(f"invalid workspace at {exc.path or '<root>'}: {message}") from None
    _VALID_DIGESTS.add(digest)


def pyhf_workspace_and_model(spec: dict, measurement: str | None, poi: str | None, modifier_settings: dict):
    """(pyhf.Workspace, pyhf.Model) with the numpy backend; pyhf's errors become InputError."""
    import pyhf
    import pyhf.exceptions

    validate(spec)
    names = [m["name"] for m in spec.get("measurements", [])]
    if measurement is not None and measurement not in names:
        raise InputError(f"measurement {measurement!r} not in the workspace; accepted: {', '.join(names)}")
    kwargs = {"modifier_settings": modifier_settings}
    if poi is not None:
        kwargs["poi_name"] = poi
    saved = pyhf.get_backend()
    try:
        pyhf.set_backend("numpy")  # the layout is read as numpy arrays
        ws = pyhf.Workspace(spec, validate=False)
        # the model's channels and parameters are parts of the workspace validated above:
        # pyhf's own check of them against model.json would repeat the same schema definitions
        model = ws.model(measurement_name=measurement, validate=False, **kwargs)
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
