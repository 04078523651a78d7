"""A field content to check: SM charges plus extra Weyl fields (anomalons, singlets, ...).

The SM part is Eq. (1.1) of arXiv:2603.04394 (vector charges alpha_B, alpha_e, alpha_mu,
alpha_tau) or Eq. (2) of the chiral-tau paper (chiral tau charges alpha_L, alpha_R); the
extra fields are :class:`xfit.physics.anomaly.WeylField` objects.  Colour multiplicity N is
the dimension of the SU(3)_C representation; its Dynkin index T(N), needed for Eq. (A.21),
comes from :data:`DYNKIN_INDEX` or an explicit ``dynkin`` entry.

YAML schema (documented in docs/anomalons.md)::

    sm:                      # optional; all keys optional, default 0
      alpha_B: 0             # vector charges (Eq. 1.1) ...
      alpha_tau: 1
      # ... or chiral tau charges (chiral paper, Eq. 2): alpha_L, alpha_R (not with alpha_tau)
    fields:
      - {name: A_L, chirality: L, n: 2, Y: 1/2, X: "1/12"}
      - {name: N1,  chirality: R, n: 1, Y: 0,   X: 1}
      # optional per field: color (SU(3) dimension, default 1), dynkin (T, overrides the
      # table), copies (default 1)

Numbers may be ints, decimals or fraction strings; they are kept exact.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import InputError
from ..physics.anomaly import LEPTON_FLAVOURS, WeylField, sm_fields
from .rational import fraction_str, to_fraction

#: Dynkin index T(R) of SU(3) irreps by dimension, normalised to T(3) = 1/2.  ("15" is the
#: (2,1) irrep; use an explicit ``dynkin`` for 15' = (4,0), T = 35/2.)
DYNKIN_INDEX: dict[int, Fraction] = {
    1: Fraction(0), 3: Fraction(1, 2), 6: Fraction(5, 2), 8: Fraction(3), 10: Fraction(15, 2),
    15: Fraction(10), 21: Fraction(35), 24: Fraction(25), 27: Fraction(27),
}

SM_VECTOR_KEYS = ("alpha_B", "alpha_e", "alpha_mu", "alpha_tau")
SM_CHIRAL_KEYS = ("alpha_L", "alpha_R")
SM_KEYS = SM_VECTOR_KEYS + SM_CHIRAL_KEYS
TOP_KEYS = ("sm", "fields", "description")
FIELD_KEYS = ("name", "chirality", "n", "Y", "X", "color", "dynkin", "copies")
REQUIRED_FIELD_KEYS = ("chirality", "n", "Y", "X")


@dataclass(frozen=True)
class SMCharges:
    """U(1)_X charges of the SM fermions: alpha_B (quarks carry alpha_B/3) and, per lepton
    flavour, (alpha_L, alpha_R) of the doublet and the singlet (equal for vector charges)."""

    alpha_B: Fraction = Fraction(0)
    leptons: tuple = ((Fraction(0), Fraction(0)),) * 3  # (aL, aR) for e, mu, tau

    @classmethod
    def vector(cls, alpha_B=0, alpha_e=0, alpha_mu=0, alpha_tau=0) -> SMCharges:
        """X = alpha_B B + sum_i alpha_i L_i (Eq. 1.1)."""
        a = [Fraction(v) for v in (alpha_e, alpha_mu, alpha_tau)]
        return cls(Fraction(alpha_B), tuple((x, x) for x in a))

    @classmethod
    def chiral_tau(cls, alpha_L, alpha_R, alpha_B=0) -> SMCharges:
        """Chiral tau charges (chiral paper, Eq. 2): only l_L^3 and e_R^3 charged."""
        zero = (Fraction(0), Fraction(0))
        return cls(Fraction(alpha_B), (zero, zero, (Fraction(alpha_L), Fraction(alpha_R))))

    def fields(self) -> list[WeylField]:
        """The SM Weyl fields with these charges (reuses :func:`sm_fields`)."""
        return sm_fields(self.alpha_B, dict(zip(LEPTON_FLAVOURS, self.leptons)))


@dataclass(frozen=True)
class FieldContent:
    """SM charges plus extra Weyl fields, with the SU(3) Dynkin index of each extra field."""

    sm: SMCharges
    fields: tuple[WeylField, ...] = ()
    dynkin: tuple[Fraction, ...] = field(default=())
    description: str = ""

    def __post_init__(self):
        if not self.dynkin:
            object.__setattr__(self, "dynkin", tuple(dynkin_index(f.N, f.name) for f in self.fields))
        if len(self.dynkin) != len(self.fields):
            raise ValueError("one Dynkin index per field")

    def all_fields(self) -> list[WeylField]:
        return self.sm.fields() + list(self.fields)


def dynkin_index(N: int, name: str = "field") -> Fraction:
    """T(R) of the SU(3) irrep of dimension N (:data:`DYNKIN_INDEX`); InputError if unknown."""
    try:
        return DYNKIN_INDEX[int(N)]
    except KeyError:
        raise InputError(f"field {name}: no SU(3) irrep of dimension {N} in xfit's table "
                         f"({', '.join(map(str, DYNKIN_INDEX))}); give its 'dynkin' index") from None


def _check_keys(mapping: dict, accepted: tuple, where: str) -> None:
    for key in mapping:
        if key not in accepted:
            raise InputError(f"unknown key {key!r} in {where}; accepted keys: {', '.join(accepted)}")


def _integer(value, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError(f"{what} must be an integer >= {minimum}, got {value!r}")
    try:
        v = int(value)
    except ValueError:
        raise InputError(f"{what} must be an integer >= {minimum}, got {value!r}") from None
    if v < minimum:
        raise InputError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return v


def parse_sm(spec) -> SMCharges:
    """The ``sm`` mapping of the YAML schema as :class:`SMCharges`."""
    if spec is None:
        return SMCharges()
    if not isinstance(spec, dict):
        raise InputError(f"'sm' must be a mapping with keys among {', '.join(SM_KEYS)}, got {spec!r}")
    _check_keys(spec, SM_KEYS, "'sm'")
    vals = {k: to_fraction(v, f"sm.{k}") for k, v in spec.items()}
    chiral = [k for k in SM_CHIRAL_KEYS if k in vals]
    if chiral:
        if "alpha_tau" in vals:
            raise InputError("give either sm.alpha_tau (vector) or sm.alpha_L/sm.alpha_R (chiral tau), not both")
        if "alpha_e" in vals or "alpha_mu" in vals:
            raise InputError("sm.alpha_L/sm.alpha_R are chiral tau charges; "
                             "they cannot be combined with alpha_e/alpha_mu")
        return SMCharges.chiral_tau(vals.get("alpha_L", 0), vals.get("alpha_R", 0), vals.get("alpha_B", 0))
    return SMCharges.vector(**{k: vals.get(k, 0) for k in SM_VECTOR_KEYS})


def parse_field(spec, index: int) -> tuple[WeylField, Fraction]:
    """One entry of ``fields`` as a WeylField and its Dynkin index."""
    where = f"fields[{index}]"
    if not isinstance(spec, dict):
        raise InputError(f"{where} must be a mapping with keys among {', '.join(FIELD_KEYS)}, got {spec!r}")
    _check_keys(spec, FIELD_KEYS, where)
    missing = [k for k in REQUIRED_FIELD_KEYS if k not in spec]
    if missing:
        raise InputError(f"{where} lacks key(s) {', '.join(missing)}; required: {', '.join(REQUIRED_FIELD_KEYS)}")
    name = str(spec.get("name", f"field{index}"))
    chir = spec["chirality"]
    if chir not in ("L", "R"):
        raise InputError(f"{where} ({name}): chirality must be 'L' or 'R', got {chir!r}")
    n = _integer(spec["n"], f"{where} ({name}): n (SU(2) dimension)", 1)
    color = _integer(spec.get("color", 1), f"{where} ({name}): color (SU(3) dimension)", 1)
    copies = _integer(spec.get("copies", 1), f"{where} ({name}): copies", 1)
    Y = to_fraction(spec["Y"], f"{where} ({name}): Y")
    X = to_fraction(spec["X"], f"{where} ({name}): X")
    T = (to_fraction(spec["dynkin"], f"{where} ({name}): dynkin") if "dynkin" in spec
         else dynkin_index(color, name))
    if T < 0:
        raise InputError(f"{where} ({name}): dynkin (SU(3) Dynkin index) must be >= 0, e.g. 0 for a singlet, "
                         f"1/2 for a triplet; got {fraction_str(T)}")
    return WeylField(name, chir, n, Y, X, N=color, copies=copies), T


def parse_field_content(doc) -> FieldContent:
    """A parsed YAML document (mapping) as :class:`FieldContent`; InputError on bad keys/values."""
    if not isinstance(doc, dict):
        raise InputError(f"the file must hold a mapping with keys among {', '.join(TOP_KEYS)}")
    _check_keys(doc, TOP_KEYS, "the top level")
    fields_spec = doc.get("fields", [])
    if fields_spec is None:
        fields_spec = []
    if not isinstance(fields_spec, list):
        raise InputError("'fields' must be a list of field mappings")
    parsed = [parse_field(s, i) for i, s in enumerate(fields_spec)]
    return FieldContent(parse_sm(doc.get("sm")), tuple(f for f, _ in parsed), tuple(t for _, t in parsed),
                        str(doc.get("description", "")))


def load_field_content(path) -> FieldContent:
    """Read a YAML field-content file (schema in the module docstring) with the safe loader
    (:func:`xfit.yamlio.load_yaml`: size, depth, alias, duplicate-key and encoding limits)."""
    from ..yamlio import load_yaml

    return parse_field_content(load_yaml(path))
