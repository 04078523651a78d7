"""get_executor: a bad number of worker processes is an InputError naming workers."""
import pytest

from xfit.errors import InputError
from xfit.inference.executors import get_executor


@pytest.mark.parametrize("workers", [-1, 0, 2.5, "x", True])
def test_a_bad_number_of_workers_is_named(workers):
    """-1 gave a ValueError and "x" a TypeError from concurrent.futures; 0 was silently 2."""
    with pytest.raises(InputError, match="workers") as info:
        get_executor("process", max_workers=workers)
    assert len(str(info.value).splitlines()) <= 3
    with pytest.raises(InputError, match="workers"):
        get_executor({"type": "process", "workers": workers})


def test_one_worker_is_accepted():
    with get_executor("process", max_workers=1) as ex:
        assert ex.submit(abs, -3).result() == 3
