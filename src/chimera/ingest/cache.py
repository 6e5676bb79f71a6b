"""The parse cache: a file's read (records, hash, encoding, report keys) reused while its stat
signature is unchanged, so ingesting the same folder again skips reading and parsing.

One cache file per set of roots and settings, in the user's cache directory (``CHIMERA_CACHE_DIR``,
else ``$CHIMERA_HOME/cache``, else the platform's cache directory). A file is reused only when
size, modification and change times (nanoseconds), inode and device all match, and never when it
changed within two seconds of the walk (its next change could share the timestamp). The cache
is an optimization only: a missing, stale, corrupt or foreign cache file is ignored and rebuilt,
and a cache that cannot be written is reported once and ingestion goes on.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from chimera import __version__
from chimera.atomic import atomic_writer
from chimera.errors import OutputError
from chimera.ingest import records
from chimera.ingest.readers import FileRead
from chimera.ingest.records import Skipped
from chimera.ingest.settings import IngestSettings
from chimera.ingest.walk import Candidate

log = logging.getLogger(__name__)

CACHE_FORMAT = 2
MAX_CACHE_FILES = 32  # the least recently written go first
# A bound on what a cache holds (and the run holds until it saves): files up to 1 MiB, up to
# 8 MiB of them. Parsing is the cost a cache saves on reports and small data files; on big data
# files building facts dominates, and their parses would cost several times their size to hold.
MAX_ENTRY_BYTES = 2**20
BUDGET_BYTES = 8 * 2**20
# Skips decided by the content (so as stable as the stat); unreadable/vanished ones are not.
_STABLE_SKIPS = frozenset({"binary", "unsupported_type", "malformed", "too_deep", "empty"})
# The code a read goes through: an edit to it (an editable install) invalidates the cache.
_CODE = Path(__file__).resolve().parent

# What a read gives: the parse and its report keys (content key, mentioned files), or a skip.
ReadOut = tuple[FileRead, str, frozenset[str]] | Skipped
_Frozen = tuple[Any, ...]
_Entry = tuple[tuple[int, ...], _Frozen]  # stat signature, frozen read


def default_cache_dir() -> Path:
    if env := os.environ.get("CHIMERA_CACHE_DIR"):
        return Path(env)
    if home := os.environ.get("CHIMERA_HOME"):
        return Path(home) / "cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("chimera", appauthor=False))


def _code_stamp() -> str:
    """Size and modification time of the ingestion modules (a few stat calls)."""
    parts = [__version__]
    for folder in (_CODE, _CODE / "readers"):
        with os.scandir(folder) as it:
            for e in sorted(it, key=lambda e: e.name):
                if e.name.endswith(".py"):
                    st = e.stat()
                    parts.append(f"{e.name}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


class _Unpickler(pickle.Unpickler):
    """Builds only the record types a cache holds: a planted file cannot run code."""

    _ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("chimera.ingest.records", "RawRecord"), ("chimera.ingest.records", "Parsed")}
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return getattr(records, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a cache record type")


class ParseCache:
    """Entries for one set of roots and settings; ``fetch`` reads through it, ``save`` keeps
    the entries this run used (files since deleted drop out)."""

    def __init__(self, path: Path, header: tuple[object, ...]) -> None:
        self.path = path
        self._header = header
        self._old: dict[str, _Entry] = {}
        self._new: dict[str, _Entry] = {}
        self.hits = 0
        self._added = 0  # entries parsed this run
        self._bytes = 0  # file bytes the entries in _new stand for
        self._load()

    @classmethod
    def open(
        cls, roots: Sequence[Path | str], settings: IngestSettings, directory: Path | None = None
    ) -> ParseCache | None:
        """The cache for ``roots`` read with ``settings``; None when settings turn it off."""
        if not settings.cache:
            return None
        header = (
            "chimera-parse-cache",
            CACHE_FORMAT,
            tuple(str(Path(r).absolute()) for r in roots),
            settings.model_dump_json(exclude={"cache", "workers", "parallel_min_files"}),
            _code_stamp(),
        )
        name = hashlib.sha256(repr(header).encode()).hexdigest()[:32]
        return cls((directory or default_cache_dir()) / f"ingest-{name}.pickle", header)

    def _load(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return  # no cache yet (or not ours to follow)
        try:
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if st.st_uid != os.getuid() or st.st_mode & 0o022:
                    log.warning(
                        "ignoring parse cache %s: not yours, or others can write it", self.path
                    )
                    return
                doc = _load_quietly(fh.read())
        except Exception as exc:  # a torn or foreign file is rebuilt, never fatal
            log.debug("ignoring unreadable parse cache %s: %s", self.path, exc)
            return
        if (
            isinstance(doc, tuple)
            and len(doc) == 2
            and doc[0] == self._header
            and isinstance(doc[1], dict)
        ):
            self._old = doc[1]

    def fetch(self, c: Candidate, read: Callable[[Candidate], ReadOut]) -> ReadOut:
        """``c``'s read from the cache when its stat is unchanged, else ``read(c)`` (kept)."""
        if c.sig:
            hit = self._old.get(c.path)
            if hit is not None and hit[0] == c.sig:
                self._keep(c, hit)
                self.hits += 1
                return _thaw(hit[1], c)
        out = read(c)
        if c.sig and c.size <= MAX_ENTRY_BYTES:
            frozen = _freeze(out)
            if frozen is not None and self._keep(c, (c.sig, frozen)):
                self._added += 1
        return out

    def _keep(self, c: Candidate, entry: _Entry) -> bool:
        """Keep ``entry`` for the save when it fits in the budget (hits and new reads alike)."""
        if self._bytes + c.size > BUDGET_BYTES:
            return False
        self._new[c.path] = entry
        self._bytes += c.size
        return True

    @property
    def changed(self) -> bool:
        return self._added > 0 or self._new.keys() != self._old.keys()

    def save(self) -> None:
        """Write the entries this run used, when they changed; a failure is logged, not raised."""
        if not self.changed:
            return
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            data = pickle.dumps((self._header, self._new), protocol=pickle.HIGHEST_PROTOCOL)
            with atomic_writer(self.path, binary=True, durable=False, private=True) as fh:
                fh.write(data)
            _prune(self.path.parent, keep=self.path)
        except (OSError, OutputError) as exc:
            log.warning("parse cache not saved (%s); ingestion is not affected", exc)


