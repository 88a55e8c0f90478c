"""Rendering and redlines: tables of small cases."""

from __future__ import annotations

import pytest
from lxml import etree

from policytext.redline import blocks, redline, word_diff
from sitegen.render import render_markdown, sections
from sitegen.templates import fold_translations

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


def test_template_closure_names_every_template_used():
    """What a template uses, as the rebuild keys see it, matches Jinja's own parse."""
    import jinja2
    from jinja2 import meta

    from sitegen.options import ROOT
    from sitegen.templates import _closure

    folder = ROOT / "site/templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), extensions=["jinja2.ext.i18n"])
    for template in folder.glob("*.*"):
        parsed = {t for t in meta.find_referenced_templates(env.parse(template.read_text())) if t}
        assert parsed <= _closure(folder, template.name), template.name


CATALOG = {"Contents": "Inhalt", "Since %(date)s": "Seit %(date)s", "Odd": "{{ odd }}", "Hundred": "100 %% sicher",
           "Broken": "100 % kaputt", "From %(start)s until %(end)s": "Vom %(start)s bis %(end)s",
           "Count %(n)s": "%(n)d Stück", "Loose %(x)s": "%s und %(x)s"}
FOLDS = [
    # template source, after folding
    ("<h2>{{ _('Contents') }}</h2>", "<h2>Inhalt</h2>"),
    ('<h2>{{_("Contents")}}</h2>', "<h2>Inhalt</h2>"),
    ("<p>{{ _('Unknown') }}</p>", "<p>Unknown</p>"),  # untranslated: the message itself
    ("{{ _('Since %(date)s', date=d) }}", "Seit {{ d }}"),  # each argument escaped as {{ }} escapes it
    ("{{ _('From %(start)s until %(end)s', start=v.start|date, end = v.end | date) }}",
     "Vom {{ v.start|date }} bis {{ v.end | date }}"),
    ("{{ _('Since %(date)s', when=d) }}", "{{ _('Since %(date)s', when=d) }}"),  # no such argument
    ("{{ _('Since %(date)s', date=dates[0]) }}", "{{ _('Since %(date)s', date=dates[0]) }}"),  # not a variable
    ("{{ _('Since %(date)s', date=d|date('short')) }}", "{{ _('Since %(date)s', date=d|date('short')) }}"),
    ("{{ _('Count %(n)s', n=count) }}", "{{ _('Count %(n)s', n=count) }}"),  # formatted otherwise than %(n)s
    ("{{ _('Loose %(x)s', x=y) }}", "{{ _('Loose %(x)s', x=y) }}"),
    ("{{ _('Odd') }}", "{{ _('Odd') }}"),  # would read as template syntax
    ("{{ _('Hundred') }}", "100 % sicher"),  # formatted as newstyle gettext formats it
    ("{{ _('Broken') }}", "{{ _('Broken') }}"),  # formatting fails: Jinja2 reports it when rendering
    ("{{- _('Contents') }}", "{{- _('Contents') }}"),  # whitespace control: left to Jinja2
    ("{{ _('Contents')|upper }}", "{{ _('Contents')|upper }}"),
]


@pytest.mark.parametrize("source, folded", FOLDS)
def test_literal_translations_are_folded_into_the_template(source, folded):
    assert fold_translations(source, lambda message: CATALOG.get(message, message)) == folded


