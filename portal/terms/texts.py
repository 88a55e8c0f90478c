"""The text of each published version, read from the built site, and the redline between two.

The HTML comes from the site's output (``SITE_DIR/<lang>/payment-refund/<version>/index.html``),
not from ``site/content``: a version's Markdown cites its Terms (``{{ terms.card_refund_days }}``)
and the site fills in and formats those values per language (dates, money, lists of days)
before Markdown renders it, so rendering ``site/content`` here would mean copying the
site's citation and formatting code or importing ``sitegen``, which the portal must not. The
built page holds exactly the HTML the site's own changes pages compare, and ``versions.json``
carries its sha256 (the hash an acceptance records): a text read here is checked against it,
so a page whose layout moved the text raises instead of showing some other HTML. The redline
is ``policytext.redline``, the site's one implementation, so a customer's A->C redline is
made as the site makes B->C.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
from pathlib import Path

from policytext.redline import redline
from portal.site_versions import Published, SiteNotBuilt, published

# How version.html wraps the rendered text (the sha256 check notices if that changes).
_TEXT_START = '<div class="policy-text">\n    '
_TEXT_END = "\n  </div>\n</article>"
_SUMMARY = re.compile(r'<meta name="description" content="([^"]*)">')


@functools.lru_cache(maxsize=64)
def _page(path: str, mtime_ns: int) -> str:
    return Path(path).read_text(encoding="utf-8")


def _version_page(site_dir: str, page: Published) -> str:
    path = Path(site_dir) / page.url.strip("/") / "index.html"
    try:
        return _page(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError as missing:
        raise SiteNotBuilt(str(path)) from missing


def body(site_dir: str, version: str, language: str) -> str:
    """The rendered text of ``version`` (in ``language``, else English), as the site built it."""
    page = published(site_dir, version, language)
    whole = _version_page(site_dir, page)
    start = whole.find(_TEXT_START)
    end = whole.rfind(_TEXT_END)
    text = whole[start + len(_TEXT_START):end] if 0 <= start < end else ""
    if hashlib.sha256(text.encode()).hexdigest() != page.sha256:
        raise SiteNotBuilt(f"{page.url}: the text on the page is not the one versions.json names")
    return text


def summary(site_dir: str, version: str, language: str) -> str:
    """The version's summary of its changes (its front matter's, shown as the page's description)."""
    found = _SUMMARY.search(_version_page(site_dir, published(site_dir, version, language)))
    return html.unescape(found.group(1)) if found else ""


def changes(site_dir: str, accepted: str, target: str, language: str) -> str:
    """The text of ``target`` with what changed since ``accepted`` marked (``<ins>``, ``<del>``),
    compared directly, whatever versions lie between."""
    old, new = body(site_dir, accepted, language), body(site_dir, target, language)
    return _redline(old, new)


@functools.lru_cache(maxsize=32)
def _redline(old: str, new: str) -> str:
    return redline(old, new)


def absolute(public_url: str, path: str) -> str:
    """A site path (``/en/payment-refund/...``) as a URL of the portal's public origin, which
    serves the site too."""
    return f"{public_url.rstrip('/')}{path}"

