"""Tables of light Weyl fields with U(1)_X charges, read from YAML files people write.

File format (``xfit predict --fields FILE.yaml``)::

    fields:
      - {name: q, chirality: L, su2: 2, Y: "1/6", X: "1/3", colour: 3, copies: 3}
      - {name: e_tau, chirality: R, su2: 1, Y: "-1", X: 1}

Keys of a field: ``name``, ``chirality`` (L or R), ``su2`` (dimension of the SU(2)_L
representation), ``Y`` (hypercharge, Q = T3 + Y), ``X`` (U(1)_X charge), ``colour`` (SU(3)_C
multiplicity, default 1), ``copies`` (generations, default 1) and, for a lepton of one
generation, ``flavour`` (e, mu or tau; otherwise read from the name: ``e_tau``, ``l_mu``,
``L^e``).  Numbers may be integers, decimals or fraction strings ("1/6"); they are kept exact.
Fields not listed carry X = 0 and do not contribute.

:func:`sm_charges_of` recognises the SM fermions by their quantum numbers and, when the
charged ones are SM fermions with X = alpha_B B + (alpha_L, alpha_R) per lepton flavour,
returns those charges -- what B(X -> invisible) is computed from
(:func:`xfit.physics.x_decay.invisible_branching_ratio`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

from ..errors import InputError, to_fraction
from ..physics.anomaly import LEPTON_FLAVOURS, WeylField

FIELD_KEYS = ("name", "chirality", "su2", "Y", "X", "colour", "copies", "flavour")
REQUIRED_KEYS = ("chirality", "su2", "Y", "X")
N_GENERATIONS = 3

#: SM fermions by (chirality, SU(2) dimension, hypercharge, colour).
SM_ROLES: dict[tuple[str, int, Fraction, int], str] = {
    ("L", 2, Fraction(1, 6), 3): "q",
    ("R", 1, Fraction(2, 3), 3): "u",
    ("R", 1, Fraction(-1, 3), 3): "d",
    ("L", 2, Fraction(-1, 2), 1): "l",
    ("R", 1, Fraction(-1), 1): "e",
}


def _number(value, where: str) -> Fraction:
    """An exact charge: int, decimal (its shortest repr: 0.1 -> 1/10) or fraction string."""
    return to_fraction(value, where)


def _positive_int(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{where} must be an integer >= 1, got {str(value)[:80]!r}")
    return value


def parse_field(spec, index: int, source: str = "") -> tuple[WeylField, str | None]:
    """One entry of ``fields``: the WeylField and its declared ``flavour`` (or None)."""
    where = f"{source}: fields[{index}]" if source else f"fields[{index}]"
    if not isinstance(spec, dict):
        raise InputError(f"{where} must be a mapping with keys among {', '.join(FIELD_KEYS)}, "
                         f"got {str(spec)[:80]!r}")
    unknown = [k for k in spec if k not in FIELD_KEYS]
    if unknown:
        raise InputError(f"{where}: unknown key {str(unknown[0])[:80]!r}; accepted: {', '.join(FIELD_KEYS)}")
    missing = [k for k in REQUIRED_KEYS if k not in spec]
    if missing:
        raise InputError(f"{where} lacks {', '.join(missing)}; required: {', '.join(REQUIRED_KEYS)}")
    name = spec.get("name", f"field{index}")
    if not isinstance(name, str) or not name:
        raise InputError(f"{where}: name must be a non-empty string, got {str(name)[:80]!r}")
    where = f"{where} ({name[:40]})"
    chir = spec["chirality"]
    if chir not in ("L", "R"):
        raise InputError(f"{where}: chirality must be L or R, got {str(chir)[:80]!r}")
    flavour = spec.get("flavour")
    if flavour is not None and flavour not in LEPTON_FLAVOURS:
        raise InputError(f"{where}: flavour must be one of {', '.join(LEPTON_FLAVOURS)}, got {str(flavour)[:80]!r}")
    field = WeylField(name, chir, _positive_int(spec["su2"], f"{where}: su2"), _number(spec["Y"], f"{where}: Y"),
                      _number(spec["X"], f"{where}: X"), N=_positive_int(spec.get("colour", 1), f"{where}: colour"),
                      copies=_positive_int(spec.get("copies", 1), f"{where}: copies"))
    return field, flavour


def parse_field_table(doc, source: str = "") -> tuple[list[WeylField], dict[str, str]]:
    """A parsed document ``{"fields": [...]}``: the fields and {field name: declared flavour}."""
    pre = f"{source}: " if source else ""
    if not isinstance(doc, dict) or set(doc) - {"fields", "description"}:
        raise InputError(f"{pre}expected a mapping with 'fields' (a list of fields) and optionally 'description'")
    specs = doc.get("fields")
    if not isinstance(specs, list) or not specs:
        raise InputError(f"{pre}'fields' must be a non-empty list of fields, got {str(specs)[:80]!r}")
    parsed = [parse_field(s, i, source) for i, s in enumerate(specs)]
    names = [f.name for f, _ in parsed]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise InputError(f"{pre}field name {dup[:80]!r} appears twice; names must be unique")
    return [f for f, _ in parsed], {f.name: fl for f, fl in parsed if fl is not None}


def read_field_table(path: str | Path) -> tuple[list[WeylField], dict[str, str]]:
    """Read a field-table file (module docstring) with the safe YAML loader."""
    from ..yamlio import load_yaml

    return parse_field_table(load_yaml(path), str(path))


def field_model(path: str | Path, **kw):
    """The :class:`~xfit.models.ChargeModel` of a field-table file (``xfit predict --fields``)."""
    from .charges import ChargeModel

    fields, flavours = read_field_table(path)
    fields = [_with_flavour_name(f, flavours.get(f.name)) for f in fields]
    return ChargeModel.from_fields(fields, name=f"fields:{Path(path).name}", **kw)


def _with_flavour_name(f: WeylField, flavour: str | None) -> WeylField:
    """Carry a declared flavour in the name (``name[tau]``) for :func:`sm_charges_of`."""
    if flavour is None:
        return f
    return WeylField(f"{f.name}[{flavour}]", f.chirality, f.n, f.Y, f.X, N=f.N, copies=f.copies)


def flavour_of(name: str) -> str | None:
    """The lepton flavour a field name refers to: ``[tau]`` suffix, else the last of e/mu/tau
    among the name's parts (``e_tau`` -> tau, ``l_L^mu`` -> mu, ``e`` -> e); None if none."""
    m = re.search(r"\[(e|mu|tau)\]$", name)
    if m:
        return m.group(1)
    tokens = [t for t in re.split(r"[^A-Za-z0-9]+", name) if t in LEPTON_FLAVOURS]
    return tokens[-1] if tokens else None


