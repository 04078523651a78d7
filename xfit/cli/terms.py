"""``xfit terms``: every registered likelihood term (one per measurement data file, plus code terms)."""
from __future__ import annotations

from . import COMMANDS
from .common import dump_json


def register(sub) -> None:
    p = sub.add_parser("terms", help=COMMANDS["terms"],
                       description="List every registered likelihood term: its name, how the measurement "
                       "enters the likelihood, the predictions it needs, its m_X range, citation and whether "
                       "it is a projection (projections enter fits only when asked for).")
    p.add_argument("--json", action="store_true",
                   help='machine-readable output: [{"name", "likelihood", "observables", "mass_range", '
                   '"citation", "projection"}]')
    p.set_defaults(func=run)


def run(args) -> int:
    from ..likelihood import describe_terms

    rows = describe_terms()
    if args.json:
        print(dump_json(rows))
        return 0
    cols = [("name", lambda r: r["name"]), ("likelihood", lambda r: r["likelihood"]),
            ("m_X range [GeV]", lambda r: f"{r['mass_range'][0]:g}-{r['mass_range'][1]:.4g}"),
            ("projection", lambda r: "yes" if r["projection"] else "no"),
            ("observables", lambda r: ", ".join(r["observables"])),
            ("citation", lambda r: r["citation"])]
    table = [[f(r) for _, f in cols] for r in rows]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, (h, _) in enumerate(cols)]
    print("  ".join(h.ljust(w) for (h, _), w in zip(cols, widths)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return 0
