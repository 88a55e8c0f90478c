"""Reading content again: only an edited file is parsed again, and the result is what a
first reading gives."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from sitegen import read as content

SHA = "0" * 64
FRONT = f"---\ntitle: Home\nsummary: The start\ntranslated_from: {SHA}\n---\n"
BODY = "## Welcome {#welcome}\n\nHello.\n"

# (file, text before, text after)
CASES = [
    ("pages/home.de.md", FRONT + BODY, FRONT + BODY + "\nOne more line.\n"),
    ("pages/home.de.md", FRONT + BODY, FRONT + "\n\n" + BODY),
    ("pages/home.de.md", FRONT + BODY, FRONT + "## Untitled\n"),  # a new problem in the body
    ("pages/home.de.md", FRONT + BODY, FRONT.replace("Home", "Start") + BODY),
    ("pages/home.de.md", FRONT + BODY, FRONT.replace("summary: The start\n", "") + BODY),
    ("pages/home.de.md", FRONT + BODY, FRONT.replace("title: Home", "title: Home\nauthor: x") + BODY),
    # Front matter with problems: they are reported again, the same, after a body edit.
    ("pages/home.de.md", FRONT.replace("title: Home", "colour: red") + BODY,
     FRONT.replace("title: Home", "colour: red") + BODY + "More.\n"),
    ("pages/home.de.md", "---\ntitle: [unclosed\n---\n" + BODY, "---\ntitle: [unclosed\n---\n" + BODY + "x\n"),
    ("pages/home.de.md", "---\n- a list\n---\n" + BODY, "---\n- a list\n---\n" + BODY + "x\n"),
    # A badly named file: its own problem is reported once, not once more from the record.
    ("pages/Home.de.md", FRONT + BODY, FRONT + BODY + "x\n"),
    # No front matter, or an unclosed one: nothing to parse before or after.
    ("pages/home.de.md", BODY, BODY + "x\n"),
    ("pages/home.de.md", "---\ntitle: Home\n" + BODY, "---\ntitle: Home\n" + BODY + "x\n"),
    ("payment-refund/2026-11-24.en.md",
     "---\ntitle: Terms\nversion: '2026-11-24'\nsummary: First\npublished: 2026-11-24\neffective: 2026-11-24\n"
     "material: true\n---\n" + BODY,
     "---\ntitle: Terms\nversion: '2026-11-24'\nsummary: First\npublished: 2026-11-24\neffective: 2026-11-24\n"
     "material: true\n---\n" + BODY + "Changed.\n"),
]


def read_twice(root: Path, rel: str, before: str, after: str, monkeypatch) -> tuple[list, list, list]:
    """Load ``before``, save ``after``, load again with what the first load read: the
    documents, the problems and the files parsed the second time."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(before, encoding="utf-8")
    (root / "pages").mkdir(exist_ok=True)
    (root / "pages" / "other.en.md").write_text(FRONT + BODY, encoding="utf-8")  # never edited
    _, _, known = content.load(root)
    path.write_text(after, encoding="utf-8")
    parsed = []
    real = content.read_document
    monkeypatch.setattr(content, "read_document", lambda path, known=None: parsed.append(path) or real(path, known))
    documents, problems, _ = content.load(root, known)
    return documents, problems, parsed


@pytest.mark.parametrize("rel, before, after", CASES)
def test_an_edit_reads_as_a_first_reading_and_only_edited_files_are_parsed(tmp_path, monkeypatch, rel, before, after):
    documents, problems, parsed = read_twice(tmp_path / "content", rel, before, after, monkeypatch)
    monkeypatch.undo()
    first_documents, first_problems, _ = content.load(tmp_path / "content")  # nothing known: all parsed
    assert documents == first_documents
    assert [str(p) for p in problems] == [str(p) for p in first_problems]
    assert [d.meta_lines for d in documents] == [d.meta_lines for d in first_documents]
    assert parsed == [tmp_path / "content" / rel]


def test_an_edit_below_the_front_matter_parses_no_yaml(tmp_path, monkeypatch):
    parsed = []
    real = content._parse_front_matter
    monkeypatch.setattr(content, "_parse_front_matter", lambda *args: parsed.append(args[0].name) or real(*args))
    read_twice(tmp_path / "content", "pages/home.de.md", FRONT + BODY, FRONT + BODY + "More.\n", monkeypatch)
    assert parsed == ["home.de.md", "other.en.md"]  # the first reading; the edit reuses it
    read_twice(tmp_path / "content", "pages/home.de.md", FRONT + BODY, FRONT.replace("Home", "Start") + BODY, monkeypatch)
    assert parsed[2:] == ["home.de.md", "other.en.md", "home.de.md"]  # and again: its front matter changed


def test_what_was_read_is_kept_by_a_build_for_the_next(site, monkeypatch):
    """Through builds: the record is marshalled to the cache and read by the next build."""
    site.build()
    site.edit("pages/contact.de.md", "ein Support-Ticket", "ein neues Support-Ticket")
    parsed = []
    real = content.read_document
    monkeypatch.setattr(content, "read_document", lambda path, known=None: parsed.append(path.name) or real(path, known))
    report = site.build()
    assert report.rendered_bodies == 1 and parsed == ["contact.de.md"]
    assert "ein neues Support-Ticket" in site.page("de/contact/index.html")


def test_a_same_size_edit_that_keeps_the_modification_time_is_read_again(tmp_path):
    """cp -p, rsync -a and tar keep a file's modification time: the published text would
    change unseen (and unchecked against the lock) if size and mtime were all a build compared."""
    root = tmp_path / "content"
    path = root / "pages" / "home.de.md"
    path.parent.mkdir(parents=True)
    path.write_text(FRONT + BODY, encoding="utf-8")
    _, _, known = content.load(root)
    before = path.stat()
    path.write_text(FRONT + BODY.replace("Hello", "Hallo"), encoding="utf-8")  # the same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    documents, _, _ = content.load(root, known)
    assert documents[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
