"""Markdown to HTML, redlines between versions, and the on-disk render cache.

Rendering Markdown is the expensive part of a build, so its result is cached by the hash
of the text that was rendered (after citations were filled in): a new process with an
emptied output folder re-renders no unchanged Markdown. Redlines are cached by the pair of
HTML hashes they compare.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import markdown
from lxml.html.diff import htmldiff

EXTENSIONS = ("attr_list", "sane_lists", "tables")
# Bump when the Markdown setup or what a cache entry holds changes.
RENDERER_VERSION = f"1/{markdown.__version__}/{','.join(EXTENSIONS)}"

# A leading space instead of \b: a literal prefix makes these scans twenty times faster.
_ID = re.compile(r' id="([^"]+)"')
_HREF = re.compile(r' href="([^"]+)"')

_markdown = markdown.Markdown(extensions=list(EXTENSIONS), output_format="html")


@dataclass(frozen=True)
class Rendered:
    html: str
    ids: tuple[str, ...]
    links: tuple[str, ...]


def body_key(text: str) -> str:
    """The cache key of a Markdown text: what is rendered, and how."""
    return hashlib.sha256(f"{RENDERER_VERSION}\n{text}".encode()).hexdigest()


_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING = re.compile(r"^#{1,6}\s")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:", re.MULTILINE)
SECTION_BREAK = "\n"


def sections(text: str) -> list[str]:
    """The text cut before every ATX heading that follows a blank line (outside code).

    Versions of a policy share most sections, so rendering section by section lets a
    build render each distinct section once. Text with reference definitions (which
    reach across sections) stays whole.
    """
    if _REFERENCE.search(text):
        return [text]
    parts: list[list[str]] = [[]]
    fenced = False
    previous_blank = True
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and previous_blank and _HEADING.match(line) and parts[-1]:
            parts.append([])
        parts[-1].append(line)
        previous_blank = not line.strip()
    return ["\n".join(part) for part in parts]


def render_markdown(text: str, memo: dict[str, str] | None = None) -> Rendered:
    """Render ``text``; ``memo`` (section text -> HTML) is shared by the calls of one run."""
    memo = {} if memo is None else memo
    rendered = []
    for section in sections(text):
        html = memo.get(section)
        if html is None:
            html = memo[section] = _markdown.reset().convert(section)
        if html:
            rendered.append(html)
    html = SECTION_BREAK.join(rendered)
    return Rendered(html, tuple(_ID.findall(html)), tuple(_HREF.findall(html)))


_BLOCK_START = re.compile(r"\n(?=<h[1-6][ >])")


def redline(old_html: str, new_html: str) -> str:
    """The new version's HTML with word-level ``<ins>`` and ``<del>`` against the old.

    Sections (cut before each heading) are aligned first; only sections that differ go
    through the word-level diff, which is what makes redlines of long, mostly unchanged
    policies cheap.
    """
    old, new = _BLOCK_START.split(old_html), _BLOCK_START.split(new_html)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.extend(new[b1:b2])
        else:
            out.append(htmldiff("\n".join(old[a1:a2]), "\n".join(new[b1:b2])))
    return "\n".join(out)


def page_ids_and_links(html: str) -> tuple[list[str], list[str]]:
    return _ID.findall(html), sorted(set(_HREF.findall(html)))


class RenderCache:
    """Rendered bodies and redlines on disk, one JSON file per key."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, kind: str, key: str) -> Path:
        return self.folder / kind / key[:2] / f"{key}.json"

    def _read(self, kind: str, key: str) -> dict | None:
        try:
            return json.loads(self._path(kind, key).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None

    def _write(self, kind: str, key: str, value: dict) -> None:
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(value, out)
        os.replace(tmp, path)

    def has_body(self, key: str) -> bool:
        return self._path("body", key).exists()

    def body(self, key: str, text: str | None = None) -> Rendered:
        """The rendered body of ``key``, rendering ``text`` (and caching it) on a miss."""
        found = self._read("body", key)
        if found is None:
            if text is None:
                raise KeyError(f"no rendered body {key} in the cache")
            rendered = render_markdown(text)
            self.store_body(key, rendered)
            return rendered
        return Rendered(found["html"], tuple(found["ids"]), tuple(found["links"]))

    def store_body(self, key: str, rendered: Rendered) -> None:
        self._write("body", key, {"html": rendered.html, "ids": rendered.ids, "links": rendered.links})

    def redline(self, old_key: str, new_key: str) -> str:
        key = hashlib.sha256(f"{RENDERER_VERSION}\n{old_key}\n{new_key}".encode()).hexdigest()
        found = self._read("redline", key)
        if found is None:
            html = redline(self.body(old_key).html, self.body(new_key).html)
            self._write("redline", key, {"html": html})
            return html
        return found["html"]
