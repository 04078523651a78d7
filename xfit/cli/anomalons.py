"""``xfit anomalons``: anomaly checks, anomalon tables, chiral-tau solutions, unitarity ceilings.

Sub-commands::

    xfit anomalons check FILE.yaml [--json]    anomaly conditions of a field content (exit 1 if any fails)
    xfit anomalons table2 [--json]              Table 2 of arXiv:2603.04394 (1ML + 1DL)
    xfit anomalons table3 [--json]              Table 3 (two DL pairs)
    xfit anomalons naturalness-readings         readings of Eq. (2.9) against the printed columns
    xfit anomalons chiral-tau [--json]          Table II of the chiral-tau paper
    xfit anomalons classify [--family F]        App. A scans with the reason each solution fails
    xfit anomalons colored [--json]             coloured solutions of (A.18)-(A.21)
    xfit anomalons bounds [--mX --gX]           unitarity mass ceilings of the Sec. 4 models

The YAML schema of ``check`` is in docs/anomalons.md and xfit/anomalons/field_content.py.
"""

from __future__ import annotations

from ..errors import InputError, require_finite_number
from . import COMMANDS
from .common import dump_json

FAMILIES = ("1ml1dl", "2dl", "1dl2ml")


def register(sub) -> None:
    p = sub.add_parser(
        "anomalons",
        help=COMMANDS["anomalons"],
        description="Anomaly conditions, anomalon classification (Tables 2-3, App. A), "
        "finite naturalness, unitarity ceilings and chiral-tau models.",
    )
    s = p.add_subparsers(dest="anomalons_command", metavar="SUBCOMMAND")
    s.required = True

    c = s.add_parser(
        "check",
        help="check the anomaly conditions of a field content (YAML)",
        description="Check Eqs. (2.2)-(2.6), (A.21) and the Witten anomaly for a YAML field "
        "content; exit 0 if all cancel, 1 if not.",
    )
    c.add_argument(
        "file",
        help="YAML file: sm: {alpha_B, alpha_e, alpha_mu, alpha_tau | alpha_L, alpha_R}, "
        "fields: [{name, chirality, n, Y, X, color, dynkin, copies}]",
    )
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.set_defaults(func=run_check)

    for name, helptext in (("table2", "Table 2: one ML field + one DL pair"), ("table3", "Table 3: two DL pairs")):
        t = s.add_parser(name, help=helptext, description=helptext + " (criteria of Sec. 2.2, naturalness Eq. 2.9).")
        _naturalness_options(t)
        t.add_argument(
            "--min-naturalness",
            default="1.0",
            metavar="TEV",
            help="keep models whose naturalness bound is at least this (default 1 TeV, as the paper)",
        )
        t.add_argument("--json", action="store_true", help="machine-readable output")
        t.set_defaults(func=run_table2 if name == "table2" else run_table3)

    nr = s.add_parser(
        "naturalness-readings",
        help="which readings of Eq. (2.9) give the printed columns",
        description="Each naturalness convention against the 'Naturalness (TeV)' columns of "
        "Tables 2-3 (data/anomalons/naturalness_tables.yaml), and the frozen log factor "
        "the printed entries allow when rounded to nearest or truncated.",
    )
    nr.add_argument("--json", action="store_true", help="machine-readable output")
    nr.set_defaults(func=run_naturalness_readings)

    ct = s.add_parser(
        "chiral-tau",
        help="Table II of the chiral-tau paper",
        description="Solutions of Eqs. (31)-(33), 2 <= n <= 10, with a neutral lightest state.",
    )
    ct.add_argument("--m-max", default="100", metavar="M", help="scan integer |m| <= M and m = infinity (default 100)")
    ct.add_argument(
        "--rational", action="store_true", help="also list the rational-m solutions m = (n+1)/(n-2) (not in Table II)"
    )
    ct.add_argument("--json", action="store_true", help="machine-readable output")
    ct.set_defaults(func=run_chiral_tau)

    cl = s.add_parser(
        "classify",
        help="App. A scans, with the criterion each solution fails",
        description="Solutions of (2.4)-(2.6) with single-S masses, and criteria (i)-(iii).",
    )
    cl.add_argument("--family", choices=FAMILIES, default="1ml1dl", help="spectrum family (default 1ml1dl)")
    cl.add_argument(
        "--max-dim",
        default=None,
        metavar="N",
        help="largest SU(2) dimension scanned (default 10; 50 for 1dl2ml, as App. A)",
    )
    cl.add_argument("--accepted", action="store_true", help="print only solutions passing (i)-(iii)")
    cl.add_argument("--json", action="store_true", help="machine-readable output")
    cl.set_defaults(func=run_classify)

    co = s.add_parser("colored", help="coloured anomalon solutions of (A.18)-(A.21)")
    co.add_argument("--limit", default="10", metavar="K", help="print the K smallest (default 10)")
    co.add_argument("--json", action="store_true", help="machine-readable output")
    co.set_defaults(func=run_colored)

    b = s.add_parser(
        "bounds",
        help="unitarity ceilings on anomalon masses of the Sec. 4 models",
        description="m <= y_max v_X / sqrt(2), v_X = m_X/(X_S g_X) (Eqs. 4.2, 4.5, 4.7, 4.10).",
    )
    b.add_argument("--mX", default=None, help="m_X in GeV (default: each model's best fit, 2.1)")
    b.add_argument("--gX", default=None, help="g_X (default: each model's best fit, 0.018; 0.0042 for L=-4R)")
    b.add_argument("--json", action="store_true", help="machine-readable output")
    b.set_defaults(func=run_bounds)


