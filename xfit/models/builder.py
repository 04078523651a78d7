"""One model builder for every front end: a plain mapping in, a :class:`Model` out.

The CLI (``--model``/``--alpha-*``/``--A-WW``... flags) and analysis files (the ``model``
key) both translate their input into this mapping and call :func:`build_model`:

* exactly one of
  ``name`` (a benchmark, :func:`xfit.models.get_model`),
  ``charges`` ({alpha_B, alpha_e, alpha_mu, alpha_tau}: vector charges, Eq. 1.1; missing ones are 0),
  ``chiral`` ({alpha_L, alpha_R}: chiral tau charges),
  ``wess_zumino`` ({A_WW, A_YY}: the Wess-Zumino coefficients alone),
  ``plane`` ("eft": (g_X A_WW, g_X A_YY); "chiral": (alpha_L g_X, alpha_R g_X));
* optional ``br_invisible`` (B(X -> invisible) instead of the model's; default 1 where the
  model has no rule: wess_zumino, the eft plane), ``XS`` (U(1)_X charge of the breaking
  scalar, for v_X; not for planes), ``loop_normalisation`` ("derived" or "paper"), ``goldstone``
  (bool: meson rates in the Goldstone limit, Eqs. 3.9/3.10) and ``ew_scheme`` ("mz" or "alpha0":
  the alpha of g and g').

Errors are :class:`xfit.errors.InputError` naming the mapping's keys; the front ends check
their own spelling (flags, file keys) first.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InputError
from .base import Model
from .charges import ChargeModel
from .planes import ChiralPlane, EFTPlane, WessZuminoModel
from .registry import get_model

#: The keys that say which model (exactly one of them).
MODEL_KINDS = ("name", "charges", "chiral", "wess_zumino", "plane")
#: The keys every kind may add.
MODEL_OPTIONS = ("br_invisible", "XS", "loop_normalisation", "goldstone", "ew_scheme")
#: The entries of each mapping-valued kind.
KIND_ENTRIES = {"charges": ("alpha_B", "alpha_e", "alpha_mu", "alpha_tau"), "chiral": ("alpha_L", "alpha_R"),
                "wess_zumino": ("A_WW", "A_YY")}
#: The two-parameter planes.
PLANES = {"eft": EFTPlane, "chiral": ChiralPlane}
#: The names given to models built from charges.
BUILT_NAMES = {"charges": "vector-charges", "chiral": "chiral-tau"}


def model_kind(spec: Mapping[str, Any]) -> str:
    """Which of :data:`MODEL_KINDS` ``spec`` gives (InputError unless exactly one)."""
    unknown = [k for k in spec if k not in MODEL_KINDS + MODEL_OPTIONS]
    if unknown:
        raise InputError(f"unknown model key(s) {', '.join(map(repr, unknown))}; "
                         f"accepted: {', '.join(MODEL_KINDS + MODEL_OPTIONS)}")
    kinds = [k for k in MODEL_KINDS if k in spec]
    if len(kinds) != 1:
        raise InputError(f"a model needs exactly one of: {', '.join(MODEL_KINDS)}; got {', '.join(kinds) or 'none'}")
    return kinds[0]


def build_model(spec: Mapping[str, Any]) -> Model:
    """The model ``spec`` describes (see the module docstring for the keys)."""
    kind = model_kind(spec)
    br, XS = spec.get("br_invisible"), spec.get("XS")
    loop = {k: spec[k] for k in ("loop_normalisation", "goldstone", "ew_scheme") if spec.get(k) is not None}
    xs = {} if XS is None else {"XS": XS}
    value = spec[kind]
    if kind in KIND_ENTRIES:
        if not isinstance(value, Mapping):
            raise InputError(f"model {kind!r} must be a mapping of {', '.join(KIND_ENTRIES[kind])}; got {value!r:.80}")
        unknown = [k for k in value if k not in KIND_ENTRIES[kind]]
        missing = [k for k in KIND_ENTRIES[kind] if k not in value] if kind != "charges" else []
        if unknown or missing:
            problem = f"unknown {', '.join(unknown)}" if unknown else f"missing {', '.join(missing)}"
            raise InputError(f"model {kind!r}: {problem}; accepted: {', '.join(KIND_ENTRIES[kind])}")
    if kind in ("name", "plane") and not isinstance(value, str):
        raise InputError(f"model {kind!r} must be a string, got {value!r:.80}")
    if kind == "name":
        return get_model(value, br_invisible=br, **xs, **loop)
    if kind == "charges":
        return ChargeModel.vector(**value, name=BUILT_NAMES[kind], br_invisible=br, **xs, **loop)
    if kind == "chiral":
        return ChargeModel.chiral_tau(value["alpha_L"], value["alpha_R"], name=BUILT_NAMES[kind], br_invisible=br,
                                      **xs, **loop)
    if kind == "wess_zumino":
        return WessZuminoModel(value["A_WW"], value["A_YY"], br_invisible=1.0 if br is None else br, **xs, **loop)
    if value not in PLANES:
        raise InputError(f"unknown plane {value!r:.80}; accepted: {', '.join(PLANES)}")
    if XS is not None:
        raise InputError(f"XS is not an option of the {value} plane (its parameters include g_X)")
    if value == "chiral":
        if br is not None:
            raise InputError("br_invisible is not an option of the chiral plane (B(X->inv) follows from the charges)")
        return ChiralPlane(**loop)
    return EFTPlane(br_invisible=1.0 if br is None else br, **loop)