def _load_quietly(data: bytes) -> Any:
    """Unpickle with the restricted unpickler (only the cache's own record types)."""
    return _Unpickler(io.BytesIO(data)).load()


def _freeze(out: ReadOut) -> _Frozen | None:
    if isinstance(out, Skipped):
        if out.reason not in _STABLE_SKIPS:
            return None
        return ("skip", out.reason, out.detail, out.bytes, out.sha256)
    got, content_key, mentions = out
    return (
        "read",
        got.format,
        got.encoding,
        got.sha256,
        got.oddities,
        got.parsed,
        got.long_lines,
        content_key,
        mentions,
    )


def _thaw(frozen: _Frozen, c: Candidate) -> ReadOut:
    if frozen[0] == "skip":
        _, reason, detail, size, sha = frozen
        return Skipped(path=c.display, reason=reason, detail=detail, bytes=size, sha256=sha)
    _, fmt, encoding, sha, oddities, parsed, long_lines, content_key, mentions = frozen
    return FileRead(fmt, encoding, sha, oddities, parsed, long_lines), content_key, mentions


def _prune(directory: Path, keep: Path) -> None:
    """Delete the oldest cache files beyond MAX_CACHE_FILES (one listing, on save only)."""
    files = []
    with os.scandir(directory) as it:
        for e in it:
            if e.name.startswith("ingest-") and e.name.endswith(".pickle") and e.is_file():
                files.append((e.stat().st_mtime_ns, e.path))
    files.sort(reverse=True)
    for _, path in files[MAX_CACHE_FILES:]:
        if path != str(keep):
            Path(path).unlink(missing_ok=True)