def _naturalness_options(p) -> None:
    from ..anomalons.naturalness import CONVENTIONS, DEFAULT_CONVENTION

    p.add_argument("--delta", default="100", metavar="D", help="allowed tuning Delta of Eq. (2.8) (default 100)")
    p.add_argument(
        "--convention",
        default=DEFAULT_CONVENTION.name,
        choices=sorted(CONVENTIONS),
        help="reading of Eq. (2.9): tables (frozen log calibrated on Tables 2-3, entries truncated; "
        "default), planck (mu = M_Pl, log at the anomalon mass) or weak-scale (mu = M_h); "
        "see docs/anomalons.md",
    )


def _positive(value, name: str) -> float:
    v = require_finite_number(value, name)
    if v <= 0:
        raise InputError(f"{name} must be > 0, got {value}")
    return v


def _positive_int(value, name: str) -> int:
    try:
        v = int(str(value))
    except ValueError:
        raise InputError(f"{name} must be a positive integer, got {value!r}") from None
    if v < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    return v


def _table_inputs(args):
    from ..anomalons.naturalness import get_convention

    return (
        _positive(args.delta, "--delta"),
        require_finite_number(args.min_naturalness, "--min-naturalness"),
        get_convention(args.convention),
    )


def _print_rows(rows, columns) -> None:
    widths = [max(len(col), *(len(str(r[key])) for r in rows)) if rows else len(col) for col, key in columns]
    print(("  " + "  ".join(col.ljust(w) for (col, _), w in zip(columns, widths))).rstrip())
    for r in rows:
        print(("  " + "  ".join(str(r[key]).ljust(w) for (_, key), w in zip(columns, widths))).rstrip())


_TABLES = {
    "table2": ("Table 2 (1ML + 1DL)", "", [("n", "n"), ("m", "m"), ("Y", "Y"), ("X_S/(3a_B+L)", "XS_over_3aBL")]),
    "table3": (
        "Table 3 (2DL)",
        "; X columns are the charges of the (m, +-Y3) pair (see docs/anomalons.md)",
        [
            ("n", "n"),
            ("m", "m"),
            ("Y1", "Y1"),
            ("Y3", "Y3"),
            ("X1/(3a_B+L)", "X1_over_3aBL"),
            ("X2/(3a_B+L)", "X2_over_3aBL"),
        ],
    ),
}


