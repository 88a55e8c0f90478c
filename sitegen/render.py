"""Markdown to HTML, redlines between versions (``policytext.redline``), and the on-disk render cache.

Rendering Markdown is the expensive part of a build, so its result is cached by the hash
of the text that was rendered (after citations were filled in): a new process with an
emptied output folder re-renders no unchanged Markdown. Redlines are cached by the pair of
HTML hashes they compare.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from policytext.redline import redline
from sitegen.content import heading_lines
from sitegen.packages import version_in_source

if TYPE_CHECKING:
    import markdown

EXTENSIONS = ("attr_list", "sane_lists", "tables")
# Bump the first number when the Markdown setup or what a cache entry holds changes.
# Markdown's version is read from its source: it is imported only when a text is rendered,
# which most rebuilds never do (and a build that does, does it beside other work).
RENDERER_VERSION = f"4/{version_in_source('markdown', '__meta__.py', '__version_info__')}/{','.join(EXTENSIONS)}"

# A leading space instead of \b: a literal prefix makes these scans twenty times faster.
_ID = re.compile(r' id="([^"]+)"')
_HREF = re.compile(r' href="([^"]+)"')


@functools.cache
def converter() -> "markdown.Markdown":
    """The converter, made when first needed. Its extensions are passed as objects: named,
    Markdown looks them up among every installed package's entry points, which is slow.
    PlainTextExtension and BlockGateExtension only make it faster: the HTML is the same
    without them."""
    import markdown
    from markdown.extensions.attr_list import AttrListExtension
    from markdown.extensions.sane_lists import SaneListExtension
    from markdown.extensions.tables import TableExtension

    from sitegen.plainblocks import BlockGateExtension
    from sitegen.plaintext import PlainTextExtension

    extensions = {"attr_list": AttrListExtension, "sane_lists": SaneListExtension, "tables": TableExtension}
    return markdown.Markdown(extensions=[*(extensions[name]() for name in EXTENSIONS), PlainTextExtension(),
                                         BlockGateExtension()],
                             output_format="html")


def converter_made() -> bool:
    """Whether this process has made its Markdown converter (and so imported Markdown)."""
    return converter.cache_info().currsize > 0


def body_key(text: str) -> str:
    """The cache key of a Markdown text: what is rendered, and how."""
    return body_key_of(hashlib.sha256(text.encode()).hexdigest())


def body_key_of(text_sha256: str) -> str:
    """The cache key of a Markdown text, from the sha256 of the text."""
    return hashlib.sha256(f"{RENDERER_VERSION}\n{text_sha256}".encode()).hexdigest()


_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:", re.MULTILINE)
SECTION_BREAK = "\n"


def sections(text: str) -> list[str]:
    """The text cut before every ATX heading that follows a blank line (outside code).

    Versions of a policy share most sections, so rendering section by section lets a
    build render each distinct section once. Text with reference definitions (which
    reach across sections) stays whole.
    """
    if "]:" in text and _REFERENCE.search(text):
        return [text]
    lines = text.split("\n")
    cuts = [index for index, _ in heading_lines(text) if index and not lines[index - 1].strip()]
    return ["\n".join(lines[start:end]) for start, end in zip([0, *cuts], [*cuts, len(lines)])]


def render_markdown(text: str, memo: dict[str, str] | None = None) -> str:
    """The HTML of ``text``; ``memo`` (section text -> HTML) is shared by the calls of one run."""
    memo = {} if memo is None else memo
    rendered = []
    for section in sections(text):
        html = memo.get(section)
        if html is None:
            html = memo[section] = converter().reset().convert(section)
        if html:
            rendered.append(html)
    return SECTION_BREAK.join(rendered)


def page_ids_and_links(html: str) -> tuple[str, str]:
    """The ids and the distinct links of a page, each as one newline-separated string
    (a build keeps them for every page: one string is far smaller than a list of them)."""
    return "\n".join(_ID.findall(html)), "\n".join(sorted(set(_HREF.findall(html))))


class RenderCache:
    """Rendered bodies and redlines (their HTML) in one SQLite file, shared by the build's processes."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._pending: list[tuple[str, str, str]] = []  # redlines to store at the next flush

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():  # a forked worker opens its own
            self.folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.folder / "render.sqlite", timeout=60, isolation_level=None)
            # Entries are whole pages (tens of kB): large pages write them in a few calls.
            self._db.execute("PRAGMA page_size=65536")  # takes effect when the file is created
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA wal_autocheckpoint=64")  # pages: 4 MB, not 1,000 of 64 kB
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS entry (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS html_sha256 (key TEXT PRIMARY KEY, sha256 TEXT NOT NULL)")
            self._pid = os.getpid()
        return self._db

    def _read(self, kind: str, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM entry WHERE key = ?", (f"{kind}:{key}",)).fetchone()
        return row[0] if row else None

    def _write(self, kind: str, key: str, html: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO entry (key, value) VALUES (?, ?)", (f"{kind}:{key}", html))

    def missing_bodies(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` have no rendered body yet."""
        return set(keys) - set(self.body_sha256(keys))

    def body_sha256(self, keys: list[str]) -> dict[str, str]:
        """The sha256 of the rendered HTML of each of ``keys`` that has been rendered."""
        found: dict[str, str] = {}
        listed = list(set(keys))
        for i in range(0, len(listed), 500):
            chunk = listed[i:i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT key, sha256 FROM html_sha256 WHERE key IN ({marks})", chunk))
        return found

    def body(self, key: str, text: str | None = None) -> str:
        """The rendered HTML of ``key``, rendering ``text`` (and caching it) on a miss."""
        found = self._read("body", key)
        if found is None:
            if text is None:
                raise KeyError(f"no rendered body {key} in the cache")
            found = render_markdown(text)
            self.store_bodies([(key, found)])
        return found

    def store_bodies(self, entries: list[tuple[str, str]]) -> None:
        """Store rendered HTML by body key."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for key, html in entries:
                self._write("body", key, html)
                self.db.execute("INSERT OR REPLACE INTO html_sha256 (key, sha256) VALUES (?, ?)",
                                (key, hashlib.sha256(html.encode()).hexdigest()))

    def redline(self, old_key: str, new_key: str) -> str:
        key = hashlib.sha256(f"{RENDERER_VERSION}\n{old_key}\n{new_key}".encode()).hexdigest()
        found = self._read("redline", key)
        if found is None:
            found = redline(self.body(old_key), self.body(new_key))
            self._pending.append(("redline", key, found))
        return found

    @contextlib.contextmanager
    def reading(self):
        """Reads inside one transaction: SQLite locks and unlocks the file once for all."""
        self.db.execute("BEGIN")
        try:
            yield self
        finally:
            self.db.execute("COMMIT")

    def close(self) -> None:
        """Close this process's connection: the last one out folds the write-ahead log into
        the database, so the next build does not have to read the log back first."""
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None

    def flush(self) -> None:
        """Store what was computed since the last flush, in one transaction (a write per
        redline would have the workers queue for the database lock)."""
        if not self._pending:
            return
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for kind, key, html in self._pending:
                self._write(kind, key, html)
        self._pending.clear()
