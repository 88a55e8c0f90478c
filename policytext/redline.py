"""The word-level redline of two versions of a policy text: the one implementation the
static site (its changes pages) and the portal (what changed since a customer accepted a
version) both use.

Its input is rendered HTML (what the site's Markdown produces); its output is the new
version's HTML with ``<ins>`` and ``<del>`` around the words added and dropped. It reads no
files and imports neither the site generator nor the portal.
"""

from __future__ import annotations

import difflib
import re

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
