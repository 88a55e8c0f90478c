"""Markdown to HTML (the redline between versions is ``policytext.redline``)."""

from __future__ import annotations

import functools
import re

import markdown
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
    md = markdown.Markdown(extensions=[extensions[name]() for name in EXTENSIONS], output_format="html")
    md.treeprocessors.register(_PlainText(md), "plain_text", 21)  # just before "inline" (20)
    return md


class _PlainText(Treeprocessor):
    """Marks the text that no inline pattern matches as atomic (Python-Markdown's documented
    way to say "no inline markup here"), so the inline processor passes it by. It would find
    nothing in it either, so the HTML is the same; asking each pattern once costs less than
    its processor's work for each (the cold build of 1,000 bench pages, within 2.5x of Hugo:
    Markdown took a fifth less CPU)."""

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


def sections(text: str) -> list[str]:
    """The text cut before every ATX heading that follows a blank line (outside code); a
    text with reference definitions (which reach across sections) stays whole.

    Versions of a policy share most sections, and a build renders each distinct one once:
    the Markdown of a cold build of 1,000 bench pages in a third of the time it takes text
    by text (1.0 against 2.8 ms a page), within the target of 2.5x Hugo's."""
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
    return "\n".join(rendered)


def page_ids_and_links(html: str) -> tuple[str, str]:
    """The ids and the distinct links of a page, each as one newline-separated string
    (a build keeps them for every page: one string is far smaller than a list of them)."""
    return "\n".join(_ID.findall(html)), "\n".join(sorted(set(_HREF.findall(html))))
