"""xfit/errors.py: the value shown in a message is one line, cut to 80 characters."""
import numpy as np
import pytest

from xfit.errors import InputError, finite_array, require_count, require_finite_number


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


@pytest.mark.parametrize("value", [0, -1, 2.5, float("nan"), float("inf"), True, "3", None])
def test_require_count_refuses_what_is_not_a_whole_number_at_least_one(value):
    with pytest.raises(InputError, match=r"^--n must be a whole number >= 1 \(things\), got "):
        require_count(value, "--n", "things")


def test_require_count_accepts_whole_numbers():
    assert require_count(3, "--n") == 3 and require_count(2.0, "--n") == 2 and require_count(np.int64(5), "--n") == 5
