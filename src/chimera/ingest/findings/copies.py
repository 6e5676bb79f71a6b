"""Copies: byte-identical files, and reports identical but for timestamps, learned while the
files are read (so no map of every file's hash is held when the findings are made)."""

from __future__ import annotations

from chimera.ingest.findings import Finding, shown


class Repeats:
    """Which files repeat an earlier one; fed every file in reading order.

    The first path per hash (and per report content key) sits in flat maps that ``finish``
    lets go; lists are kept only for the hashes seen again: on a tree of 100,000 files the maps
    cost 7 MB and the content keys another 4 MB, which the findings stage no longer holds.
    """

    def __init__(self) -> None:
        self._first: dict[str, str] = {}  # content hash -> first path
        self._copies: dict[str, list[str]] = {}  # hash -> its paths, for hashes seen again
        self._first_content: dict[str, tuple[str, str]] = {}  # content key -> (hash, path)
        self._near: dict[str, dict[str, str]] = {}  # content key -> hash -> first path
        self._skipped: list[tuple[str, str]] = []

    def file(self, sha256: str, path: str, content_key: str = "") -> str | None:
        """Note a readable file; the earlier file it repeats (its bytes, else its report
        content without timestamps), or None. ``content_key``: '' unless a report."""
        first = self._first.get(sha256)
        if first is None:
            self._first[sha256] = path
        else:
            self._copies.setdefault(sha256, [first]).append(path)
        if not content_key:
            return first
        got = self._first_content.setdefault(content_key, (sha256, path))
        if got[0] == sha256:
            return first
        # A report regenerated with a new timestamp says nothing new (a data file that differs
        # only in timestamps is another run that happened to measure the same: no key).
        self._near.setdefault(content_key, {got[0]: got[1]}).setdefault(sha256, path)
        return first if first is not None else got[1]

    def skipped(self, sha256: str | None, path: str) -> None:
        """Note a file that was not ingested; its bytes still join a set of copies."""
        if sha256:
            self._skipped.append((sha256, path))

    def finish(self) -> None:
        """Every file noted: keep the sets of copies only."""
        for sha256, path in self._skipped:
            seen = self._first.get(sha256)
            if seen is None:
                self._first[sha256] = path
            else:
                self._copies.setdefault(sha256, [seen]).append(path)
        self._first, self._first_content, self._skipped = {}, {}, []

    def findings(self) -> list[Finding]:
        """Byte-identical copies (facts are read once) and copies differing only in timestamps."""
        out: list[Finding] = []
        groups = sorted(sorted(paths) for paths in self._copies.values())
        if groups:
            n_files = sum(len(g) for g in groups)
            out.append(
                Finding(
                    kind="duplicate_file",
                    severity="warning",
                    title=f"{len(groups)} set(s) of byte-identical files ({n_files} files): the "
                    f"same results stored twice; counted once here, twice by a naive analysis",
                    files=[p for g in groups for p in g],
                    evidence=shown([" = ".join(g) for g in groups]),
                )
            )
        near = sorted(sorted(paths.values()) for paths in self._near.values())
        if near:
            out.append(
                Finding(
                    kind="duplicate_content",
                    severity="info",
                    title=f"{len(near)} set(s) of files identical except for timestamps or "
                    f"whitespace",
                    files=[p for g in near for p in g],
                    evidence=shown([" ~ ".join(g) for g in near]),
                )
            )
        return out
