"""Downloads with limits, through pooch.

:func:`retrieve` hands one URL to :func:`pooch.retrieve`, which writes to a temporary file
next to the target, checks the sha256 (when one is given) and only then moves the file into
place.  The transfer itself is :class:`LimitedDownloader` (a pooch downloader on
``requests``) adding what a data fetch needs and pooch does not do by itself:

* https only (plain http only to 127.0.0.1, for tests), also after redirects;
* a timeout per connect/read **and** a total deadline for the whole fetch (:class:`Budget`);
* a size cap (announced Content-Length and bytes received);
* truncated bodies detected (bytes received versus Content-Length);
* retries with exponential backoff for connection errors, timeouts, truncation, HTTP 5xx/429.

Every failure is a :class:`~xfit.errors.DataError` saying which URL and why.
"""
from __future__ import annotations

import contextlib
import logging
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError

USER_AGENT = "xfit (data fetch; https://doi.org/10.17182)"


@dataclass(frozen=True)
class Limits:
    """Limits of one fetch: ``timeout`` per connect/read [s], ``deadline`` for everything [s],
    ``max_bytes`` per download, ``retries`` after the first attempt, ``backoff`` first wait [s]
    (doubled each retry)."""

    timeout: float = 60.0
    deadline: float = 900.0
    max_bytes: int = 256 * 2**20
    retries: int = 3
    backoff: float = 1.0

    def __post_init__(self):
        if not (self.timeout > 0 and self.deadline > 0 and self.max_bytes > 0 and self.retries >= 0
                and self.backoff >= 0):
            raise ValueError(f"download limits must be positive, got {self}")


class DeadlineExceeded(DataError):
    """The total deadline of a fetch has passed (not worth trying other URLs)."""


class Budget:
    """The deadline shared by all downloads of one fetch."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.t_end = time.monotonic() + limits.deadline

    def remaining(self) -> float:
        return self.t_end - time.monotonic()

    def timeout(self, url: str) -> float:
        """Per-operation timeout: the configured one, cut to what is left of the deadline."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceeded(f"download of {url} failed: total deadline of {self.limits.deadline:g} s exceeded")
        return min(self.limits.timeout, left)


def check_url(url: str) -> None:
    """DataError unless ``url`` is https (or http to 127.0.0.1)."""
    u = urllib.parse.urlparse(url)
    if u.scheme == "https" and u.hostname:
        return
    if u.scheme == "http" and u.hostname == "127.0.0.1":
        return
    raise DataError(f"refusing to download {url[:80]}: only https:// URLs are accepted")


class _Retry(Exception):
    """A transient failure: worth another attempt."""


class LimitedDownloader:
    """A pooch downloader (``downloader(url, output_file, pooch)``) with the limits of
    :class:`Budget`; ``headers`` holds the response headers of the last success."""

    chunk = 1 << 16

    def __init__(self, budget: Budget):
        self.budget = budget
        self.headers: dict[str, str] = {}

    def __call__(self, url: str, output_file, pooch=None) -> None:
        check_url(url)
        lim = self.budget.limits
        for attempt in range(lim.retries + 1):
            try:
                self._once(url, output_file)
                return
            except _Retry as exc:
                wait = lim.backoff * 2**attempt
                if attempt == lim.retries or self.budget.remaining() <= wait:
                    tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                    raise DataError(f"download of {url} failed: {exc} ({tries})") from None
                time.sleep(wait)

    def _once(self, url: str, output_file) -> None:
        import requests

        lim = self.budget.limits
        t = self.budget.timeout(url)
        try:
            with requests.get(url, stream=True, timeout=(t, t), allow_redirects=True,
                              headers={"User-Agent": USER_AGENT, "Accept": "*/*"}) as r:
                check_url(r.url)
                if r.status_code >= 500 or r.status_code == 429:
                    raise _Retry(f"HTTP {r.status_code} {r.reason}")
                if r.status_code >= 400:
                    raise DataError(f"download of {url} failed: HTTP {r.status_code} {r.reason}")
                announced = r.headers.get("Content-Length")
                announced = int(announced) if announced and announced.isdigit() else None
                if announced is not None and announced > lim.max_bytes:
                    raise DataError(f"download of {url} refused: {announced} bytes announced, "
                                    f"more than the cap of {lim.max_bytes}")
                n = 0
                with open(output_file, "wb") as f:
                    while True:
                        self.budget.timeout(url)  # raises once the deadline has passed
                        data = r.raw.read1(self.chunk, decode_content=True)
                        if not data:
                            break
                        n += len(data)
                        if n > lim.max_bytes:
                            raise DataError(f"download of {url} stopped: more than the cap of {lim.max_bytes} bytes")
                        f.write(data)
                encoded = r.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
                if announced is not None and not encoded and n != announced:
                    raise _Retry(f"truncated body ({n} of {announced} bytes)")
                self.headers = {k.lower(): v for k, v in r.headers.items()}
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            raise _Retry(_reason(exc)) from None
        except requests.exceptions.RequestException as exc:
            raise DataError(f"download of {url} failed: {_reason(exc)}") from None
        except Exception as exc:  # urllib3 errors raised by raw reads
            import urllib3

            if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)) and not isinstance(exc, DataError):
                raise _Retry(_reason(exc)) from None
            raise


def _reason(exc: BaseException) -> str:
    """A short reason for a transfer failure (requests wraps urllib3's in several layers)."""
    inner = exc.args[0] if exc.args else None
    inner = getattr(inner, "reason", None) or inner or exc
    text = f"{type(inner).__name__}: {inner}" if isinstance(inner, BaseException) else str(inner)
    low = (text + " " + str(exc)).lower()
    if "timed out" in low or "timeout" in low:
        return "timed out"
    if "incompleteread" in low or "connection broken" in low:
        return "truncated body (connection closed early)"
    if "refused" in low:
        return "connection refused"
    if "resolve" in low or "name or service not known" in low or "nodename" in low:
        return "cannot resolve the host name (no network?)"
    return text[:120]


@contextlib.contextmanager
def _quiet_pooch():
    """pooch logs every download at INFO on stderr; xfit reports through its own log."""
    import pooch

    logger = pooch.get_logger()
    old = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(old)


def retrieve(url: str, directory: Path, fname: str, budget: Budget,
             sha256: str | None = None) -> tuple[Path, dict[str, str]]:
    """Download ``url`` to ``directory/fname`` via :func:`pooch.retrieve` (temporary file, hash
    check when ``sha256`` is given, then an atomic move).  Returns (path, response headers)."""
    import pooch

    check_url(url)
    dl = LimitedDownloader(budget)
    try:
        with _quiet_pooch():
            path = pooch.retrieve(url, known_hash=f"sha256:{sha256}" if sha256 else None, fname=fname,
                                  path=directory, downloader=dl, progressbar=False)
    except ValueError as exc:  # pooch: hash mismatch
        first = str(exc).splitlines()[0][:120]
        raise DataError(f"download of {url} is not the pinned file {fname} ({first})") from None
    return Path(path), dl.headers
