"""The site as data: policies and their versions, pages, languages and the build clock.

A policy backed by ``portal.policy`` (the Payment & Refund Policy) takes every version's
dates and numbers from its ``Terms``; any other policy states its dates in front matter.
Which version is in force, and which is upcoming, follows from the build clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from portal import policy
from portal.policy import Terms
from sitegen.read import PAGES_DIR, SOURCE_LANGUAGE, Document
from sitegen.problems import Problem

TERMS_BY_POLICY: dict[str, tuple[Terms, ...]] = {policy.POLICY_SLUG: policy.TERMS}
DEFAULT_NOTICE_PERIOD = policy.TERMS[-1].notice_period
REQUIRED_PAGES = ("home", "contact")


@dataclass(frozen=True)
class Version:
    policy: str
    version: str
    published_at: datetime
    effective_at: datetime
    material: bool
    terms: Terms | None
    docs: dict[str, Document] = field(compare=False)

    def doc(self, lang: str) -> Document:
        return self.docs[lang]


@dataclass(frozen=True)
class Policy:
    slug: str
    versions: tuple[Version, ...]  # by effective instant
    # now -> the versions visible then: asked for a few times per page, it took planning the
    # 5,000 bench pages 40 ms of each `serve` edit (the target: Hugo's server, 0.49 s)
    _visible: dict = field(default_factory=dict, compare=False, repr=False)

    def visible(self, now: datetime) -> tuple[Version, ...]:
        """Versions published by ``now``; later ones are not on the site yet."""
        if now not in self._visible:
            self._visible[now] = tuple(v for v in self.versions if v.published_at <= now)
        return self._visible[now]

    def in_force(self, now: datetime) -> Version | None:
        current = [v for v in self.visible(now) if v.effective_at <= now]
        return current[-1] if current else None

    def upcoming(self, now: datetime) -> Version | None:
        return next((v for v in self.visible(now) if v.effective_at > now), None)

    def shown(self, now: datetime) -> Version | None:
        """The version the policy's own URL shows: the one in force, else the upcoming one."""
        return self.in_force(now) or self.upcoming(now)

    def previous(self, version: Version) -> Version | None:
        index = self._index(version)
        return self.versions[index - 1] if index else None

    def following(self, version: Version) -> Version | None:
        index = self._index(version)
        return self.versions[index + 1] if index + 1 < len(self.versions) else None

    def _index(self, version: Version) -> int:
        """Found by name: comparing whole Versions (their Terms too) took planning a
        one-page rebuild of 1,000 bench pages 15 ms of its 0.3 s (the target)."""
        return [v.version for v in self.versions].index(version.version)


@dataclass(frozen=True)
class Site:
    root: Path
    now: datetime
    languages: tuple[str, ...]  # the source language first
    policies: dict[str, Policy]
    pages: dict[str, dict[str, Document]]

    def terms_for_pages(self) -> Terms:
        """Unversioned pages cite the Terms in force at the build clock."""
        return policy.terms_in_force(self.now) if self.now >= policy.TERMS[0].effective_at else policy.TERMS[0]


def build_model(root: Path, documents: list[Document], now: datetime) -> tuple[Site, list[Problem]]:
    problems: list[Problem] = []
    languages = (SOURCE_LANGUAGE, *sorted({d.lang for d in documents} - {SOURCE_LANGUAGE}))
    grouped: dict[tuple[str, str], dict[str, Document]] = {}
    pages: dict[str, dict[str, Document]] = {}
    for doc in documents:
        if doc.kind == "page":
            pages.setdefault(doc.slug, {})[doc.lang] = doc
        elif doc.version:
            grouped.setdefault((doc.slug, doc.version), {})[doc.lang] = doc
    for name in REQUIRED_PAGES:
        if name not in pages:
            problems.append(Problem(root / PAGES_DIR, 1, f"the page {name!r} is missing ({PAGES_DIR}/{name}.<lang>.md)"))
    for name, by_lang in pages.items():
        problems += _missing_languages(root / PAGES_DIR / f"{name}.{SOURCE_LANGUAGE}.md", by_lang, languages)

    versions_by_policy: dict[str, list[Version]] = {}
    for (slug, version_id), docs in sorted(grouped.items()):
        problems += _missing_languages(root / slug / f"{version_id}.{SOURCE_LANGUAGE}.md", docs, languages)
        source = docs.get(SOURCE_LANGUAGE)
        if source is None:
            continue
        version = _version(slug, version_id, docs, source, problems)
        if version:
            versions_by_policy.setdefault(slug, []).append(version)

    for slug, all_terms in TERMS_BY_POLICY.items():
        texts = {v for s, v in grouped if s == slug}
        for terms in all_terms:
            if texts and terms.version not in texts:  # a site without the policy needs none of its texts
                problems.append(Problem(root / slug, 1, f"Terms {terms.version} in portal/terms.toml have no text: add {slug}/{terms.version}.<lang>.md"))

    policies = {slug: Policy(slug, tuple(sorted(versions, key=lambda v: (v.effective_at, v.version))))
                for slug, versions in versions_by_policy.items()}
    for item in policies.values():
        problems += _notice_problems(item)
    return Site(root, now, languages, policies, pages), problems


