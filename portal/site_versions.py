"""What the static site published: ``SITE_DIR/versions.json`` written by ``build.py``.

For every version and language of the Payment & Refund Policy it holds the permanent URL,
the URL of its changes page and the sha256 of its rendered text: the portal records that
hash with every acceptance and consent, so a record proves which text the user saw.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from portal.policy import POLICY_SLUG

_cache: dict[str, tuple[float, dict]] = {}
_lock = threading.Lock()


class SiteNotBuilt(RuntimeError):
    """``versions.json`` is missing: build the site (``python build.py --out DIR``)."""


@dataclass(frozen=True)
class Published:
    version: str
    language: str
    url: str
    changes_url: str | None
    sha256: str


def _versions(site_dir: str) -> dict:
    path = Path(site_dir) / "versions.json"
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError as missing:
        raise SiteNotBuilt(str(path)) from missing
    with _lock:
        cached = _cache.get(site_dir)
        if cached is None or cached[0] != mtime:
            cached = (mtime, json.loads(path.read_text(encoding="utf-8")))
            _cache[site_dir] = cached
        return cached[1]


def published(site_dir: str, version: str, language: str) -> Published:
    """The published page of ``version`` in ``language`` (English when it has none)."""
    languages = _versions(site_dir).get(POLICY_SLUG, {}).get(version)
    if not languages:
        raise SiteNotBuilt(f"version {version} of {POLICY_SLUG} is not in versions.json")
    lang = language if language in languages else "en" if "en" in languages else sorted(languages)[0]
    entry = languages[lang]
    return Published(version, lang, entry["url"], entry.get("changes_url"), entry["sha256"])


def clause_url(site_dir: str, version: str, language: str, anchor: str) -> str:
    """The link to one clause of one version: ``/<lang>/payment-refund/<version>/#<anchor>``."""
    return f"{published(site_dir, version, language).url}#{anchor}"
