"""The one result type: JSON, repr and the Jupyter HTML display."""
from dataclasses import dataclass, field

import numpy as np

from xfit.inference.results import Result


@dataclass(repr=False)
class _Example(Result):
    mX: float = 2.1
    name: str = "tau<flavor>"
    converged: bool = True
    values: np.ndarray = field(default_factory=lambda: np.array([1.0, 2.5]))
    big: np.ndarray = field(default_factory=lambda: np.zeros((40, 3)))
    params: dict = field(default_factory=lambda: {"gX": 0.025, "gX_err": 0.0038})
    note: object = None


def test_html_has_one_row_per_field_and_escapes_text():
    html = _Example()._repr_html_()
    assert html.count("<tr>") == 7
    assert "<b>_Example</b>" in html
    assert "tau&lt;flavor&gt;" in html and "tau<flavor>" not in html
    assert "2.1" in html and "True" in html
    assert "[1. , 2.5]" in html
    assert "array of shape (40, 3)" in html
    assert "gX: 0.025" in html


def test_html_of_real_fit_result_names_the_fit_parameters():
    from xfit.inference.fit import Fit
    from xfit.likelihood import get_term
    from xfit.models import get_model

    fit = Fit(get_model("tau-flavor"), get_term("b_to_s_emiss") + get_term("l3_z_gamma"), mX=2.1)
    html = fit.run()._repr_html_()
    assert "<table>" in html and "FitResult" in html
    assert "gX" in html