def _missing_languages(source_path: Path, by_lang: dict[str, Document], languages) -> list[Problem]:
    return [
        Problem(source_path.with_name(source_path.name.replace(f".{SOURCE_LANGUAGE}.", f".{lang}.")), 1,
                f"missing the {lang!r} translation of {source_path.name}")
        for lang in languages if lang not in by_lang
    ]


def _version(slug, version_id, docs, source: Document, problems: list[Problem]) -> Version | None:
    all_terms = TERMS_BY_POLICY.get(slug)
    if all_terms is not None:
        terms = next((t for t in all_terms if t.version == version_id), None)
        if terms is None:
            problems.append(Problem(source.path, source.line_of("version"),
                                    f"version {version_id} has no Terms in portal/terms.toml: add a [[terms]] block with version = \"{version_id}\" (new-version adds one)"))
            return None
        for doc in docs.values():
            for key in ("published", "effective", "material"):
                if key in doc.meta:
                    problems.append(Problem(doc.path, doc.line_of(key),
                                            f"{key!r} comes from the Terms in portal/terms.toml: remove it from the front matter"))
        if terms.effective_at.date().isoformat() != version_id:
            problems.append(Problem(source.path, source.line_of("version"),
                                    f"the Terms of version {version_id} in portal/terms.toml take effect on "
                                    f"{terms.effective_at.date().isoformat()}: a version is named after the day it takes effect"))
        return Version(slug, version_id, terms.published_at, terms.effective_at, terms.material, terms, docs)

    missing = [key for key in ("published", "effective") if key not in source.meta]
    for key in missing:
        problems.append(Problem(source.path, 1, f"front matter is missing {key!r} (this policy has no Terms in code)"))
    if missing:
        return None
    for doc in docs.values():
        for key in ("published", "effective", "material"):
            if key in doc.meta and doc.meta[key] != source.meta.get(key):
                problems.append(Problem(doc.path, doc.line_of(key), f"{key!r} differs from the English file's"))
    effective = _midnight(str(source.meta["effective"]))
    if effective.date().isoformat() != version_id:
        problems.append(Problem(source.path, source.line_of("effective"), f"effective date differs from the version {version_id}"))
    return Version(slug, version_id, _midnight(str(source.meta["published"])), effective,
                   bool(source.meta.get("material", False)), None, docs)


def _notice_problems(item: Policy) -> list[Problem]:
    problems = []
    for version in item.versions:
        notice = version.terms.notice_period if version.terms else DEFAULT_NOTICE_PERIOD
        # A Terms-backed version's dates are set in portal/terms.toml: say where to fix them.
        where = " (its dates are in its Terms in portal/terms.toml)" if version.terms else ""
        source = version.doc(SOURCE_LANGUAGE)
        if version.effective_at < version.published_at:
            problems.append(Problem(source.path, 1, f"takes effect before it is published{where}"))
        elif version.material and version.effective_at - version.published_at < notice:
            days = (version.effective_at - version.published_at).days
            problems.append(Problem(source.path, source.line_of("effective"), f"a material change needs {notice.days} "
                                    f"days' notice, but takes effect {days} days after publication{where}"))
    return problems


def _midnight(iso: str) -> datetime:
    return datetime.combine(date.fromisoformat(iso), datetime.min.time(), tzinfo=timezone.utc)
