"""What changed since a customer accepted a version: the A->C redline, made by the site's own
word-level diff (policytext.redline) from the texts the site built, checked against a
three-version fixture and against the site's own changes pages."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from policytext.redline import redline
from portal.policy import TERMS
from portal.site_versions import SiteNotBuilt
from portal.terms import texts

ROOT = Path(__file__).resolve().parents[2]
A, B, C = "2030-03-01", "2030-05-01", "2030-05-02"
FIXTURE = {
    A: '<h2 id="card">Card deposits</h2>\n<p>A card deposit is refunded within 7 days.</p>\n<p>Crypto is final.</p>',
    B: '<h2 id="card">Card deposits</h2>\n<p>A card deposit is refunded within 14 days.</p>\n<p>Crypto is final.</p>',
    C: ('<h2 id="card">Card deposits</h2>\n<p>A card deposit is refunded within 14 days.</p>\n<p>Crypto is final.</p>\n'
        '<p>EU consumers can withdraw at <code>/withdraw</code>.</p>'),
}


def write_site(folder: Path, bodies: dict[str, str], pages: dict[str, str] | None = None) -> str:
    """A built site of the three versions, as build.py writes the parts the portal reads."""
    manifest = {}
    for version, body in bodies.items():
        url = f"/en/payment-refund/{version}/"
        page = (pages or {}).get(version) or (
            f'<meta name="description" content="Version {version} &amp; more">\n<article class="policy">\n'
            f'  <div class="policy-text">\n    {body}\n  </div>\n</article>\n')
        (folder / url.strip("/")).mkdir(parents=True)
        (folder / url.strip("/") / "index.html").write_text(page, encoding="utf-8")
        manifest[version] = {"en": {"url": url, "changes_url": None, "sha256": hashlib.sha256(body.encode()).hexdigest()}}
    (folder / "versions.json").write_text(json.dumps({"payment-refund": manifest}))
    return str(folder)


def test_a_customer_on_a_sees_both_steps_to_c(tmp_path):
    site = write_site(tmp_path, FIXTURE)
    marked = texts.changes(site, A, C, "en")
    assert "<del>7</del> <ins>14</ins>" in marked  # the step A->B
    assert "<ins>EU consumers can withdraw at</ins> <code><ins>/withdraw</ins></code><ins>.</ins>" in marked  # B->C
    assert marked == redline(FIXTURE[A], FIXTURE[C])
    step = texts.changes(site, B, C, "en")
    assert "<del>7</del>" not in step and "<ins>EU consumers" in step


def test_the_summary_is_read_from_the_built_page(tmp_path):
    assert texts.summary(write_site(tmp_path, FIXTURE), B, "en") == f"Version {B} & more"


def test_a_page_whose_text_is_not_the_one_versions_json_names_is_refused(tmp_path):
    moved = '<article class="policy">\n<div class="text">\n' + FIXTURE[A] + "\n</div>\n</article>\n"
    site = write_site(tmp_path, FIXTURE, pages={A: moved})
    with pytest.raises(SiteNotBuilt):
        texts.changes(site, A, C, "en")


def _site_redline(site_dir: str, lang: str, version: str) -> str:
    page = (Path(site_dir) / lang / "payment-refund" / version / "changes" / "index.html").read_text()
    start = page.index('<div class="policy-text">\n      ', page.index('<section class="redline"'))
    return page[start + len('<div class="policy-text">\n      '):page.index("\n    </div>\n  </section>", start)]


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_portal_makes_the_sites_own_redline(site_dir, lang):
    """Between neighbours the portal's redline is byte for byte the site's changes page."""
    for previous, version in zip(TERMS, TERMS[1:]):
        assert texts.changes(site_dir, previous.version, version.version, lang) == \
            _site_redline(site_dir, lang, version.version)


def test_the_real_a_to_c_redline_shows_both_changes(site_dir):
    first, _, last = TERMS[0].version, TERMS[1].version, TERMS[2].version
    marked = texts.changes(site_dir, first, last, "en")
    assert marked == redline(texts.body(site_dir, first, "en"), texts.body(site_dir, last, "en"))
    assert "Withdraw from contract here" in marked  # the third version's sentence
    assert "<ins>" in marked.split("eu-withdrawal")[0]  # and the second version's wording before it
    assert marked != texts.changes(site_dir, TERMS[1].version, last, "en")


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_summary_is_the_front_matters(site_dir, lang):
    version = TERMS[-1].version
    source = (ROOT / f"site/content/payment-refund/{version}.{lang}.md").read_text(encoding="utf-8")
    front = yaml.safe_load(source.split("---")[1])
    assert texts.summary(site_dir, version, lang) == front["summary"]