def _run_table(args, which: str) -> int:
    from ..anomalons import classify

    delta, floor, conv = _table_inputs(args)
    rows = getattr(classify, which)(delta, floor, conv)
    if args.json:
        print(dump_json(rows))
        return 0
    title, note, columns = _TABLES[which]
    print(f"{title}, naturalness at Delta = {delta:g}, convention {conv.name}{note}:")
    _print_rows(rows, columns + [("naturalness [TeV]", "naturalness_TeV"), ("printed", "naturalness_TeV_printed")])
    return 0


def run_table2(args) -> int:
    return _run_table(args, "table2")


def run_table3(args) -> int:
    return _run_table(args, "table3")


def run_naturalness_readings(args) -> int:
    from ..anomalons.naturalness_readings import readings_report

    report = readings_report()
    if args.json:
        print(dump_json(report))
        return 0
    convs = report["conventions"]
    print(f"'Naturalness (TeV)' columns of Tables 2-3 (Delta = {report['delta']:g}) against readings of Eq. (2.9):")
    rows = []
    for i, e in enumerate(report["entries"]):
        row = {"table": e["table"], "model": e["model"], "printed": e["printed_TeV"]}
        for c in convs:
            ok = {r: c["matches"][r][i] for r in c["matches"]}
            mark = (
                "="
                if ok["truncate"] and ok["nearest"]
                else ("t" if ok["truncate"] else ("r" if ok["nearest"] else " "))
            )
            row[c["convention"]] = f"{c['bounds_TeV'][i]:.3f} {mark}"
        rows.append(row)
    _print_rows(
        rows,
        [("table", "table"), ("model", "model"), ("printed", "printed")]
        + [(c["convention"], c["convention"]) for c in convs],
    )
    print("  (t: printed entry reproduced when truncated, r: when rounded to nearest, =: both)")
    for c in convs:
        rep = c["reproduced"]
        print(
            f"  {c['convention']}: {rep['truncate']}/{len(report['entries'])} entries truncated, "
            f"{rep['nearest']}/{len(report['entries'])} rounded to nearest"
        )
    wc = report["window_couplings"]
    print(
        f"frozen log factor |6 ln(M^2/mu^2) - 1| allowed by every printed entry "
        f"(g2 = {wc['g2']:.4f}, gY = {wc['gY']:.4f}, M_h = {wc['M_h']} GeV):"
    )
    for r, w in report["frozen_log_window"].items():
        print(f"  {r}: " + (f"[{w[0]:.1f}, {w[1]:.1f}]" if w else "none"))
    print(f"  the tables convention uses {report['tables_log_factor']:g}")
    return 0


def run_chiral_tau(args) -> int:
    from ..anomalons.chiral_tau import neutral_lp_m, scan_chiral_tau, table_II

    rows = table_II(_positive_int(args.m_max, "--m-max"))
    extra = []
    if args.rational:
        integer = {r["n"] for r in rows}
        extra = [s.row() for s in scan_chiral_tau([neutral_lp_m(n) for n in range(2, 11)]) if s.n not in integer]
    if args.json:
        print(dump_json(rows + extra if args.rational else rows))
        return 0
    print("Table II (chiral tau): 2 <= n <= 10, integer m = -alpha_L/alpha_R or infinity, neutral lightest state")
    cols = [("m", "m"), ("n", "n"), ("+-Y_L", "Y"), ("+-(X_LL+X_LR)", "XL_plus_XR"), ("X_S/alpha_L", "XS_over_aL")]
    _print_rows(rows, cols)
    if args.rational:
        print("rational m (same criteria, not in Table II):")
        _print_rows(extra, cols)
    return 0


def run_check(args) -> int:
    from ..anomalons.conditions import check_anomalies
    from ..anomalons.field_content import load_field_content
    from ..anomalons.rational import fraction_str

    report = check_anomalies(load_field_content(args.file))
    if args.json:
        print(dump_json(report.as_dict()))
        return 0 if report.all_cancel else 1
    print(f"anomaly conditions for {args.file} (residuals in the normalisation of Eqs. 2.2-2.6):")
    for c in report.conditions + (report.su3,):
        state = "satisfied" if c.satisfied else f"residual {fraction_str(c.residual)}"
        print(f"  {'(' + c.equation + ')':<8} {c.label:<28} {state}")
    w = report.witten_count
    state = "satisfied" if report.witten_ok else "violated"
    print(f"  {'(Witten)':<8} {'SU(2)_L global anomaly':<28} {state} ({w} Weyl fermions in n = 4l+2)")
    print("all anomalies cancel" if report.all_cancel else "anomalies do NOT cancel")
    return 0 if report.all_cancel else 1


