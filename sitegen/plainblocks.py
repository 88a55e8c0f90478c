"""A Python-Markdown extension: a block is not searched for what it cannot contain.

Python-Markdown offers every block of text to its block processors in turn, and several
of them search the whole block with a regular expression: is there a heading, a quote or
a rule anywhere in it? Policy text is mostly paragraphs, which all of them reject, and
those searches took a third of rendering. Each expression needs a certain text to match
at all (a quote needs ">", a heading "#"), which ``in`` finds far faster; a block without
it is turned down at once. Likewise the raw-HTML preprocessor, which reads the whole text
with an HTML parser, has nothing to do in a text with neither "<" nor "&".

The output is exactly Python-Markdown's: tests/site/test_render.py compares the two. Each
gate is keyed by the expression it stands in for, copied from Python-Markdown: were one
changed in a new release, its processor would simply run as before (a test notices).
"""

from __future__ import annotations

from typing import Callable

from markdown import blockprocessors as stock
from markdown.extensions import Extension
from markdown.extensions.tables import TableProcessor
from markdown.preprocessors import HtmlBlockPreprocessor


def _contains(text: str) -> Callable[[str], bool]:
    return lambda block: text in block


def _three_of_one_rule_character(block: str) -> bool:
    return block.count("-") >= 3 or block.count("_") >= 3 or block.count("*") >= 3


# (processor class, the expression its test or run searches with) -> what a block must pass
# to possibly match it.
BLOCK_GATES: dict[tuple[type, str], tuple[str, Callable[[str], bool]]] = {
    (stock.HashHeaderProcessor, r"(?:^|\n)(?P<level>#{1,6})(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)"):
        ("test", _contains("#")),
    (stock.BlockQuoteProcessor, r"(^|\n)[ ]{0,3}>[ ]?(.*)"): ("test", _contains(">")),
    (stock.HRProcessor, r"^[ ]{0,3}(?=(?P<atomicgroup>(-+[ ]{0,2}){3,}|(_+[ ]{0,2}){3,}|(\*+[ ]{0,2}){3,}))"
                        r"(?P=atomicgroup)[ ]*$"): ("test", _three_of_one_rule_character),
    (stock.ReferenceProcessor, r"""^[ ]{0,3}\[([^\[\]]*)\]:[ ]*(?:\n[ ]*)?([^\s]+)[ ]*(?:\n[ ]*)?"""
                               r"""((["\'])(.*)\4[ ]*|\((.*)\)[ ]*)?$"""): ("run", _contains("]:")),
    # Its test splits the first line at "|" (a table has two cells or a border pipe at least).
    (TableProcessor, r"(?<!\\)(?:\\\\)*\|$"): ("test", _contains("|")),
}


def _expression(processor: object) -> str | None:
    if isinstance(processor, TableProcessor):
        return processor.RE_END_BORDER.pattern
    found = getattr(processor, "RE", None)
    return found if isinstance(found, str) else getattr(found, "pattern", None)


def _gated(name: str, method: Callable, gate: Callable[[str], bool]) -> Callable:
    """``test(parent, block)`` or ``run(parent, blocks)`` (the block is the first of
    ``blocks``), answering False at once for a block that fails ``gate``."""

    if name == "run":
        def gated(parent, blocks):
            if gate(blocks[0]):
                return method(parent, blocks)
            BlockGateExtension.turned_down += 1
            return False
    else:
        def gated(parent, block):
            if gate(block):
                return method(parent, block)
            BlockGateExtension.turned_down += 1
            return False
    return gated


class _HtmlBlockGate:
    """HtmlBlockPreprocessor.run, skipped on text it would give back unchanged."""

    def __init__(self, run: Callable[[list[str]], list[str]]):
        self._run = run

    def __call__(self, lines: list[str]) -> list[str]:
        if any("<" in line or "&" in line for line in lines):
            return self._run(lines)
        BlockGateExtension.turned_down += 1
        return lines


class BlockGateExtension(Extension):
    turned_down = 0  # blocks and texts refused at once (for tests)

    def extendMarkdown(self, md):  # noqa: N802 - Python-Markdown's name
        for processor in md.parser.blockprocessors:
            found = BLOCK_GATES.get((type(processor), _expression(processor)))
            if found:
                method, gate = found
                setattr(processor, method, _gated(method, getattr(processor, method), gate))
        for preprocessor in md.preprocessors:
            if type(preprocessor) is HtmlBlockPreprocessor:
                preprocessor.run = _HtmlBlockGate(preprocessor.run)
