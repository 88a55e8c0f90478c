"""The output tree is the URL contract: which pages exist and what each one says."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone

import pytest
from lxml import etree, html

from portal.policy import CLAUSE_ANCHORS, TERMS
from sitegen.render import render_markdown

V1, V2 = TERMS[0].version, TERMS[1].version
ATOM = "{http://www.w3.org/2005/Atom}"

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def fingerprinted(name: str) -> str:
    """The published name of a stylesheet: its content's hash in it."""
    stem, suffix = name.rsplit(".", 1)
    return f"{stem}.{hashlib.sha256((ROOT / 'site/static' / name).read_bytes()).hexdigest()[:16]}.{suffix}"


CONTRACT = [
    "index.html", "404.html", "sitemap.xml", "versions.json", "assets/favicon.svg",
    f"assets/{fingerprinted('site.css')}", f"assets/{fingerprinted('print.css')}",
    *[f"{lang}/{rest}" for lang in ("en", "de") for rest in (
        "index.html", "contact/index.html", "feed.xml",
        "payment-refund/index.html", "payment-refund/history/index.html",
        f"payment-refund/{V1}/index.html", f"payment-refund/{V2}/index.html",
        f"payment-refund/{V2}/changes/index.html",
    )],
]


@pytest.mark.parametrize("rel", CONTRACT)
def test_every_contract_path_exists(built_site, rel):
    assert (built_site.out / rel).is_file()


def test_nothing_else_is_published(built_site):
    found = {p.relative_to(built_site.out).as_posix() for p in built_site.out.rglob("*") if p.is_file()}
    assert found == set(CONTRACT)


def text_of(site, rel) -> str:
    return " ".join(html.fromstring(site.page(rel)).text_content().split())


def test_the_policy_index_is_the_version_in_force(built_site):
    index = built_site.page("en/payment-refund/index.html")
    assert f'data-version="{V1}"' in index
    assert f'rel="canonical" href="https://1001sms.com/en/payment-refund/{V1}/"' in index


def test_the_version_in_force_announces_the_upcoming_one(built_site):
    text = text_of(built_site, f"en/payment-refund/{V1}/index.html")
    assert "A new version takes effect on January 1, 2027." in text
    assert "Since November 24, 2026; replaced on January 1, 2027" in text  # in force until then
    page = built_site.page(f"en/payment-refund/{V1}/index.html")
    assert f'href="/en/payment-refund/{V2}/changes/"' in page
    assert "status-superseded" not in page
    assert "Seit dem 24. November 2026; ersetzt am 1. Januar 2027" in text_of(built_site, f"de/payment-refund/{V1}/index.html")


def test_a_replaced_version_shows_when_it_was_in_force(site):
    site.build(now=datetime(2027, 1, 15, tzinfo=timezone.utc))
    page = site.page(f"en/payment-refund/{V1}/index.html")
    assert '<span class="status status-superseded">From November 24, 2026 until January 1, 2027</span>' in page
    assert '<span class="status status-superseded">From January 1, 2027 until January 2, 2027</span>' in site.page(
        f"en/payment-refund/{V2}/index.html")
    assert '<span class="status status-current">Since January 2, 2027</span>' in site.page(
        f"en/payment-refund/{TERMS[2].version}/index.html")


def test_the_home_page_separates_the_date_in_force_from_the_upcoming_change(built_site):
    assert "in force since November 24, 2026 changes on January 1, 2027" in text_of(built_site, "en/index.html")


def test_the_upcoming_version_points_back_to_the_one_in_force(built_site):
    text = text_of(built_site, f"de/payment-refund/{V2}/index.html")
    assert "Diese Fassung ist noch nicht in Kraft." in text
    assert "Tritt am 1. Januar 2027 in Kraft" in text


def test_german_pages_are_german(built_site):
    text = text_of(built_site, "de/payment-refund/index.html")
    assert "Zahlungs- und Rückerstattungsrichtlinie" in text
    assert "Montag bis Freitag" in text
    assert "5,00 $" in text


def test_citations_are_filled_from_terms(built_site):
    text = text_of(built_site, f"en/payment-refund/{V1}/index.html")
    assert "{{" not in text
    assert "7 days" in text and "$5.00" in text and "support@1001sms.com" in text
    assert "24 hours" in text and "48 hours" in text


def test_changes_page_marks_words_and_shows_the_summary(built_site):
    page = built_site.page(f"en/payment-refund/{V2}/changes/index.html")
    tree = html.fromstring(page)
    assert tree.xpath("//ins") and tree.xpath("//del")
    summary = tree.xpath('//section[@class="summary"]/p')[0].text_content()
    assert "contradiction" in summary.lower()
    inserted = " ".join(i.text_content() for i in tree.xpath("//div[@class='policy-text']//ins"))
    assert "original card" in inserted or "card" in inserted


def test_history_lists_every_version_with_dates(built_site):
    text = text_of(built_site, "en/payment-refund/history/index.html")
    assert "Version of January 1, 2027 upcoming" in text
    assert "Version of November 24, 2026 in force" in text
    assert "Published November 25, 2026, in force from January 1, 2027 · material change" in text


