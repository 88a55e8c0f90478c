"""Fixtures for the site generator: a private copy of the site to build and to break."""

from __future__ import annotations

import hashlib
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sitegen.pipeline import build
from sitegen.checks import write_lock
from sitegen.read import load
from sitegen.options import Options

ROOT = Path(__file__).resolve().parents[2]
# 2026-11-25: the first version is in force and the second is published, upcoming.
CLOCK = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)


class SiteCopy:
    """A copy of site/ (content, templates, static, lock) with helpers to edit and build it."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(ROOT / "site", root / "site")
        self.content = root / "site" / "content"
        self.out = root / "out"
        self.cache = root / "cache"

    def options(self, now: datetime = CLOCK, **changes) -> Options:
        return Options(content=self.content, out=self.out, cache=self.cache, now=now, jobs=changes.pop("jobs", 1), **changes)

    def build(self, now: datetime = CLOCK, **changes):
        return build(self.options(now, **changes))

    def path(self, rel: str) -> Path:
        return self.content / rel

    def edit(self, rel: str, old: str, new: str, count: int = 1) -> int:
        """Replace ``old`` by ``new`` in a content file; returns the line of the first change."""
        path = self.path(rel)
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        line = text[: text.index(old)].count("\n") + 1
        path.write_text(text.replace(old, new, count), encoding="utf-8")
        return line

    def page(self, rel: str) -> str:
        return (self.out / rel).read_text(encoding="utf-8")

    def unlock(self) -> None:
        """Re-lock after an edit, so a test sees only the problem it is about."""
        documents, _, _ = load(self.content)
        write_lock(self.options().lock, {d.rel: d.sha256 for d in documents if d.kind == "version"})

    def set_translated_from(self, rel_translation: str, rel_source: str) -> None:
        """Mark a translation as made from the current English file."""
        digest = hashlib.sha256(self.path(rel_source).read_bytes()).hexdigest()
        text = self.path(rel_translation).read_text(encoding="utf-8")
        start = text.index("translated_from: ")
        end = text.index("\n", start)
        self.path(rel_translation).write_text(text[:start] + f"translated_from: {digest}" + text[end:], encoding="utf-8")


@pytest.fixture
def site(tmp_path) -> SiteCopy:
    return SiteCopy(tmp_path)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> SiteCopy:
    """The real site, built once at CLOCK, for tests that only read it."""
    copy = SiteCopy(tmp_path_factory.mktemp("built"))
    copy.build()
    return copy
