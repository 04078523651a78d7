"""Drawing lives in xfit/plots: below the figures in the layering (physics ->
models/predictions -> likelihood terms -> inference -> analyses/figures -> CLI) no module
imports a drawing library or xfit.plots, not even inside a function or a method."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "xfit"
#: The drawing libraries.
DRAWING = ("matplotlib", "corner", "xfit.plots")
#: What an import of a drawing library spells out, absolute or relative (``from .. import plots``).
NAMED = tuple(d.rsplit(".", 1)[-1] for d in DRAWING)
#: What may draw: the plots themselves, the figures of the paper, the analysis runner, the CLI.
MAY_DRAW = ("plots/", "reproduce/", "analysis/running.py", "cli/")


def imported_modules(source: str, module: str) -> set[str]:
    """Absolute names of every module that ``source`` (the module ``module``, e.g.
    ``"xfit.inference.scan"``; a package as ``"xfit.plots.__init__"``) imports, at any depth:
    relative imports resolved, and for ``from A import b`` both ``A`` and ``A.b``."""
    package = module.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            out.add(name)
            out.update(f"{name}.{a.name}" for a in node.names)
    return out


def draws(module: str) -> bool:
    return any(module == d or module.startswith(d + ".") for d in DRAWING)


def test_imports_are_found_inside_functions_and_resolved():
    method = "class R:\n    def plot(self):\n        from ..plots import save_figure\n"
    assert {"xfit.plots", "xfit.plots.save_figure"} <= imported_modules(method, "xfit.inference.scan")
    assert "xfit.plots" in imported_modules("from .. import plots\n", "xfit.inference.scan")
    assert "xfit.plots.style" in imported_modules("from .style import x\n", "xfit.plots.__init__")
    assert imported_modules("from . import plots\n", "xfit.belle2.scan") == {"xfit.belle2", "xfit.belle2.plots"}
    assert imported_modules("def f():\n    import matplotlib.pyplot as plt\n", "xfit.a") == {"matplotlib.pyplot"}
    assert draws("xfit.plots.limits") and draws("matplotlib.colors") and draws("corner")
    assert not draws("xfit.belle2.plots") and not draws("xfit.plotsx") and not draws("cornerstone")


def test_no_module_below_the_figures_imports_matplotlib_or_xfit_plots():
    offenders = []
    for p in sorted(PACKAGE.rglob("*.py")):
        rel = p.relative_to(PACKAGE).as_posix()
        if rel.startswith(MAY_DRAW):
            continue
        source = p.read_text()
        if not any(name in source for name in NAMED):
            continue  # imports no drawing library: parsing it (~2 ms a module) finds nothing
        module = ".".join(["xfit", *p.relative_to(PACKAGE).with_suffix("").parts])
        offenders += [f"{rel}: {m}" for m in sorted(imported_modules(source, module)) if draws(m)]
    assert offenders == []
