"""What a build records for the next one, in the cache folder.

- the documents record: what was read from each content file (content.load's ``known``),
  so the next build parses only the files that changed;
- one manifest per output folder: every file the build wrote there, with its key, the
  ids and links of each page (for the link check) and its stamp in the output store.

Records are marshalled: plain data (no code runs on loading, unlike pickle), read and
written several times faster than JSON. Another Python's marshal reads as unreadable,
and so does a record of another RECORD_FORMAT: the build then starts from scratch.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path

RECORD_FORMAT = 7  # bump when what the build records (manifest, documents read) hold changes

# Records this process read or wrote, by path, when KEEP_IN_MEMORY (`serve` builds again
# and again, and the record of a large site takes longer to read than a small rebuild; a
# single build would only hold them longer). Each record is kept with its file's inode,
# size and mtime; records are replaced (a new inode), never rewritten.
KEEP_IN_MEMORY = False
_RECORDS: dict[Path, tuple[tuple[int, int, int], dict]] = {}


def manifest_path(cache: Path, out: Path) -> Path:
    """Where the manifest of the output folder ``out`` is kept."""
    where = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:16]
    return cache / "manifests" / f"{where}.record"


def read_record(path: Path) -> dict:
    """A record of an earlier build; empty when missing, unreadable or of another format.
    The caller must not change it."""
    try:
        stamp = _stamp(path)
        if path in _RECORDS and _RECORDS[path][0] == stamp:
            return _RECORDS[path][1]
        stored = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    if not isinstance(stored, tuple) or len(stored) != 3 or stored[:2] != (RECORD_FORMAT, sys.version):
        return {}
    if KEEP_IN_MEMORY:
        _RECORDS[path] = (stamp, stored[2])
    return stored[2]


def record_bytes(data: dict) -> bytes:
    return marshal.dumps((RECORD_FORMAT, sys.version, data))


def write_record(path: Path, data: dict) -> None:
    _publish(_stage(path, record_bytes(data)), path, data)


def _stage(path: Path, payload: bytes) -> Path:
    """Write a marshalled record beside ``path``, where no build reads it yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_bytes(payload)
    return tmp


def _publish(tmp: Path, path: Path, kept: dict | None) -> None:
    """Move a staged record into place; keep ``kept`` (the record) in memory when
    KEEP_IN_MEMORY."""
    os.replace(tmp, path)
    if KEEP_IN_MEMORY and kept is not None:
        _RECORDS[path] = (_stamp(path), kept)


class PendingRecord:
    """A record to write once the site is written (`serve` shows an edit sooner). Held
    marshalled, a fraction of the memory of the record itself, or once staged in a file
    beside its place."""

    def __init__(self, path: Path, payload: bytes | None, kept: dict | None):
        self.path = path
        self._payload = payload  # None: nothing to write
        self._kept = kept  # the record, for KEEP_IN_MEMORY
        self._staged: Path | None = None

    def stage(self) -> None:
        """Write the bytes now and let go of them: workers about to be forked would each
        carry them (the largest part of a large build's peak memory that no worker reads)."""
        if self._payload is not None:
            self._staged, self._payload = _stage(self.path, self._payload), None

    def write(self) -> None:
        if self._payload is not None:
            self.stage()
        if self._staged is not None:
            _publish(self._staged, self.path, self._kept)
            self._staged = None


def _stamp(path: Path) -> tuple[int, int, int]:
    found = os.stat(path)
    return found.st_ino, found.st_size, found.st_mtime_ns