@pytest.mark.parametrize("lang", ["en", "de"])
@pytest.mark.parametrize("version", [V1, V2])
def test_heading_ids_are_stable_across_versions_and_languages(built_site, lang, version):
    tree = html.fromstring(built_site.page(f"{lang}/payment-refund/{version}/index.html"))
    ids = {h.get("id") for h in tree.xpath("//div[@class='policy-text']//*[self::h2 or self::h3]")}
    assert set(CLAUSE_ANCHORS.values()) <= ids
    assert None not in ids


def test_atom_feed_is_valid_with_an_entry_per_version(built_site):
    for lang in ("en", "de"):
        feed = etree.fromstring(built_site.page(f"{lang}/feed.xml").encode())
        assert feed.tag == f"{ATOM}feed"
        for required in ("id", "title", "updated", "author"):
            assert feed.find(f"{ATOM}{required}") is not None
        entries = feed.findall(f"{ATOM}entry")
        assert len(entries) == 2
        for entry in entries:
            for required in ("id", "title", "updated", "link", "summary"):
                assert entry.find(f"{ATOM}{required}") is not None, required
            updated = entry.find(f"{ATOM}updated").text
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", updated)
        assert len({e.find(f"{ATOM}id").text for e in entries}) == 2


def test_sitemap_has_hreflang_alternates(built_site):
    tree = etree.fromstring(built_site.page("sitemap.xml").encode())
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    locs = tree.xpath("//s:url/s:loc/text()", namespaces=ns)
    assert "https://1001sms.com/de/payment-refund/2027-01-01/" in locs
    assert "https://1001sms.com/en/payment-refund/history/" in locs
    # Not a page marked noindex (a redline), nor one whose canonical URL is another (the
    # policy's address, which shows the version in force).
    assert not any(loc.endswith("/changes/") for loc in locs)
    assert "https://1001sms.com/en/payment-refund/" not in locs
    for url in tree.xpath("//s:url", namespaces=ns):
        langs = url.xpath("x:link/@hreflang", namespaces=ns)
        assert sorted(langs) == ["de", "en"]


def test_pages_link_their_translations_and_the_print_stylesheet(built_site):
    page = built_site.page("en/contact/index.html")
    assert 'hreflang="de" href="https://1001sms.com/de/contact/"' in page
    assert f'<link rel="stylesheet" href="/assets/{fingerprinted("print.css")}" media="print">' in page
    assert f'<link rel="stylesheet" href="/assets/{fingerprinted("site.css")}">' in page


def test_contact_page_cites_terms(built_site):
    text = text_of(built_site, "en/contact/index.html")
    assert "24" in text and "48" in text and "Monday to Friday" in text


def test_versions_manifest_fingerprints_the_policy_text(built_site):
    manifest = json.loads(built_site.page("versions.json"))
    entry = manifest["payment-refund"][V1]["en"]
    assert entry["url"] == f"/en/payment-refund/{V1}/" and entry["changes_url"] is None
    assert manifest["payment-refund"][V2]["de"]["changes_url"] == f"/de/payment-refund/{V2}/changes/"
    page = built_site.page(f"en/payment-refund/{V1}/index.html")
    body = re.search(r'<div class="policy-text">\s*(.*?)\s*</div>\s*</article>', page, re.S).group(1)
    assert hashlib.sha256(body.encode()).hexdigest() == entry["sha256"]


def test_the_fingerprint_does_not_depend_on_the_build_clock(site):
    site.build()
    first = json.loads(site.page("versions.json"))["payment-refund"][V1]
    site.build(now=datetime(2027, 3, 1, tzinfo=timezone.utc))
    assert json.loads(site.page("versions.json"))["payment-refund"][V1] == first


def test_before_publication_the_next_version_is_not_on_the_site(site):
    site.build(now=datetime(2026, 11, 24, 12, tzinfo=timezone.utc))
    assert not (site.out / f"en/payment-refund/{V2}").exists()
    assert "A new version" not in site.page("en/payment-refund/index.html")


def test_after_the_change_the_new_version_is_in_force(site):
    site.build(now=datetime(2027, 1, 1, tzinfo=timezone.utc))
    assert f'data-version="{V2}"' in site.page("en/payment-refund/index.html")
    old = text_of(site, f"en/payment-refund/{V1}/index.html")
    assert "This version is no longer in force." in old


def test_every_terms_value_is_cited_in_every_version():
    """Like Datasette's documentation tests: a Terms value nobody cites is a number the
    published text does not state."""
    optional = {"version", "published_date", "currency"}
    from sitegen.options import ROOT

    for terms in TERMS:
        for lang in ("en", "de"):
            text = (ROOT / "site/content/payment-refund" / f"{terms.version}.{lang}.md").read_text()
            cited = set(re.findall(r"\{\{ terms\.(\w+) \}\}", text))
            assert set(terms.citable()) - optional <= cited, (terms.version, lang)


def test_sections_render_exactly_like_the_whole_text():
    import markdown

    from sitegen.options import ROOT
    from sitegen.render import EXTENSIONS

    for path in (ROOT / "site/content").rglob("*.md"):
        text = path.read_text().split("\n---\n", 1)[1]
        whole = markdown.Markdown(extensions=list(EXTENSIONS)).convert(text)
        assert render_markdown(text) == whole, path
