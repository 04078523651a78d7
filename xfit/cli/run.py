"""``xfit run FILE.yaml``: run an analysis described by a YAML file (see docs/inference.md).

    xfit run analyses/fig3.yaml                 # run, write to the file's output.dir
    xfit run analyses/fig2.yaml --out /tmp/f2   # elsewhere
    xfit run analyses/scan.yaml --executor serial --no-progress
    xfit run analyses/*.yaml --check            # validate only
"""
from __future__ import annotations

from ..errors import InputError
from ..outputs import check_output_dir
from . import COMMANDS
from .common import dump_json, print_files, print_limit_lines, print_scan_lines


def register(sub) -> None:
    p = sub.add_parser("run", help=COMMANDS["run"],
                       description="Run analyses described by YAML files: profile scans, limits versus "
                       "m_X, figure reproductions. The file format is documented in docs/inference.md.")
    p.add_argument("files", nargs="+", metavar="FILE", help="analysis file(s), e.g. analyses/fig3.yaml")
    p.add_argument("--out", default=None, help="output directory (default: the file's output.dir); "
                   "with several files, one sub-directory per analysis")
    p.add_argument("--executor", default=None,
                   help="override the file's executor: process, serial, dask or dask://HOST:PORT")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--fresh", action="store_true", help="ignore stored chunks; recompute everything")
    p.add_argument("--check", action="store_true", help="only validate the file(s)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from ..analysis import load_analysis, run_analysis
    from ..inference.executors import EXECUTOR_NAMES

    if args.executor is not None and args.executor not in EXECUTOR_NAMES and not args.executor.startswith(
            ("dask://", "tcp://", "tls://")):
        raise InputError(f"--executor must be one of {', '.join(EXECUTOR_NAMES)} or dask://HOST:PORT, "
                         f"got {args.executor!r}")
    if args.out is not None:
        check_output_dir(args.out)
    analyses = [load_analysis(f) for f in args.files]  # validate every file before running any
    if args.check:
        for a in analyses:
            print(f"{a.source}: ok ({a.kind}{', ' + a.name if a.name else ''})")
        return 0
    for a in analyses:
        out = None
        if args.out:
            out = Path(args.out) / a.name if len(analyses) > 1 else Path(args.out)
        summary = run_analysis(a, out_dir=out, executor=args.executor,
                               progress=False if args.no_progress else None, fresh=args.fresh)
        if args.json:
            print(dump_json(summary))
            continue
        print(f"{a.source}: {a.kind} '{a.name}' done in {summary['elapsed_s']:.2f} s")
        if a.kind == "scan":
            print_scan_lines(summary["scan"])
        elif a.kind == "limits":
            key = next(iter(next(iter(summary["limits"].values())).keys() - {"mX"}), "limit")
            print_limit_lines({**summary["limits"], **summary["projections"]}, key)
        print_files(summary["files"])
    return 0