MARKDOWN_CASES = [
    "Plain words only.",
    "A [link](/en/x/#a) and ![an image](/i.png) and a [reference][r].\n\n[r]: /en/y/",
    "*em* and **strong** and _under_ and __double__ and snake_case_word and 2 * 3 * 4",
    "`code` and ``double `tick` code`` and \\*escaped\\* and \\\\ backslash",
    "<https://example.org> and <someone@example.org> and <span>inline html</span>",
    "Tom &amp; Jerry, &#169; and &copy; and a bare & sign and 5 < 6 > 4",
    "Two spaces at the end  \nmake a line break.",
    "## Heading {#anchor}\n\nText under it.\n\n- a list *item*\n- another `one`\n\n1. first\n2. second",
    "| a | b |\n|---|---|\n| *x* | [y](/y/) |",
    "> a quote with **bold**\n\n    indented code with *stars*",
    "Ümlaute und ß, « quotes » and — dashes",
    # blocks: headings, rules, quotes, references, tables, raw HTML, entities
    "# One {#one}\n\nSetext\n======\n\nTwo\n---\n\n### Closed ###\n\nText # not a heading",
    "- - -\n\n***\n\n_ _ _\n\ntext\n---\n\na-b-c-d and a_b_c_d and a*b*c*d",
    "> quoted\n> more\n\n>lazy\n\na > b, not a quote\n\n    > in code",
    "[r]: /somewhere \"Title\"\n\n[x] ]: not one\n\n[r][] and [r]",
    "a | b\n--|--\n1 | 2\n\n| single |\n|---|\n| cell |\n\nno | table\nhere",
    "<div>\n*raw* block\n</div>\n\n&amp &copy; &#169 a & b &nbsp;",
    "Entities without markup: &amp &copy; &#169 &#x41; a & b &nbsp;",
]


@pytest.mark.parametrize("text", MARKDOWN_CASES)
def test_the_plain_text_shortcut_renders_what_python_markdown_renders(text):
    import markdown

    from sitegen.render import EXTENSIONS, converter

    stock = markdown.Markdown(extensions=list(EXTENSIONS), output_format="html")
    assert converter().reset().convert(text) == stock.convert(text)


def test_plain_blocks_are_not_searched_by_every_block_processor():
    from sitegen.plainblocks import BlockGateExtension
    from sitegen.render import converter

    before = BlockGateExtension.turned_down
    converter().reset().convert("Plain words only.\n\nMore plain words.")
    # each paragraph: heading, quote, rule, table, reference; the text: raw HTML
    assert BlockGateExtension.turned_down - before == 2 * 5 + 1


def test_every_block_gate_stands_in_for_an_expression_of_this_python_markdown():
    """A new Python-Markdown with other expressions turns the gates off: this fails then,
    to have the table brought up to date."""
    from sitegen.plainblocks import BLOCK_GATES, _expression
    from sitegen.render import converter

    found = {(type(p), _expression(p)) for p in converter().parser.blockprocessors}
    assert set(BLOCK_GATES) <= found


def test_plain_text_skips_the_inline_patterns():
    from sitegen.plaintext import PlainTextInlineProcessor
    from sitegen.render import converter

    before = PlainTextInlineProcessor.shortcuts
    converter().reset().convert("Plain words only.\n\nMore plain words.")
    assert PlainTextInlineProcessor.shortcuts - before == 2


HEADING_TEXTS = [  # without code fences: found in one scan of the text
    "## A {#a}\n\nText.\n\n### B {#b}\n",
    "#\nnot a heading\n# \n#   Spaced   {#s}   \n####### seven\n#tight\n",
    "Intro\n## Late {#late}\n\t## indented\n",
    "## Über uns {#ueber}\r\n\r\n## Zwei {#zwei}",
]


@pytest.mark.parametrize("body", HEADING_TEXTS)
def test_headings_found_in_one_scan_are_those_found_line_by_line(body):
    from sitegen.content import _HEADING, heading_lines

    line_by_line = [(i, m.groups()) for i, line in enumerate(body.split("\n")) if (m := _HEADING.match(line))]
    assert [(i, m.groups()) for i, m in heading_lines(body)] == line_by_line


def test_headings_in_fenced_code_are_not_headings():
    from sitegen.content import heading_lines

    body = "```\n## in code {#no}\n```\n## after {#after}\n~~~\n# tilde {#t}\n~~~\n"
    assert [(i, m.group(2)) for i, m in heading_lines(body)] == [(3, "after {#after}")]
