"""``xfit belle2 fit-spectrum FILE.csv``: fit the scale of any B+ -> K+ + invisible q^2 spectrum.

    xfit belle2 fit-spectrum FILE.csv [--json] [--sm-free]

FILE.csv has a header naming the columns ``q2`` [GeV^2] and ``dBdq2`` [GeV^-2]; the rate is
the linear interpolation of the table.  Wiring: the integrator calls :func:`register` with the
sub-parser group of ``xfit belle2``.
"""
from __future__ import annotations

import sys
import warnings

from .belle2 import SUBCOMMAND_MODULES
from .common import dump_json


def cmd_fit_spectrum(args) -> int:
    from ..belle2 import spectra, spectrum_fit

    table = spectra.read_spectrum_csv(args.file)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", spectra.EfficiencyLossWarning)
        res = spectrum_fit.fit_spectrum(table, sm_free=args.sm_free, name=table.name)
    for w in caught:
        if issubclass(w.category, spectra.EfficiencyLossWarning):
            print(f"xfit belle2 fit-spectrum: warning: {w.message}", file=sys.stderr)
    out = res.summary()
    if args.json:
        print(dump_json(out))
        return 0
    lim = "above the fit range" if out["BR_95_scale"] is None else f"{out['BR_95_scale']:.4g}"
    print(f"Belle II B+ -> K+ + invisible, spectrum {table.name} (total B = {res.total_rate:.4g}), "
          f"SM signal {'free' if args.sm_free else 'fixed at mu = 1'}")
    print(f"  scale k = {out['scale']['value']:.4g} +- {out['scale']['error']:.4g}")
    print(f"  q0 = {out['q0']:.3f}, Z = {out['Z']:.2f} sigma (k = 0 vs k-hat)")
    print(f"  95 % CL CLs upper limit on k: {lim}")
    return 0


def register(belle2_subparsers) -> None:
    """Add ``fit-spectrum`` to the sub-parser group of ``xfit belle2``."""
    p = belle2_subparsers.add_parser(
        "fit-spectrum", help=SUBCOMMAND_MODULES["fit-spectrum"][1],
        description="Fit a free scale factor k of the spectrum dB/dq2 given in FILE (CSV with columns "
        "q2 [GeV^2], dBdq2 [GeV^-2], linearly interpolated) on top of the SM B+ -> K+ nu nubar signal "
        "(fixed at mu = 1 unless --sm-free), with the Belle II likelihood and number densities.")
    p.add_argument("file", metavar="FILE", help="CSV file with a header naming the columns q2,dBdq2")
    p.add_argument("--json", action="store_true",
                   help='print {"scale": {"value", "error"}, "q0", "Z", "BR_95_scale"}')
    p.add_argument("--sm-free", action="store_true", help="profile the SM signal strength (default: fixed at 1)")
    p.set_defaults(func=cmd_fit_spectrum)
