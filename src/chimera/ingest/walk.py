"""Recursive walk: the candidate files under the given paths, and what was skipped and why."""

from __future__ import annotations

import errno
import os
import posixpath
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chimera.errors import InputFileError
from chimera.ingest.records import Format, Skipped
from chimera.ingest.settings import IngestSettings

EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".log": "text",
}
# Text formats that are not benchmark artifacts: listed as unsupported without reading them.
UNSUPPORTED: frozenset[str] = frozenset(
    {
        ".py",
        ".pyc",
        ".ipynb",
        ".yaml",
        ".yml",
        ".toml",
        ".ini",
        ".cfg",
        ".conf",
        ".html",
        ".htm",
        ".xml",
        ".css",
        ".js",
        ".ts",
        ".sh",
        ".bat",
        ".ps1",
        ".c",
        ".h",
        ".cpp",
        ".cu",
        ".rs",
        ".go",
        ".java",
        ".svg",
        ".gitignore",
        ".lock",
        ".env",
        ".sql",
        ".tex",
        ".rst",
    }
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A regular file to read."""

    path: str  # as the OS knows it (a str: 100,000 Path objects would cost 50 MB)
    display: str  # relative to the scan base, '/'-separated
    size: int
    mtime: float
    format: Format | None  # from the extension; None: decided by sniffing the content
    root_index: int
    # the stat signature (size, times, inode) a parse cache checks; (): the file changed too
    # recently for its stat to prove it unchanged later (see RACY_WINDOW_NS)
    sig: tuple[int, ...] = ()


# A file changed less than this before the walk may change again within the same timestamp
# tick without its stat showing it (file systems stamp times at 4 ms to 2 s granularity).
RACY_WINDOW_NS = 2_000_000_000


@dataclass(slots=True)
class WalkResult:
    """Candidates in walk order (roots in order, then sorted names), skips, hidden count."""

    candidates: list[Candidate] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    hidden: int = 0
    # Candidates past this many get no signature: a tree that big is read in parallel, without
    # the parse cache, and 100,000 signatures would cost 15 MB of the peak.
    sig_limit: int = 0


def display_base(roots: Sequence[Path], cwd: Path) -> Path:
    """Where displayed paths are relative to: the cwd when every root is inside it, else the
    roots' deepest common directory (a single directory root is its own base)."""
    resolved = [r.resolve() for r in roots]
    if all(r == cwd or r.is_relative_to(cwd) for r in resolved):
        return cwd
    dirs = [r if r.is_dir() else r.parent for r in resolved]
    return Path(os.path.commonpath([str(d) for d in dirs]))


def _rel(path: Path, base: Path) -> str:
    try:
        rel = path.resolve().relative_to(base)
    except ValueError:
        return path.as_posix()
    text = rel.as_posix()
    return "" if text == "." else text


def walk(roots: Sequence[Path], settings: IngestSettings, base: Path) -> WalkResult:
    """Walk ``roots`` (directories or files) into candidates and skips; never raises for a
    file that misbehaves, only for a root that does not exist."""
    out = WalkResult(sig_limit=settings.parallel_min_files if settings.cache else 0)
    visited: dict[tuple[int, int], str] = {}
    settled = time.time_ns() - RACY_WINDOW_NS
    for index, root in enumerate(roots):
        try:
            st = root.stat()
        except FileNotFoundError:
            raise InputFileError(str(root), "no such file or directory; check the path") from None
        except OSError as exc:
            raise InputFileError(str(root), f"cannot be read ({exc.strerror})") from None
        shown = _rel(root, base)
        if stat.S_ISDIR(st.st_mode):
            visited[(st.st_dev, st.st_ino)] = shown or "."
            _walk_dir(root, shown, index, settings, visited, out, settled)
        else:
            _add_file(str(root), shown or root.name, st, index, out, settled)
    return out


def _walk_dir(
    root: Path,
    shown: str,
    index: int,
    settings: IngestSettings,
    visited: dict[tuple[int, int], str],
    out: WalkResult,
    settled: int,
) -> None:
    stack: list[tuple[str, str, tuple[str, ...]]] = [(str(root), shown, (shown or ".",))]
    while stack:
        dir_path, dir_shown, ancestors = stack.pop()
        try:
            with os.scandir(dir_path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except FileNotFoundError:
            out.skipped.append(
                Skipped(
                    path=dir_shown or ".",
                    reason="vanished",
                    detail="directory disappeared during the scan",
                )
            )
            continue
        except OSError as exc:
            out.skipped.append(
                Skipped(
                    path=dir_shown or ".",
                    reason="unreadable",
                    detail=f"cannot list directory ({exc.strerror})",
                )
            )
            continue
        subdirs: list[tuple[str, str, tuple[str, ...]]] = []
        for entry in entries:
            name = entry.name
            if name.startswith(".") and not settings.include_hidden:
                out.hidden += 1
                continue
            child_shown = f"{dir_shown}/{name}" if dir_shown else name
            try:
                is_link = entry.is_symlink()
                st = entry.stat(follow_symlinks=True)
            except FileNotFoundError:
                reason = "unreadable" if _is_link(entry) else "vanished"
                detail = (
                    "broken symbolic link (its target does not exist)"
                    if reason == "unreadable"
                    else "file disappeared during the scan"
                )
                out.skipped.append(Skipped(path=child_shown, reason=reason, detail=detail))
                continue
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    out.skipped.append(
                        Skipped(
                            path=child_shown,
                            reason="symlink_loop",
                            detail="symbolic link loop (it resolves to itself)",
                        )
                    )
                else:
                    out.skipped.append(
                        Skipped(
                            path=child_shown,
                            reason="unreadable",
                            detail=f"cannot stat ({exc.strerror})",
                        )
                    )
                continue
            if stat.S_ISDIR(st.st_mode):
                if is_link and not settings.follow_symlinks:
                    out.skipped.append(
                        Skipped(
                            path=child_shown,
                            reason="unsupported_type",
                            detail="symbolic link to a directory (not followed)",
                        )
                    )
                    continue
                key = (st.st_dev, st.st_ino)
                seen = visited.get(key)
                if seen is not None:
                    loop = seen in ancestors
                    out.skipped.append(
                        Skipped(
                            path=child_shown,
                            reason="symlink_loop",
                            detail=(
                                f"symbolic link back to {seen!r}, a directory above it"
                                if loop
                                else f"directory already scanned as {seen!r}"
                            ),
                        )
                    )
                    continue
                visited[key] = child_shown
                subdirs.append((entry.path, child_shown, (*ancestors, child_shown)))
            elif stat.S_ISREG(st.st_mode):
                _add_file(entry.path, child_shown, st, index, out, settled)
            else:
                out.skipped.append(
                    Skipped(
                        path=child_shown,
                        reason="unsupported_type",
                        detail=f"not a regular file ({_kind(st.st_mode)})",
                    )
                )
        stack.extend(reversed(subdirs))


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "special file"


def _add_file(
    path: str, shown: str, st: os.stat_result, index: int, out: WalkResult, settled: int
) -> None:
    suffix = posixpath.splitext(shown)[1].lower()
    fmt = EXTENSIONS.get(suffix)
    if fmt is None and suffix in UNSUPPORTED:
        out.skipped.append(
            Skipped(
                path=shown,
                reason="unsupported_type",
                bytes=st.st_size,
                detail=f"{suffix} files are not benchmark artifacts",
            )
        )
        return
    sig: tuple[int, ...] = ()
    if (
        st.st_mtime_ns < settled
        and st.st_ctime_ns < settled
        and len(out.candidates) < out.sig_limit
    ):
        sig = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    out.candidates.append(Candidate(path, shown, st.st_size, st.st_mtime, fmt, index, sig))
