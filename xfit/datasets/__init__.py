"""External data sets: registry, pinned sha256 digests, downloads.

* :mod:`.registry` -- :class:`Dataset` (name, files with pinned sha256, HEPData record/DOI,
  content checks) and where files are looked for (``$XFIT_DATA_DIR/<directory>/``, then the
  user cache ``$XDG_CACHE_HOME/xfit/<directory>`` or ``~/.cache/xfit/<directory>``);
* :mod:`.pinning` -- every file is checked against its pin before use
  (:func:`verify`; opt-in ``XFIT_ALLOW_MODIFIED_DATA=1`` / ``xfit --allow-modified-data``) and
  recorded for the ``"inputs"`` block of result files (:func:`inputs_block`);
* :mod:`.download`, :mod:`.hepdata` -- downloads through pooch with retries, a total deadline,
  a size cap, https only and hash verification before anything enters the cache.

Data sets register themselves where their content is known (the Belle II B+ -> K+ nu nubar
likelihood in :mod:`xfit.belle2.files`).
"""
from .pinning import ALLOW_ENV, VerifiedFile, allow_modified, inputs_block, record, reset_record, sha256_of, verify
from .registry import Dataset, available, cache_dir, cache_root, find_file, get, register, search_dirs

__all__ = ["ALLOW_ENV", "Dataset", "VerifiedFile", "allow_modified", "available", "cache_dir", "cache_root",
           "find_file", "get", "inputs_block", "record", "register", "reset_record", "search_dirs",
           "sha256_of", "verify"]
