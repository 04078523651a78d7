"""The likelihood terms of each reproduced figure (for its refs.bib)."""
from __future__ import annotations

import pytest

from xfit.errors import InputError
from xfit.reproduce import reproduce_terms


def test_terms_of_each_figure():
    assert reproduce_terms("fig1") == ["na62_k_pi", "koto_kl_pi0"]
    assert "l3_z_gamma" in reproduce_terms("fig2") and "b_to_s_emiss" in reproduce_terms("fig2")
    assert "na62_k_pi" in reproduce_terms("fig3")


@pytest.mark.parametrize("figure", ["fig9", "", "3"])
def test_an_unknown_figure_is_an_input_error(figure):
    with pytest.raises(InputError, match="accepted: fig1, fig2, fig3"):
        reproduce_terms(figure)
