"""``xfit reproduce NAME``: the papers' figures from the data that ships with xfit."""
from __future__ import annotations

import importlib

from ..errors import InputError
from ..outputs import check_output_dir
from .common import add_theory_options, dump_json

#: figure name -> (module under xfit.reproduce, its function, description)
FIGURES = {
    "fig2": ("fig2", "reproduce", "Fig. 2 of arXiv:2603.04394: B->K(*)X + Z->gammaX fit at m_X = 2.1 GeV"),
    "fig3": ("fig3", "reproduce", "Fig. 3 (and Fig. 1) of arXiv:2603.04394: 90% CL limits on g_X versus m_X"),
    "fig1": ("fig3", "reproduce_fig1",
             "Fig. 1 of arXiv:2603.04394: 90% CL limits on g_X A_XWW from NA62 and KOTO"),
}
#: Figures whose function takes ``goldstone`` (``--goldstone``).
GOLDSTONE_FIGURES = ("fig2",)


def register(sub) -> None:
    p = sub.add_parser("reproduce", help="reproduce a figure of the papers",
                       description="Reproduce a figure of the papers. Known: "
                       + "; ".join(f"{k}: {d}" for k, (_, _, d) in FIGURES.items()))
    p.add_argument("figure", help="one of: " + ", ".join(FIGURES))
    p.add_argument("--out", default=None, help="output directory (default xfit-output/FIGURE)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--skip-missing", action="store_true", help="fig3: draw without searches whose data are missing")
    add_theory_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if args.figure not in FIGURES:
        raise InputError(f"unknown figure {args.figure!r}; known: {', '.join(FIGURES)}")
    module_name, function, description = FIGURES[args.figure]
    module = importlib.import_module(f"xfit.reproduce.{module_name}")
    out = check_output_dir(args.out or f"xfit-output/{args.figure}", "--out")  # xfit/outputs.py
    theory = {"loop_normalisation": args.loop_normalisation,
              **({"skip_missing": True} if args.skip_missing and args.figure == "fig3" else {})}
    if args.goldstone:
        if args.figure not in GOLDSTONE_FIGURES:
            raise InputError(f"--goldstone is available for {', '.join(GOLDSTONE_FIGURES)} only, not {args.figure}\n"
                             f"(the other figures use the massive-vector rates)")
        theory["goldstone"] = True
    summary = getattr(module, function)(out, **theory)
    if args.json:
        print(dump_json(summary))
    else:
        rates = "Goldstone limit, Eqs. 3.9/3.10" if args.goldstone else "massive vector X"
        print(f"{description} (W-loop normalisation: {args.loop_normalisation}; meson rates: {rates})")
        for name, row in summary.get("models", {}).items():
            print(f"  {name:<11} g_X = {row['gX']:.4g} ± {row['gX_err']:.2g}, chi2_min = {row['chi2_min']:.2f}, "
                  f"{row['significance_sigma']:.2f} sigma over the SM, B(Z->gammaX) = {row['BR(Z->gammaX)']:.3g}, "
                  f"B(B+->K*+X) = {row['BR(B+->K*+X)']:.3g}")
        for name, row in summary.get("limits", {}).items():
            key = next((k for k in row if k != "mX"), "gX_90")
            pairs = [(m, g) for m, g in zip(row.get("mX", []), row.get(key, [])) if g is not None]
            if pairs:
                m_best, g_best = min(pairs, key=lambda p: p[1])
                par = {"gX_90": "g_X", "gXAWW_90": "g_X A_XWW"}.get(key, key)
                print(f"  {name:<18} strongest 90% CL limit {par} < {g_best:.3g} at m_X = {m_best:.3g} GeV "
                      f"({len(pairs)} masses with a limit)")
        print("wrote:")
        for f in summary.get("files", []):
            print(f"  {f}")
    return 0
