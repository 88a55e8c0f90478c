"""What a build keeps for the next one, in the cache folder, and the keys it is kept by.

- keys: every rendered text is keyed by the hash of its Markdown (citations filled in)
  and of how it is rendered; every output by the hash of everything it is made from
  (``key``), so a rebuild renders only what an edit touched;
- the documents record: what was read from each content file, so the next build parses
  only the files that changed;
- the manifest of each output folder: every file the last build wrote there, its key,
  the ids and links of each page (for the link check) and its stamp in the output store;
- the render cache: rendered Markdown, in one SQLite file shared by the build's
  processes (a redline is made again with the page that shows it: keeping them made the
  cold build of 1,000 bench pages write 13 MB more, and took it 0.04 s longer);
- the output store: every finished file, hard-linked by its key, so a build into an
  emptied output folder links unchanged files back instead of rendering them again.

Records are marshalled: plain data (no code runs on loading, unlike pickle). Another
Python's marshal, or a record of another RECORD_FORMAT, reads as empty: the build then
starts from scratch.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sqlite3
import sys
from pathlib import Path

import markdown

RECORD_FORMAT = 13  # bump when what a record holds changes
EXTENSIONS = ("attr_list", "sane_lists", "tables")  # the Markdown extensions every text is rendered with
# Bump the first number when the Markdown setup or what a cache entry holds changes.
# Python-Markdown's own version attribute: importing importlib.metadata to ask for it took a
# one-page rebuild of 1,000 bench pages 20 ms of CPU, of its 0.3 s (the target).
RENDERER_VERSION = f"5/{markdown.__version__}/{','.join(EXTENSIONS)}"

Stamp = tuple[int, int]  # (size, mtime_ns) of a stored file


def key(*parts: object) -> str:
    """The key of plain data (strings, numbers, dates, and lists, tuples and dicts of them):
    their repr() is exact and stable."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def body_key(text: str) -> str:
    """The render cache's key of a Markdown text."""
    return body_key_of(hashlib.sha256(text.encode()).hexdigest())


def body_key_of(text_sha256: str) -> str:
    """The render cache's key of a Markdown text, from the text's sha256."""
    return key(RENDERER_VERSION, text_sha256)


# --- records ----------------------------------------------------------------------------


def manifest_path(cache: Path, out: Path) -> Path:
    where = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:16]
    return cache / "manifests" / f"{where}.record"


def read_record(path: Path, held: dict | None = None) -> dict:
    """A record of an earlier build; empty when missing, unreadable or of another format.

    ``held``: the records that a process building again and again (``serve``) keeps in
    memory, by path, and writes back when it stops (reading and writing them took each edit
    of 5,000 bench pages 0.15 s, where the target is Hugo's server: 0.49 s). A record held is
    taken off the disk meanwhile: another build of the same folder would trust it."""
    if held is not None and path in held:
        return held[path]
    try:
        stored = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        stored = None
    ours = isinstance(stored, tuple) and len(stored) == 3 and stored[:2] == (RECORD_FORMAT, sys.version)
    data = stored[2] if ours else {}
    if held is not None:
        held[path] = data
        path.unlink(missing_ok=True)
    return data


def write_record(path: Path, data: dict, held: dict | None = None) -> None:
    if held is not None:
        held[path] = data
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_bytes(marshal.dumps((RECORD_FORMAT, sys.version, data)))
    os.replace(tmp, path)


# --- the render cache -------------------------------------------------------------------


class RenderCache:
    """Rendered bodies (their HTML) by key, in one SQLite file."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._stored: dict[str, str] = {}  # the bodies this process stored last, read from memory
        self._sha256: dict[str, str] = {}  # of the HTML by key, as found (a key's HTML never changes)

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():  # a worker process opens its own
            self.folder.mkdir(parents=True, exist_ok=True)
            # Used by one thread at a time: `serve` builds first in its main thread, then in its rebuilder's.
            self._db = sqlite3.connect(self.folder / "render.sqlite", timeout=60, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")  # the workers write while others read
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS body (key TEXT PRIMARY KEY, sha256 TEXT NOT NULL, html TEXT NOT NULL)")
            self._db.execute("CREATE INDEX IF NOT EXISTS body_sha256 ON body (key, sha256)")
            self._pid = os.getpid()
        return self._db

    def body_sha256(self, keys) -> dict[str, str]:
        """The sha256 of the rendered HTML of each of ``keys`` that has been rendered."""
        keys = set(keys)
        self._sha256.update(self._rendered(keys - self._sha256.keys()))
        return {key_: self._sha256[key_] for key_ in keys if key_ in self._sha256}

    def missing_bodies(self, keys) -> set[str]:
        """The keys not rendered yet (asked of the file: it may have been emptied since)."""
        keys = set(keys)
        return keys - self._rendered(keys).keys()

    def _rendered(self, keys: set[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        listed = list(keys)
        for i in range(0, len(listed), 500):
            chunk = listed[i:i + 500]
            found.update(self.db.execute(f"SELECT key, sha256 FROM body WHERE key IN ({','.join('?' * len(chunk))})", chunk))
        return found

    def body(self, key: str) -> str:
        if key in self._stored:
            return self._stored[key]
        row = self.db.execute("SELECT html FROM body WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(f"no rendered body {key} in the cache")
        return row[0]

    def store_bodies(self, entries: list[tuple[str, str]]) -> None:
        """Store rendered HTML by body key, in one transaction (and keep it in memory until
        the next call: the pages that show these bodies are rendered next)."""
        self._stored = dict(entries)
        rows = [(k, hashlib.sha256(html.encode()).hexdigest(), html) for k, html in entries]
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT OR REPLACE INTO body (key, sha256, html) VALUES (?, ?, ?)", rows)
        self._sha256.update((k, sha256) for k, sha256, _ in rows)

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None


# --- the output store -------------------------------------------------------------------


class OutputStore:
    """Finished files by key, hard-linked (they share the output's data: no extra space).

    A file edited in place under the output folder changes its stored twin too, so the
    size and modification time of each stored file are recorded in the manifest, and a
    stored file that no longer matches is never placed again. Without hard links (the
    cache on another file system) the store stays empty."""

    def __init__(self, folder: Path):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)

    def path(self, key: str) -> str:
        return f"{self.folder}/{key}"

    def has(self, key: str, stamp: Stamp) -> bool:
        """Whether the file of ``key`` is stored and unchanged since ``stamp`` was taken."""
        try:
            found = os.stat(self.path(key))
        except OSError:
            return False
        return (found.st_size, found.st_mtime_ns) == tuple(stamp)

    def keep(self, key: str, written: str) -> Stamp:
        """Store the file just written under ``key``; its stamp."""
        found = os.stat(written)
        try:
            try:
                os.link(written, self.path(key))
            except FileExistsError:  # an earlier file of this key: replaced atomically
                fresh = f"{self.path(key)}.{os.getpid()}.tmp"
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(fresh)
                os.link(written, fresh)
                os.replace(fresh, self.path(key))
        except OSError:  # no hard links here: nothing is stored
            return (-1, -1)
        return found.st_size, found.st_mtime_ns

    def drop(self, keys) -> None:
        for key_ in keys:
            with contextlib.suppress(OSError):
                os.unlink(self.path(key_))
