"""Registry of the HistFactory modifier types (HistFactory note, K. Cranmer et al.,
CERN-OPEN-2012-016; pyhf ``pyhf.modifiers``), one module per type in
:mod:`xfit.histfactory`: normfactor, normsys, histosys, staterror, shapesys, shapefactor, lumi.

Each module has ``compile(builder, modifier, channel, rows, nominal)``, which turns one
modifier of one sample into entries of the compiled model (see
:class:`xfit.histfactory.compile.ModelBuilder`):

* linear factors theta_p on rows (normfactor, lumi, shapefactor, staterror, shapesys);
* normsys terms f(alpha; hi, lo) on rows (interpolation codes in :mod:`.normsys`);
* histosys variations added to the rows (interpolation codes in :mod:`.histosys`).

Constraint terms (Gaussian or Poisson) are not built here: their widths, factors and
auxiliary data come from pyhf's parameter sets (:mod:`xfit.histfactory.constraints`).
"""
from __future__ import annotations

from ..errors import InputError
from . import histosys, lumi, normfactor, normsys, shapefactor, shapesys, staterror

#: modifier type -> module with its ``compile``
MODULES = {"normfactor": normfactor, "normsys": normsys, "histosys": histosys, "staterror": staterror,
           "shapesys": shapesys, "shapefactor": shapefactor, "lumi": lumi}

#: Modifier types of the HistFactory schema that this package implements.
SUPPORTED_MODIFIERS = tuple(MODULES)

#: modifier types with a choice of interpolation code -> accepted codes (default first)
INTERPOLATION_CODES = {"normsys": normsys.CODES, "histosys": histosys.CODES}


def interpolation_codes(modifier_settings: dict | None) -> dict[str, str]:
    """The interpolation code of normsys and histosys from pyhf-style ``modifier_settings``
    (``{"normsys": {"interpcode": "code1"}, ...}``); defaults are pyhf 0.7's (code4, code4p)."""
    out = {k: codes[0] for k, codes in INTERPOLATION_CODES.items()}
    for key, settings in (modifier_settings or {}).items():
        if key not in INTERPOLATION_CODES:
            raise InputError(f"modifier_settings: key {key!r} not accepted; accepted: "
                             f"{', '.join(INTERPOLATION_CODES)}")
        if not isinstance(settings, dict) or set(settings) - {"interpcode"}:
            raise InputError(f"modifier_settings[{key!r}] = {settings!r}; accepted: {{'interpcode': <code>}}")
        code = settings.get("interpcode", out[key])
        if code not in INTERPOLATION_CODES[key]:
            raise InputError(f"{key} interpolation code {code!r} not supported; accepted: "
                             f"{', '.join(INTERPOLATION_CODES[key])}")
        out[key] = code
    return out
