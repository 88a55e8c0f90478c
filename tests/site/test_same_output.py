"""The generator being replaced (issue 19) writes the same site as the one before it."""

from __future__ import annotations

import sys

from sitegen.options import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import same_output  # noqa: E402


def test_the_site_and_a_bench_corpus_are_built_byte_for_byte_as_before(tmp_path):
    assert same_output.compare("eaf68e7278b534a640ccf9839a4b3543bfb89187", 100, tmp_path) == []
