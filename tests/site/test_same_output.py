"""The real site is built byte for byte as recorded (the sha256 of every output at two
build clocks, from the generator before issue 19: bench/same_output.py compares with it)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest

REFERENCE = Path(__file__).parent / "reference"


@pytest.mark.parametrize("recorded", sorted(REFERENCE.glob("site-*.sha256")), ids=lambda path: path.stem)
def test_the_real_site_is_built_as_recorded(site, recorded):
    now = datetime.fromisoformat(recorded.stem.removeprefix("site-").replace("Z", "+00:00"))
    site.build(now=now)
    built = {p.relative_to(site.out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in site.out.rglob("*") if p.is_file()}
    expected = {rel: digest for digest, rel in (line.split(None, 1) for line in recorded.read_text().splitlines())}
    assert built == expected