def sm_charges_of(fields: Iterable[WeylField]):
    """``((alpha_B, {flavour: (alpha_L, alpha_R)}), "")`` if the charged fields are SM fermions
    with charges alpha_B B + chiral lepton charges per flavour, else ``(None, reason)``."""
    quark: dict[str, dict[int, Fraction]] = {"q": {}, "u": {}, "d": {}}
    lepton: dict[str, dict[str, Fraction]] = {"l": {}, "e": {}}
    seen: dict[str, int] = {}
    for f in fields:
        role = SM_ROLES.get((f.chirality, int(f.n), Fraction(f.Y), int(f.N)))
        if role is None:
            if f.X != 0:
                return None, f"field {f.name} (su2 {f.n}, Y {f.Y}, colour {f.N}) is not an SM fermion"
            continue
        seen[role] = seen.get(role, 0) + f.copies
        if seen[role] > N_GENERATIONS:
            return None, f"more than {N_GENERATIONS} generations of {role}-type fields"
        X = Fraction(f.X)
        if role in quark:
            if f.copies == N_GENERATIONS:
                quark[role].update({g: X for g in range(N_GENERATIONS)})
            else:
                return None, f"quark field {f.name} is not given for all {N_GENERATIONS} generations (copies: 3)"
            continue
        if f.copies == N_GENERATIONS:
            flavs = list(LEPTON_FLAVOURS)
        elif f.copies == 1 and flavour_of(f.name) is not None:
            flavs = [flavour_of(f.name)]
        else:
            return None, f"lepton field {f.name}: flavour unknown (give flavour: e, mu or tau, or copies: 3)"
        for fl in flavs:
            if fl in lepton[role]:
                return None, f"two {role}-type fields for flavour {fl}"
            lepton[role][fl] = X
    qx = {quark[r].get(g, Fraction(0)) for r in quark for g in range(N_GENERATIONS)}
    if len(qx) > 1:
        return None, "the quark charges are not those of baryon number (q, u_R, d_R with one common X)"
    alpha_B = 3 * qx.pop()
    leptons = {fl: (lepton["l"].get(fl, Fraction(0)), lepton["e"].get(fl, Fraction(0))) for fl in LEPTON_FLAVOURS}
    leptons = {fl: pair for fl, pair in leptons.items() if pair != (0, 0)}
    if alpha_B != 0 and leptons:
        return None, "X couples to quarks and leptons (hadronic width of X not modelled)"
    if alpha_B == 0 and not leptons:
        return None, "X couples to none of the SM fermions"
    return (alpha_B, leptons), ""
