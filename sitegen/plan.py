"""Which files the site consists of, what each one shows, and what each one depends on.

The output tree is the URL contract:

    /index.html                                  language chooser
    /<lang>/index.html                           home
    /<lang>/contact/index.html                   contact page
    /<lang>/<policy>/index.html                  the version in force at the build clock
    /<lang>/<policy>/<version>/index.html        every version's permanent page
    /<lang>/<policy>/<version>/changes/index.html  redline against the previous version
    /<lang>/<policy>/history/index.html          every version with dates and summaries
    /<lang>/feed.xml, /sitemap.xml, /404.html, /assets/*, /versions.json

A stylesheet's name carries its content's hash (``/assets/site.<16 hex>.css``), so it can be
cached for a year: a changed stylesheet is a new name, and every page naming it changes.

Each output carries a key: the hash of everything it is made from (the rendered Markdown
it shows, the templates it uses, the translations, the dates and titles of its policy's
versions). A rebuild renders only the outputs whose key changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from markupsafe import Markup

from sitegen import incremental
from sitegen.cite import Body
from sitegen.incremental import RenderCache
from sitegen.model import TERMS_BY_POLICY, Policy, Site, Version
from sitegen.read import SOURCE_LANGUAGE, Document
from policytext.redline import redline
from sitegen.templates import Templates

ASSETS_DIR = "assets"
FINGERPRINTED = (".css",)  # the assets published under a name that carries their hash
NAV_TEMPLATE = "_nav.html"
POLICY_TEMPLATES = ("version.html", "changes.html", "history.html")  # of the pages of a policy
SITE = ("", "")  # the group of the outputs that show no text


@dataclass
class Output:
    path: str  # relative to the output root, POSIX
    key: str
    render: Callable[[], bytes]
    sources: tuple[Path, ...] = ()  # Markdown files whose text the output shows
    listed: bool = True  # in the sitemap: not a page marked noindex or canonical elsewhere
    # Rendered with the texts of its group: (policy or page, language) of the texts it shows,
    # SITE for the others; None: once every text is rendered (versions.json).
    group: tuple[str, str] | None = SITE


def version_url(slug: str, lang: str, version: str) -> str:
    return f"/{lang}/{slug}/{version}/"


_SECTION_HEADING = re.compile(r'<h2 id="([^"]+)">(.*?)</h2>', re.S)
_TAG = re.compile(r"<[^>]+>")


def table_of_contents(body_html: str) -> list[tuple[str, Markup]]:
    """(id, title) of every second-level heading of a rendered text."""
    return [(anchor, Markup(_TAG.sub("", title))) for anchor, title in _SECTION_HEADING.findall(body_html)]


def _shown_meta(doc: Document) -> list:
    """The front matter a page may show: all but the hash of the English text a translation
    was made from. (What a policy version shows of its front matter is in its policy's signature.)"""
    return sorted((key, value) for key, value in doc.meta.items() if key != "translated_from")


class Planner:
    """The outputs of a site. A process that builds again and again (``serve``) keeps its
    planner: the outputs of a policy in a language are planned again only when something
    they are made from changed (planning all 11,008 outputs of the 5,000 bench pages took
    each edit 0.23 s, where the target is Hugo's server: 0.49 s). The outputs render with
    what the planner was last given, so one planned earlier renders as it would have then."""

    def __init__(self, static_dir: Path, site_url: str):
        self.static_dir = static_dir
        self.site_url = site_url.rstrip("/")
        self._planned: dict[tuple[str, str], tuple[str, list[Output]]] = {}  # (policy, lang) -> (key, outputs)

    def outputs(self, site: Site, bodies: dict[Path, Body], cache: RenderCache, templates: Templates) -> list[Output]:
        self.site, self.bodies, self.cache, self.templates = site, bodies, cache, templates
        # What many pages share, computed once per language.
        self._titles = {lang: {slug: str(p.shown(site.now).doc(lang).meta.get("title", slug))
                               for slug, p in site.policies.items() if p.visible(site.now)} for lang in site.languages}
        # The policies the navigation names: those the portal enforces.
        self._featured = {lang: {slug: title for slug, title in titles.items() if slug in TERMS_BY_POLICY}
                          for lang, titles in self._titles.items()}
        self._asset_names, assets = self._assets()
        self._pages = {lang: {name: docs[lang] for name, docs in site.pages.items()} for lang in site.languages}
        self._nav_html: dict[str, Markup] = {}
        self._nav = {lang: incremental.key(self._nav_signature(lang)) for lang in site.languages}
        self._bases: dict[tuple[str, str], str] = {}
        self._policy_signatures = {(slug, lang): incremental.key(self._policy_signature(p, lang))
                                   for slug, p in site.policies.items() for lang in site.languages}
        outputs = [output for lang in site.languages for output in self._language_outputs(lang)]
        outputs.append(self._page("index.html", "chooser.html", SOURCE_LANGUAGE, {}))
        outputs.append(self._page("404.html", "404.html", SOURCE_LANGUAGE, {}))
        outputs.append(self._sitemap(outputs))
        outputs.append(self._versions_manifest())
        return outputs + assets

    def _language_outputs(self, lang: str) -> list[Output]:
        site = self.site
        home, contact = self._pages[lang]["home"], self._pages[lang]["contact"]
        policies = [self._policy_signatures[slug, lang] for slug in site.policies]
        outputs = [
            self._page(f"{lang}/index.html", "home.html", lang, {"doc": home, "policies": list(site.policies.values())},
                       bodies=[home], deps=[policies, _shown_meta(home)]),
            self._page(f"{lang}/contact/index.html", "page.html", lang, {"doc": contact}, bodies=[contact],
                       deps=[_shown_meta(contact)]),
        ]
        for policy in site.policies.values():
            if policy.visible(site.now):
                outputs += self._policy_outputs(policy, lang)
        outputs.append(self._page(f"{lang}/feed.xml", "feed.xml", lang, {"entries": self._feed_entries(lang)},
                                  deps=[policies]))
        return outputs

    def _policy_outputs(self, policy: Policy, lang: str) -> list[Output]:
        """The pages of a policy in a language: as planned last time, unless what their
        keys are made from changed."""
        signature = self._policy_signatures[policy.slug, lang]
        visible = policy.visible(self.site.now)
        key = incremental.key(signature, [self.bodies[v.doc(lang).path].key for v in visible],
                              [self._base(name, lang) for name in POLICY_TEMPLATES])
        planned = self._planned.get((policy.slug, lang))
        if planned and planned[0] == key:
            return planned[1]
        outputs = [self._version_page(f"{lang}/{policy.slug}/index.html", policy, policy.shown(self.site.now), lang,
                                      signature, alias=True)]
        for version in visible:
            base = f"{lang}/{policy.slug}/{version.version}"
            outputs.append(self._version_page(f"{base}/index.html", policy, version, lang, signature))
            previous = policy.previous(version)
            if previous:
                outputs.append(self._changes_page(f"{base}/changes/index.html", policy, previous, version, lang, signature))
        outputs.append(self._page(f"{lang}/{policy.slug}/history/index.html", "history.html", lang,
                                  {"policy": policy, "versions": visible}, deps=[signature], group=(policy.slug, lang)))
        self._planned[policy.slug, lang] = (key, outputs)
        return outputs

    # --- outputs of one kind ----------------------------------------------------------

    def _version_page(self, path, policy: Policy, version: Version, lang, signature, alias=False) -> Output:
        doc = version.doc(lang)
        following = policy.following(version)  # once published, it ends this version's period
        period_end = following.effective_at if following and following.published_at <= self.site.now else None
        context = {"policy": policy, "version": version, "doc": doc, "is_alias": alias,
                   "previous": policy.previous(version), "period_end": period_end,
                   "toc": True}  # filled from the rendered text when the page is rendered
        # The alias's canonical URL is the version's own (version.html).
        return self._page(path, "version.html", lang, context, bodies=[doc], deps=[signature, alias], listed=not alias)

    def _changes_page(self, path, policy, previous: Version, version: Version, lang, signature) -> Output:
        context = {"policy": policy, "version": version, "previous": previous, "doc": version.doc(lang),
                   "redline": True}
        return self._page(path, "changes.html", lang, context, bodies=[previous.doc(lang), version.doc(lang)],
                          deps=[signature], listed=False)  # noindex: the version's own page is the one to find

    def _page(self, path: str, template: str, lang: str, context: dict, *, bodies=(), deps=(), listed=True,
              group=SITE) -> Output:
        key = incremental.key(path, self._base(template, lang), [self.bodies[doc.path].key for doc in bodies], list(deps))

        def render() -> bytes:
            texts = [self.cache.body(self.bodies[doc.path].key) for doc in bodies]  # the page's own text last
            full = {**context, **self._common(path, lang)}
            if texts:
                full["body_html"] = texts[-1]
            if full.get("toc"):
                full["toc"] = table_of_contents(texts[-1])
            if full.get("redline"):
                full["redline_html"] = redline(*texts)
            return self.templates.render(template, lang, full).encode("utf-8")

        group = (bodies[0].slug, lang) if bodies else group
        return Output(path, key, render, tuple(doc.path for doc in bodies), listed, group)

    def _sitemap(self, outputs: list[Output]) -> Output:
        pages = sorted({o.path for o in outputs if o.listed and o.path.endswith("index.html") and o.path.count("/") >= 1})
        groups: dict[str, dict[str, str]] = {}
        for path in pages:
            lang, rest = path.split("/", 1)
            groups.setdefault(rest, {})[lang] = self.site_url + "/" + path.removesuffix("index.html")
        entries = [{"alternates": alternates} for _, alternates in sorted(groups.items())]
        key = incremental.key("sitemap", self.templates.key("sitemap.xml", SOURCE_LANGUAGE), entries)
        render = lambda: self.templates.render("sitemap.xml", SOURCE_LANGUAGE, {"entries": entries}).encode()  # noqa: E731
        return Output("sitemap.xml", key, render)

    def _versions_manifest(self) -> Output:
        """versions.json: what the portal needs to link and fingerprint each version."""
        manifest: dict[str, dict] = {}
        for policy in self.site.policies.values():
            for version in policy.visible(self.site.now):
                previous = policy.previous(version)
                manifest.setdefault(policy.slug, {})[version.version] = {
                    lang: {
                        "url": (url := version_url(policy.slug, lang, version.version)),
                        "changes_url": f"{url}changes/" if previous else None,
                        "body_key": self.bodies[version.doc(lang).path].key,
                    }
                    for lang in self.site.languages
                }

        def render() -> bytes:
            entries = [entry for versions in manifest.values() for langs in versions.values() for entry in langs.values()]
            digests = self.cache.body_sha256([entry["body_key"] for entry in entries])
            published = {slug: {version: {lang: {**{k: v for k, v in entry.items() if k != "body_key"},
                                                 "sha256": digests[entry["body_key"]]}
                                          for lang, entry in langs.items()}
                                for version, langs in versions.items()}
                         for slug, versions in manifest.items()}
            # Compact: with an indent, json falls back from its C encoder to Python, and
            # this file changes with every edit of any version's text.
            return json.dumps(published, sort_keys=True, separators=(",", ":")).encode()

        return Output("versions.json", incremental.key("versions.json", manifest), render, group=None)

    def _assets(self) -> tuple[dict[str, str], list[Output]]:
        """{asset: its published name} and the assets' outputs: ``site.css`` is published as
        ``site.<first 16 hex of its sha256>.css`` (a fingerprinted kind), the favicon as itself."""
        names, outputs = {}, []
        for path in sorted(self.static_dir.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                digest = hashlib.sha256(data).hexdigest()
                rel = path.relative_to(self.static_dir).as_posix()
                fingerprinted = f"{rel.removesuffix(path.suffix)}.{digest[:16]}{path.suffix}"
                names[rel] = fingerprinted if path.suffix in FINGERPRINTED else rel
                outputs.append(Output(f"{ASSETS_DIR}/{names[rel]}", digest, lambda data=data: data))
        return names, outputs

    # --- what pages share ----------------------------------------------------------------

    def _base(self, template: str, lang: str) -> str:
        """The key of what every page of ``template`` in ``lang`` is made from: the templates
        it uses, the navigation, the site's URL and the assets' names."""
        if (template, lang) not in self._bases:
            self._bases[template, lang] = incremental.key(
                self.templates.key(template, lang), self.templates.key(NAV_TEMPLATE, lang), self._nav[lang],
                self.site_url, self._asset_names)
        return self._bases[template, lang]

    def _common(self, path: str, lang: str) -> dict:
        """Context every template gets: language, its alternates and the site's links."""
        first, slash, rest = path.partition("/")
        alternates = ({other: "/" + f"{other}/{rest}".removesuffix("index.html") for other in self.site.languages}
                      if slash and first in self.site.languages else {})
        return {
            "lang": lang,
            "languages": self.site.languages,
            "path": "/" + path.removesuffix("index.html"),
            "alternates": alternates,
            "site_url": self.site_url,
            "now": self.site.now,
            "policy_titles": self._titles[lang],
            "pages": self._pages[lang],
            "site_nav": self._site_nav(lang),
            "assets": self._asset_names,
        }

    def _site_nav(self, lang: str) -> Markup:
        if lang not in self._nav_html:
            context = {"lang": lang, "policy_titles": self._titles[lang], "featured": self._featured[lang],
                       "pages": self._pages[lang]}
            self._nav_html[lang] = Markup(self.templates.render(NAV_TEMPLATE, lang, context))
        return self._nav_html[lang]

    def _nav_signature(self, lang: str) -> list:
        """What every page shows of the site as a whole (header, footer, languages)."""
        pages = [(name, doc.meta.get("title")) for name, doc in sorted(self._pages[lang].items())]
        more = len(self._titles[lang]) > len(self._featured[lang])
        return [list(self.site.languages), sorted(self._featured[lang].items()), more, pages]

    def _policy_signature(self, policy: Policy, lang: str) -> list:
        now = self.site.now
        in_force, upcoming = policy.in_force(now), policy.upcoming(now)
        return [
            policy.slug,
            [(v.version, v.published_at, v.effective_at, v.material, v.doc(lang).meta.get("title"),
              v.doc(lang).meta.get("summary")) for v in policy.visible(now)],
            in_force.version if in_force else None,
            upcoming.version if upcoming else None,
        ]

    def _feed_entries(self, lang: str) -> list[dict]:
        entries = []
        for policy in self.site.policies.values():
            for version in policy.visible(self.site.now):
                doc = version.doc(lang)
                entries.append({"policy": policy.slug, "version": version, "title": doc.meta.get("title"),
                                "summary": doc.meta.get("summary"),
                                "url": self.site_url + version_url(policy.slug, lang, version.version)})
        return sorted(entries, key=lambda e: (e["version"].published_at, e["policy"], e["version"].version), reverse=True)
