"""xfit/errors.py: the value shown in a message is one line, cut to 80 characters."""
import numpy as np
import pytest

from xfit.errors import InputError, finite_array, require_finite_number


@pytest.mark.parametrize("check, value", [
    (lambda v: finite_array(v, "--mX"), np.full(200, np.nan)),                # not finite
    (lambda v: finite_array(v, "--mX", lo=0.0), -np.linspace(1, 2, 200)),     # below the range
    (lambda v: finite_array(v, "--mX", hi=0.0), np.linspace(1, 2, 200)),      # above the range
    (lambda v: finite_array(v, "--mX"), ["x" * 500]),                         # not a number
    (lambda v: require_finite_number(v, "--mX"), "x" * 500),
])
def test_long_values_are_cut_to_one_short_line(check, value):
    with pytest.raises(InputError) as exc:
        check(value)
    message = str(exc.value)
    assert message.startswith("--mX must be") and len(message.splitlines()) == 1
    assert len(message) < 80 + 80  # the value (80 characters at most) and the words around it


def test_short_values_are_shown_whole():
    with pytest.raises(InputError, match=r"--mX must be >= 0, got \[-1\.0\]"):
        finite_array([-1.0], "--mX", lo=0.0)
    with pytest.raises(InputError, match=r"--mX must be a finite number, got 'nan'"):
        require_finite_number("nan", "--mX")