def run_classify(args) -> int:
    from ..anomalons import classify as C

    default = 50 if args.family == "1dl2ml" else 10
    dim = default if args.max_dim is None else _positive_int(args.max_dim, "--max-dim")
    scan = {
        "1ml1dl": lambda: C.scan_1ml_1dl(dim, dim),
        "2dl": lambda: C.scan_two_dl(dim),
        "1dl2ml": lambda: C.scan_1dl_2ml(dim),
    }[args.family]
    cands = [c for c in scan() if c.accepted or not args.accepted]
    if args.json:
        print(
            dump_json(
                [
                    {
                        "model": c.model.describe(),
                        "dims": list(c.model.dims),
                        "accepted": c.accepted,
                        "rejections": list(c.rejections),
                        "higgs_yukawas": [f"{a}-{b} ({k})" for a, b, k in c.higgs_links],
                    }
                    for c in cands
                ]
            )
        )
        return 0
    print(
        f"family {args.family}, dimensions <= {dim}: {len(cands)} solution(s)"
        + (" passing (i)-(iii)" if args.accepted else "")
    )
    for c in cands:
        print(f"  {c.model.describe()}")
        print(f"      {'ACCEPTED' if c.accepted else 'rejected: ' + '; '.join(c.rejections)}")
    return 0


def run_colored(args) -> int:
    from ..anomalons.classify import scan_1ml_1dl, scan_two_dl
    from ..anomalons.colored import colored_solutions
    from ..anomalons.rational import fraction_str

    k = _positive_int(args.limit, "--limit")
    sols = colored_solutions(scan_1ml_1dl(10, 10) + scan_two_dl(10))[:k]
    rows = [
        {
            "family": s.family,
            "weyl_components": sum(m.n * m.color for m in s.multiplets),
            "fields": [
                {"color": m.color, "n": m.n, "Y": fraction_str(m.Y), "X_over_3aBL": str(m.X)} for m in s.multiplets
            ],
        }
        for s in sols
    ]
    if args.json:
        print(dump_json(rows))
        return 0
    print("smallest coloured solutions of (A.18)-(A.21) (SU(3), SU(2), Y, X/(3a_B+L)):")
    for r in rows:
        fields = ", ".join(f"({f['color']}, {f['n']}, {f['Y']}, {f['X_over_3aBL']})" for f in r["fields"])
        print(f"  [{r['weyl_components']:>3} components] {fields}")
    return 0


def run_bounds(args) -> int:
    from ..anomalons.unitarity import vev_X
    from ..anomalons.uv_models import BENCHMARKS

    mX = None if args.mX is None else _positive(args.mX, "--mX")
    gX = None if args.gX is None else _positive(args.gX, "--gX")
    out = {}
    for name, b in BENCHMARKS.items():
        m, g = (b.mX if mX is None else mX), (b.gX if gX is None else gX)
        out[name] = {
            "source": b.source,
            "XS": str(b.XS),
            "mX": m,
            "gX": g,
            "v_X_GeV": float(vev_X(m, g, b.XS)),
            "ceilings": {lab: {"y_max": y, "m_max_GeV": mm} for lab, (y, mm) in b.ceilings(m, g).items()},
        }
    if args.json:
        print(dump_json(out))
        return 0
    print("perturbative-unitarity ceilings, m <= y_max v_X/sqrt(2), v_X = m_X/(X_S g_X):")
    for name, o in out.items():
        parts = ", ".join(
            f"m_{lab} <= {c['m_max_GeV']:.0f} GeV (y <= {c['y_max']:.3f})" for lab, c in o["ceilings"].items()
        )
        print(f"  {name:<12} v_X = {o['v_X_GeV']:.0f} GeV: {parts}   [{o['source']}]")
    return 0
