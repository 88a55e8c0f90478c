"""Markdown to HTML, and redlines between versions (the HTML of a version with the words
it adds and drops marked)."""

from __future__ import annotations

import difflib
import functools
import re

import markdown
from markdown.extensions import Extension
from markdown.extensions.attr_list import AttrListExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from sitegen.incremental import EXTENSIONS
from sitegen.read import heading_lines

# A leading space instead of \b: a literal prefix makes these scans twenty times faster.
_ID = re.compile(r' id="([^"]+)"')
_HREF = re.compile(r' href="([^"]+)"')


@functools.cache
def converter() -> markdown.Markdown:
    """The converter of this process. Its extensions are passed as objects: by name,
    Markdown would look each up among every installed package's entry points."""
    extensions = {"attr_list": AttrListExtension, "sane_lists": SaneListExtension, "tables": TableExtension}
    return markdown.Markdown(extensions=[*(extensions[name]() for name in EXTENSIONS), _PlainText()],
                             output_format="html")


class _PlainText(Extension):
    """Marks the text that no inline pattern matches as atomic (Python-Markdown's documented
    way to say "no inline markup here"), so the inline processor passes it by. It would find
    nothing in it either, so the HTML is the same; asking each pattern once costs less than
    its processor's work for each (the cold build of 1,000 bench pages, within 2.5x of Hugo:
    Markdown took a fifth less CPU)."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_MarkPlainText(md), "plain_text", 21)  # just before "inline" (20)


class _MarkPlainText(Treeprocessor):
    def run(self, root) -> None:
        # Each expression once: several patterns share theirs (links and references).
        patterns = list(dict.fromkeys(pattern.getCompiledRegExp() for pattern in self.md.inlinePatterns))

        def plain(text: str | None) -> bool:
            return bool(text) and not isinstance(text, AtomicString) and not any(p.search(text) for p in patterns)

        for element in root.iter():
            if plain(element.text):
                element.text = AtomicString(element.text)
            if plain(element.tail):
                element.tail = AtomicString(element.tail)


_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:", re.MULTILINE)
SECTION_BREAK = "\n"


def sections(text: str) -> list[str]:
    """The text cut before every ATX heading that follows a blank line (outside code).

    Versions of a policy share most sections, so rendering section by section lets a
    build render each distinct section once: a cold build of 1,000 bench pages renders
    its Markdown in a third of the time it takes text by text (1.0 against 2.8 ms a
    page), which keeps it within the target of 2.5x Hugo's. Text with reference
    definitions (which reach across sections) stays whole.
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


_BLOCK_START = re.compile(r"\n(?=<(?:p|ul|ol|h[1-6]|table|blockquote|pre|hr|div|dl)[ >/])")
_NESTING = re.compile(r"<(/?)(ul|ol|table|blockquote|pre|div|dl)[ >]")


def blocks(html: str) -> list[str]:
    """The top-level blocks of rendered Markdown (a list, a table and a quote stay whole)."""
    found: list[str] = []
    depth = 0
    for piece in _BLOCK_START.split(html):
        if depth:
            found[-1] += "\n" + piece
        else:
            found.append(piece)
        for closing, _ in _NESTING.findall(piece):
            depth += -1 if closing else 1
    return found


def redline(old_html: str, new_html: str) -> str:
    """The new version's HTML with word-level ``<ins>`` and ``<del>`` against the old.

    Top-level blocks are aligned first; only blocks that differ go through the word-level
    diff, which is what makes redlines of long, mostly unchanged policies cheap.
    """
    old, new = blocks(old_html), blocks(new_html)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.extend(new[b1:b2])
        else:
            out.append(word_diff("\n".join(old[a1:a2]), "\n".join(new[b1:b2])))
    return "\n".join(out)


_TOKEN = re.compile(r"<[^>]*>|[^\s<]+\s*|\s+")


def word_diff(old_html: str, new_html: str) -> str:
    """``new_html`` with the words it adds in ``<ins>`` and the words it drops in ``<del>``.

    The markup is the new version's, tag for tag and in order, so the result is as
    well-formed as the new HTML: only runs of words are wrapped, and a deleted tag is
    dropped while its words are kept (struck through).
    """
    old, new = _TOKEN.findall(old_html), _TOKEN.findall(new_html)
    old_words, new_words = [t.strip() for t in old], [t.strip() for t in new]
    # The words both share at the start and at the end need no search (an edit changes a
    # few words of a block): SequenceMatcher compares only what lies between.
    head = 0
    while head < min(len(old), len(new)) and old_words[head] == new_words[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old_words[-1 - tail] == new_words[-1 - tail]:
        tail += 1
    out: list[str] = new[:head]
    matcher = difflib.SequenceMatcher(a=old_words[head:len(old) - tail], b=new_words[head:len(new) - tail],
                                      autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        a1, a2, b1, b2 = a1 + head, a2 + head, b1 + head, b2 + head
        if op == "equal":
            out.extend(new[b1:b2])
            continue
        dropped = "".join(t for t in old[a1:a2] if not t.startswith("<")).strip()
        if dropped:
            glued = out and out[-1] and not out[-1].startswith("<") and not out[-1][-1].isspace()
            out.append(f"{' ' if glued else ''}<del>{dropped}</del> ")  # not glued to the word before
        out.extend(_wrap_words(new[b1:b2], "ins"))
    out.extend(new[len(new) - tail:])
    return "".join(out)


def _wrap_words(tokens: list[str], tag: str) -> list[str]:
    """Tokens with each run of words between tags wrapped in ``<tag>``."""
    out: list[str] = []
    words: list[str] = []
    for token in tokens + ["<>"]:  # a sentinel tag flushes the last run
        if token.startswith("<"):
            text = "".join(words)
            if text.strip():
                trailing = text[len(text.rstrip()):]
                out.append(f"<{tag}>{text.rstrip()}</{tag}>{trailing}")
            else:
                out.append(text)
            words = []
            if token != "<>":
                out.append(token)
        else:
            words.append(token)
    return out


def page_ids_and_links(html: str) -> tuple[str, str]:
    """The ids and the distinct links of a page, each as one newline-separated string
    (a build keeps them for every page: one string is far smaller than a list of them)."""
    return "\n".join(_ID.findall(html)), "\n".join(sorted(set(_HREF.findall(html))))
