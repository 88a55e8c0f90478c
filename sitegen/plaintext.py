"""A Python-Markdown extension: text that no inline pattern can match is left as it is.

Python-Markdown runs every inline pattern (links, emphasis, code, entities...) over every
piece of text, one after another; on policy text, mostly plain sentences, that costs as
much as the rest of rendering. Each of Python-Markdown's own patterns needs a certain
character to match at all (a link needs "[", an entity "&", code a backtick...). So a
piece of text is first checked for those characters, a far cheaper test; text with none
of them (and no match of any other pattern, searched for the usual way) cannot be
changed by any pattern, and the loop is skipped. The output is exactly Python-Markdown's:
tests/site/test_render.py compares the two.

The characters are known by each pattern's regular expression, as Python-Markdown
defines it: a pattern whose expression is not in that table is searched for itself. The
loop is InlineProcessor's private ``__handleInline``: were it renamed, this extension
would change nothing (a test notices).
"""

from __future__ import annotations

import re

from markdown import inlinepatterns as stock
from markdown.extensions import Extension
from markdown.treeprocessors import InlineProcessor
from markdown.util import AtomicString

# Python-Markdown's expression -> texts one of which every match contains.
NEEDED = {
    stock.BACKTICK_RE: ("`",),
    stock.ESCAPE_RE: ("\\",),
    stock.LINK_RE: ("[",),
    stock.IMAGE_LINK_RE: ("[",),
    stock.AUTOLINK_RE: ("<",),
    stock.AUTOMAIL_RE: ("<",),
    stock.HTML_RE: ("<",),
    stock.ENTITY_RE: ("&",),
    stock.LINE_BREAK_RE: ("  \n",),
}
_SINGLE_CHARACTERS = re.compile(r"\\?[^\\|](?:\|\\?[^\\|])*")  # "\*|_": emphasis delimiters


def needed_texts(expression: str) -> tuple[str, ...] | None:
    """What every match of ``expression`` contains one of; None when not known."""
    if expression in NEEDED:
        return NEEDED[expression]
    if _SINGLE_CHARACTERS.fullmatch(expression):
        return tuple(part[-1] for part in expression.split("|"))
    return None


class PlainTextInlineProcessor(InlineProcessor):
    shortcuts = 0  # texts left as they were without running the patterns (for tests)
    _gate = None

    def run(self, tree, ancestors=None):
        texts: set[str] = set()
        searches = []
        for pattern in self.inlinePatterns:
            if not isinstance(pattern, stock.InlineProcessor):  # an old-style Pattern: no shortcut
                self._gate = None
                return super().run(tree, ancestors)
            needed = needed_texts(pattern.compiled_re.pattern)
            if needed is None:
                searches.append(pattern.compiled_re.search)
            else:
                texts.update(needed)
        self._gate = (tuple(texts), tuple(searches))
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if patternIndex == 0 and self._gate is not None and not isinstance(data, AtomicString):
            texts, searches = self._gate
            if not any(text in data for text in texts) and not any(search(data) for search in searches):
                PlainTextInlineProcessor.shortcuts += 1
                return data
        return InlineProcessor._InlineProcessor__handleInline(self, data, patternIndex)


class PlainTextExtension(Extension):
    def extendMarkdown(self, md):  # noqa: N802 - Python-Markdown's name
        md.treeprocessors.register(PlainTextInlineProcessor(md), "inline", 20)
