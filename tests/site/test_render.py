"""Rendering and redlines: tables of small cases."""

from __future__ import annotations

import pytest
from lxml import etree

from policytext.redline import blocks, redline, word_diff
from sitegen.render import render_markdown, sections

WORD_DIFFS = [
    # old, new, expected
    ("<p>a b c</p>", "<p>a b c</p>", "<p>a b c</p>"),
    ("<p>a b c</p>", "<p>a x b c</p>", "<p>a <ins>x</ins> b c</p>"),
    ("<p>a b c</p>", "<p>a c</p>", "<p>a <del>b</del> c</p>"),
    ("<p>seven days</p>", "<p>ten days</p>", "<p><del>seven</del> <ins>ten</ins> days</p>"),
    ("<p>a <em>b</em></p>", "<p>a <em>c</em></p>", "<p>a <em><del>b</del> <ins>c</ins></em></p>"),
    ("<p>a <em>b</em> c</p>", "<p>a b c</p>", "<p>a b c</p>"),  # formatting alone is not a change of words
    ("<p>old</p>", "<p>new</p>\n<p>more</p>", "<p><del>old</del> <ins>new</ins></p><ins>\n</ins><p><ins>more</ins></p>"),
]


@pytest.mark.parametrize("old, new, expected", WORD_DIFFS)
def test_word_diff(old, new, expected):
    assert word_diff(old, new).replace("<ins>\n</ins>", "\n") == expected.replace("<ins>\n</ins>", "\n")


@pytest.mark.parametrize("old, new", [(o, n) for o, n, _ in WORD_DIFFS])
def test_word_diff_keeps_the_new_markup_well_formed(old, new):
    etree.fromstring(f"<div>{word_diff(old, new)}</div>")


_WORDS = "the card refund window is seven days from the deposit unless the balance was spent".split()
EDITS = [  # (old words, new words): edits at the start, in the middle, at the end, repeated words
    (_WORDS, ["a", *_WORDS[1:]]),
    (_WORDS, [*_WORDS[:5], "ten", *_WORDS[6:]]),
    (_WORDS, [*_WORDS[:-1], "used", "up"]),
    (_WORDS, _WORDS[3:]),
    (_WORDS, _WORDS + _WORDS[:4]),
    (["a", "b", "a", "b"], ["a", "b"]),
    (["a"], ["b", "a", "b"]),
]


@pytest.mark.parametrize("old, new", EDITS)
def test_word_diff_keeps_every_word_of_both_versions_in_order(old, new):
    import re

    marked = word_diff(f"<p>{' '.join(old)}</p>", f"<p>{' '.join(new)}</p>")
    as_new = re.sub(r"<del>[^<]*</del>", "", marked)
    as_old = re.sub(r"<ins>[^<]*</ins>", "", marked)
    assert re.sub(r"<[^>]+>", " ", as_new).split() == new
    assert re.sub(r"<[^>]+>", " ", as_old).split() == old


def test_blocks_keep_lists_and_tables_whole():
    html = render_markdown("Intro.\n\n- a\n\n    loose\n\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\nEnd.")
    found = blocks(html)
    assert [b.split(">", 1)[0] + ">" for b in found] == ["<p>", "<ul>", "<table>", "<p>"]
    assert "\n".join(found) == html


def test_redline_of_identical_texts_marks_nothing():
    html = render_markdown("## A {#a}\n\nText one.\n\n## B {#b}\n\nText two.")
    assert redline(html, html) == html


def test_redline_marks_only_the_changed_paragraph():
    old = render_markdown("## A {#a}\n\nSame.\n\nOld words here.\n\n## B {#b}\n\nSame too.")
    new = render_markdown("## A {#a}\n\nSame.\n\nNew words here.\n\n## B {#b}\n\nSame too.")
    marked = redline(old, new)
    assert "<del>Old</del> <ins>New</ins> words here." in marked
    assert marked.count("<ins>") == 1 and '<h2 id="b">B</h2>' in marked


@pytest.mark.parametrize("text, count", [
    ("## A {#a}\n\nx\n\n## B {#b}\n\ny", 2),
    ("Intro\n\n## A {#a}\n\nx", 2),
    ("```\n## not a heading\n```\n\n## A {#a}", 2),
    ("[x]: /somewhere\n\n## A {#a}\n\n[see][x]", 1),  # reference links reach across sections
])
def test_sections(text, count):
    assert len(sections(text)) == count
    assert "\n".join(sections(text)) == text


SECTION_TEXTS = [  # without code fences (found in one scan of the text), and with
    "## A {#a}\n\nx\n\n## B {#b}\n\ny",
    "\n## first line blank",
    "text\n## no blank line before\n\n \t \n### blank with spaces {#s}\n",
    "x\n\n#no space\n\n####### seven\n\n#\n\n#\tTab {#t}\n\n## end",
    "x\r\n\r\n## CRLF {#c}\r\ny",
    "a [ref] ] : not a definition\n\n## B {#b}",
    "x\n\n```\n\n## in code\n```\n\n## B {#b}\n\n~~~\n# tilde\n~~~",
]


def _sections_line_by_line(text: str) -> list[str]:
    """sections(), the plain way: a line at a time, code fences toggling."""
    import re

    parts: list[list[str]] = [[]]
    fenced = False
    previous_blank = True
    for line in text.split("\n"):
        if re.match(r"^\s{0,3}(```|~~~)", line):
            fenced = not fenced
        elif not fenced and previous_blank and re.match(r"^#{1,6}\s", line) and parts[-1]:
            parts.append([])
        parts[-1].append(line)
        previous_blank = not line.strip()
    return ["\n".join(part) for part in parts]


@pytest.mark.parametrize("text", SECTION_TEXTS)
def test_sections_found_in_one_scan_are_those_found_line_by_line(text):
    assert sections(text) == _sections_line_by_line(text)


def test_headings_in_fenced_code_are_not_headings():
    from sitegen.read import heading_lines

    body = "```\n## in code {#no}\n```\n## after {#after}\n~~~\n# tilde {#t}\n~~~\n"
    assert [(i, m.group(2)) for i, m in heading_lines(body)] == [(3, "after {#after}")]
