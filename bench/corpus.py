"""A generated policy corpus, written in the layouts of four site generators.

`generate(root, pages)` writes the same logical pages under `root` as:

- `ours/content/`  the contract of build.py: `<policy>/<version>.<lang>.md` with YAML front
  matter (title, version, summary, published, effective, material, translated_from), plus
  `pages/home.<lang>.md` and `pages/contact.<lang>.md`;
- `hugo/`          a minimal Hugo site (hugo.toml, a three-file layout, content/<lang>/...);
- `mkdocs/`        mkdocs.yml (default `mkdocs` theme, directory URLs) and docs/<lang>/...;
- `pelican/`       pelicanconf.py (default `notmyidea` theme) and content/<lang>/...

Pages are policies x VERSIONS x LANGS (so `pages` must be a multiple of 10). Each page is
about 2,000 words: 8 to 12 `## Heading {#id}` sections of paragraphs and bullet lists,
with a few site-absolute links to a heading of another policy. Ids are the same in every
version and language of a policy. Consecutive versions differ by a few rewritten
sentences, like real policy revisions. German text is the English text word for word
through a parallel vocabulary, so both languages have the same structure.

Everything is drawn from `random.Random(seed)`: the same arguments give the same bytes.
"""

from __future__ import annotations

import hashlib
import random
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

LANGS = ("en", "de")
VERSIONS = ("2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01", "2026-01-01")
PAGES_PER_POLICY = len(VERSIONS) * len(LANGS)
NOTICE_DAYS = 40  # published this many days before effective: above the 30 days of a material change
WORDS_PER_PAGE = 2000
LINKS_PER_PAGE = 3

# (english, german): the words every sentence is made of.
VOCABULARY = (
    ("account", "Konto"), ("balance", "Guthaben"), ("deposit", "Einzahlung"),
    ("refund", "Erstattung"), ("request", "Antrag"), ("customer", "Kunde"),
    ("payment", "Zahlung"), ("card", "Karte"), ("transaction", "Transaktion"),
    ("credit", "Gutschrift"), ("service", "Dienst"), ("number", "Nummer"),
    ("message", "Nachricht"), ("provider", "Anbieter"), ("window", "Frist"),
    ("period", "Zeitraum"), ("fee", "Gebühr"), ("network", "Netzwerk"),
    ("currency", "Währung"), ("invoice", "Rechnung"), ("ticket", "Ticket"),
    ("support", "Support"), ("team", "Team"), ("decision", "Entscheidung"),
    ("policy", "Richtlinie"), ("version", "Fassung"), ("notice", "Mitteilung"),
    ("consumer", "Verbraucher"), ("contract", "Vertrag"), ("right", "Recht"),
    ("withdrawal", "Widerruf"), ("waiver", "Verzicht"), ("method", "Methode"),
    ("processor", "Zahlungsdienstleister"), ("amount", "Betrag"), ("price", "Preis"),
    ("country", "Land"), ("rental", "Miete"), ("activation", "Aktivierung"),
    ("abuse", "Missbrauch"), ("suspension", "Sperrung"), ("termination", "Kündigung"),
    ("evidence", "Nachweis"), ("record", "Aufzeichnung"), ("ledger", "Hauptbuch"),
    ("dashboard", "Übersicht"), ("email", "E-Mail"), ("response", "Antwort"),
    ("business", "Geschäft"), ("day", "Tag"), ("hour", "Stunde"), ("week", "Woche"),
    ("law", "Gesetz"), ("tax", "Steuer"), ("chargeback", "Rückbuchung"),
    ("dispute", "Streitfall"), ("platform", "Plattform"), ("user", "Nutzer"),
    ("the", "die"), ("a", "eine"), ("each", "jede"), ("every", "jede"),
    ("no", "keine"), ("any", "jede"), ("this", "diese"), ("our", "unsere"),
    ("your", "Ihre"), ("its", "ihre"), ("and", "und"), ("or", "oder"), ("but", "aber"),
    ("if", "wenn"), ("when", "wenn"), ("after", "nach"), ("before", "vor"),
    ("within", "innerhalb"), ("under", "unter"), ("for", "für"), ("with", "mit"),
    ("without", "ohne"), ("to", "zu"), ("from", "von"), ("by", "durch"), ("of", "von"),
    ("in", "in"), ("on", "auf"), ("is", "ist"), ("are", "sind"), ("may", "darf"),
    ("must", "muss"), ("will", "wird"), ("cannot", "kann nicht"), ("applies", "gilt"),
    ("receives", "erhält"), ("keeps", "behält"), ("confirms", "bestätigt"),
    ("reviews", "prüft"), ("returns", "erstattet"), ("charges", "berechnet"),
    ("records", "verzeichnet"), ("decides", "entscheidet"), ("informs", "informiert"),
    ("answers", "beantwortet"), ("opens", "eröffnet"), ("closes", "schließt"),
    ("refuses", "verweigert"), ("credits", "schreibt gut"), ("holds", "hält"),
    ("final", "endgültig"), ("eligible", "berechtigt"), ("unused", "ungenutzt"),
    ("failed", "gescheitert"), ("received", "empfangen"), ("expired", "abgelaufen"),
    ("original", "ursprünglich"), ("written", "schriftlich"), ("reasonable", "angemessen"),
    ("immediate", "sofortig"), ("digital", "digital"), ("irreversible", "unumkehrbar"),
    ("secure", "sicher"), ("fair", "fair"), ("transparent", "transparent"),
    ("applicable", "anwendbar"), ("previous", "vorherig"), ("current", "aktuell"),
    ("new", "neu"), ("full", "vollständig"), ("partial", "teilweise"),
    ("promptly", "umgehend"), ("only", "nur"), ("also", "auch"), ("not", "nicht"),
    ("again", "erneut"), ("always", "immer"), ("usually", "meist"),
)
TOPICS = (
    ("refund", "Erstattung"), ("payment", "Zahlung"), ("deposit", "Einzahlung"),
    ("privacy", "Datenschutz"), ("abuse", "Missbrauch"), ("support", "Support"),
    ("pricing", "Preis"), ("account", "Konto"), ("withdrawal", "Widerruf"),
    ("rental", "Miet"),
)
SUMMARY = {
    "en": ("First published version.", "Rewrites {n} sentences in the section {s}."),
    "de": ("Erste veröffentlichte Fassung.", "Formuliert {n} Sätze im Abschnitt {s} neu."),
}
POLICY_TITLE = {"en": "{topic} Policy {n}", "de": "{topic}-Richtlinie {n}"}
HOME = {
    "en": ("Policies", "Every policy of this site, in force and past.", "Contact",
           "Write to the support team for any question about a policy."),
    "de": ("Richtlinien", "Jede Richtlinie dieser Seite, gültige und frühere.", "Kontakt",
           "Schreiben Sie dem Support-Team bei jeder Frage zu einer Richtlinie."),
}
NOUNS = range([en for en, _ in VOCABULARY].index("the"))  # the nouns come first: headings use them

Sentence = tuple  # (word indexes, link or None); a link is (span start, span length, target)


@dataclass(frozen=True)
class Link:
    """A site-absolute link to a heading of a policy, optionally of one version."""

    policy: str
    anchor: str
    version: str | None

    def url(self, lang: str) -> str:
        version = f"{self.version}/" if self.version else ""
        return f"/{lang}/{self.policy}/{version}#{self.anchor}"


@dataclass
class Section:
    """A `##` heading with its stable id and its blocks: ('p', [sentences]) or ('ul', [sentences])."""

    anchor: str
    title: tuple[int, ...]
    blocks: list = field(default_factory=list)


@dataclass
class Policy:
    """One policy: its slug, its title per language and its sections in every version."""

    slug: str
    titles: dict[str, str]
    versions: dict[str, list[Section]] = field(default_factory=dict)
    summaries: dict[str, dict[str, str]] = field(default_factory=dict)
    material: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """One source page of the corpus, as it is named in each layout."""

    policy: str
    version: str
    lang: str

    @property
    def ours(self) -> str:
        return f"ours/content/{self.policy}/{self.version}.{self.lang}.md"

    @property
    def hugo(self) -> str:
        return f"hugo/content/{self.lang}/{self.policy}/{self.version}.md"

    @property
    def mkdocs(self) -> str:
        return f"mkdocs/docs/{self.lang}/{self.policy}/{self.version}.md"

    @property
    def pelican(self) -> str:
        return f"pelican/content/{self.lang}/{self.policy}/{self.version}.md"

    @property
    def url(self) -> str:
        """The page's URL in every layout: /<lang>/<policy>/<version>/."""
        return f"/{self.lang}/{self.policy}/{self.version}/"


@dataclass
class Corpus:
    """What `generate` wrote: the root and the pages, in a stable order."""

    root: Path
    pages: list[Page]
    words: int  # words in the body of all pages, for the record


def generate(root: Path, pages: int, seed: int = 1) -> Corpus:
    """Write `pages` pages (a multiple of PAGES_PER_POLICY) in the four layouts under `root`."""
    if pages <= 0 or pages % PAGES_PER_POLICY:
        raise ValueError(f"pages must be a positive multiple of {PAGES_PER_POLICY}, not {pages}")
    rng = random.Random(seed)
    policies = _make_policies(rng, pages // PAGES_PER_POLICY)
    if root.exists():
        shutil.rmtree(root)
    _write_configs(root)
    written: list[Page] = []
    words = 0
    for policy in policies:
        for version in VERSIONS:
            english_sha = ""
            for lang in LANGS:
                page = Page(policy.slug, version, lang)
                body = _render_body(policy.versions[version], lang)
                words += len(body.split())
                english_sha = _write_page(root, policy, page, body, english_sha)
                written.append(page)
    _write_home_pages(root)
    return Corpus(root, written, words)


# --- the logical content --------------------------------------------------------------


def _make_policies(rng: random.Random, count: int) -> list[Policy]:
    policies = []
    for n in range(1, count + 1):
        topic_en, topic_de = TOPICS[(n - 1) % len(TOPICS)]
        slug = f"{topic_en}-policy-{n}"
        titles = {
            "en": POLICY_TITLE["en"].format(topic=topic_en.capitalize(), n=n),
            "de": POLICY_TITLE["de"].format(topic=topic_de, n=n),
        }
        policies.append(Policy(slug, titles))
    outlines = {p.slug: _outline(rng) for p in policies}
    for policy in policies:
        sections = outlines[policy.slug]
        others = [p for p in policies if p is not policy] or [policy]
        _fill(rng, sections, others, outlines)
        _make_versions(rng, policy, sections)
    return policies


def _outline(rng: random.Random) -> list[Section]:
    """8 to 12 sections with distinct ids and noun-phrase titles."""
    sections = []
    for i in range(rng.randint(8, 12)):
        title = tuple(rng.choice(NOUNS) for _ in range(rng.randint(2, 4)))
        anchor = "-".join(VOCABULARY[w][0] for w in title[:2]) + f"-{i + 1}"
        sections.append(Section(anchor, title))
    return sections


def _fill(rng, sections: list[Section], others: list[Policy], outlines) -> None:
    """Paragraphs and lists up to about WORDS_PER_PAGE words, with LINKS_PER_PAGE links."""
    per_section = WORDS_PER_PAGE // len(sections) - len(sections[0].title)
    for section in sections:
        count = 0
        while count + 30 < per_section:
            if section.blocks and section.blocks[-1][0] == "p" and rng.random() < 0.35:
                items = [_sentence(rng, 5, 10) for _ in range(rng.randint(3, 5))]
                section.blocks.append(("ul", items))
            else:
                items = [_sentence(rng, 9, 18) for _ in range(rng.randint(3, 6))]
                section.blocks.append(("p", items))
            count += sum(len(s[0]) for s in items)
    paragraphs = [(s, b) for s in sections for b in s.blocks if b[0] == "p"]
    for _, block in rng.sample(paragraphs, min(LINKS_PER_PAGE, len(paragraphs))):
        target = rng.choice(others)
        anchor = rng.choice(outlines[target.slug]).anchor
        version = rng.choice((None, rng.choice(VERSIONS)))
        i = rng.randrange(len(block[1]))
        words = block[1][i][0]
        start = rng.randrange(max(1, len(words) - 3))
        block[1][i] = (words, (start, 2, Link(target.slug, anchor, version)))


def _sentence(rng: random.Random, low: int, high: int) -> Sentence:
    return (tuple(rng.randrange(len(VOCABULARY)) for _ in range(rng.randint(low, high))), None)


def _make_versions(rng: random.Random, policy: Policy, sections: list[Section]) -> None:
    """Version 1 is `sections`; each next version rewrites 2 to 5 sentences of one section."""
    current = sections
    for n, version in enumerate(VERSIONS):
        if n:
            current = [Section(s.anchor, s.title, [(k, list(items)) for k, items in s.blocks])
                       for s in current]
            section = rng.choice(current)
            edits = rng.randint(2, 5)
            for _ in range(edits):
                kind, items = rng.choice(section.blocks)
                i = rng.randrange(len(items))
                if items[i][1] is None:  # links stay where they are
                    items[i] = _sentence(rng, 5, 10) if kind == "ul" else _sentence(rng, 9, 18)
            policy.material[version] = rng.random() < 0.3
            policy.summaries[version] = {
                lang: SUMMARY[lang][1].format(n=edits, s=_words(section.title, lang, title=True))
                for lang in LANGS
            }
        else:
            policy.material[version] = False
            policy.summaries[version] = {lang: SUMMARY[lang][0] for lang in LANGS}
        policy.versions[version] = current


# --- rendering ------------------------------------------------------------------------


def _words(indexes, lang: str, title: bool = False) -> str:
    column = 0 if lang == "en" else 1
    words = [VOCABULARY[i][column] for i in indexes]
    if title and lang == "en":
        words = [w.capitalize() for w in words]
    return " ".join(words)


def _render_sentence(sentence: Sentence, lang: str) -> str:
    indexes, link = sentence
    if link is None:
        text = _words(indexes, lang)
    else:
        start, length, target = link
        before = _words(indexes[:start], lang)
        anchor = _words(indexes[start:start + length], lang)
        after = _words(indexes[start + length:], lang)
        text = " ".join(filter(None, (before, f"[{anchor}]({target.url(lang)})", after)))
    return text[0].upper() + text[1:] + "."


def _render_body(sections: list[Section], lang: str) -> str:
    out = []
    for section in sections:
        out.append(f"## {_words(section.title, lang, title=True)} {{#{section.anchor}}}\n")
        for kind, items in section.blocks:
            if kind == "p":
                out.append(" ".join(_render_sentence(s, lang) for s in items) + "\n")
            else:
                out.append("".join(f"- {_render_sentence(s, lang)}\n" for s in items))
    return "\n".join(out)


def _published(version: str) -> str:
    return (date.fromisoformat(version) - timedelta(days=NOTICE_DAYS)).isoformat()


def _write(path: Path, text: str) -> bytes:
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def _write_page(root: Path, policy: Policy, page: Page, body: str, english_sha: str) -> str:
    """Write one page in the four layouts; return the sha256 of the English file of ours."""
    v, lang = page.version, page.lang
    title = policy.titles[lang]
    summary = policy.summaries[v][lang]
    material = "true" if policy.material[v] else "false"
    ours = (
        f"---\ntitle: {title}\nversion: {v}\nsummary: {summary}\npublished: {_published(v)}\n"
        f"effective: {v}\nmaterial: {material}\n"
        + (f"translated_from: {english_sha}\n" if lang != "en" else "")
        + f"---\n\n{body}"
    )
    data = _write(root / page.ours, ours)
    if lang == "en":
        english_sha = hashlib.sha256(data).hexdigest()
    _write(root / page.hugo,
           f"---\ntitle: {title}\ndate: {_published(v)}\nsummary: {summary}\n"
           f"params:\n  version: {v}\n  effective: {v}\n  material: {material}\n"
           f"---\n\n{body}")
    _write(root / page.mkdocs, f"---\ntitle: {title}\nsummary: {summary}\n---\n\n{body}")
    _write(root / page.pelican,
           f"Title: {title}\nDate: {_published(v)}\nSlug: {page.policy}-{v}\nLang: {lang}\n"
           f"Summary: {summary}\nPolicy: {page.policy}\nVersion: {v}\n\n{body}")
    return english_sha


def _write_home_pages(root: Path) -> None:
    for name in ("home", "contact"):
        english_sha = ""
        for lang in LANGS:
            home, home_text, contact, contact_text = HOME[lang]
            title, text = (home, home_text) if name == "home" else (contact, contact_text)
            source = f"translated_from: {english_sha}\n" if lang != "en" else ""
            data = _write(root / f"ours/content/pages/{name}.{lang}.md",
                          f"---\ntitle: {title}\nsummary: {text}\n{source}---\n\n{text}\n")
            if lang == "en":
                english_sha = hashlib.sha256(data).hexdigest()
    home, home_text, contact, contact_text = HOME["en"]
    _write(root / "hugo/content/_index.md", f"---\ntitle: {home}\n---\n\n{home_text}\n")
    _write(root / "hugo/content/contact.md", f"---\ntitle: {contact}\n---\n\n{contact_text}\n")
    _write(root / "mkdocs/docs/index.md", f"# {home}\n\n{home_text}\n")
    _write(root / "mkdocs/docs/contact.md", f"# {contact}\n\n{contact_text}\n")
    _write(root / "pelican/content/pages/contact.md", f"Title: {contact}\n\n{contact_text}\n")


# --- the other generators' configuration ----------------------------------------------

HUGO_CONFIG = """\
baseURL = "https://example.org/"
locale = "en"
title = "Policies"
disableKinds = ["taxonomy", "term"]
enableRobotsTXT = false

[markup.goldmark.parser.attribute]
title = true
"""
HUGO_BASEOF = """\
<!doctype html>
<html lang="{{ or .Params.lang "en" }}">
<head><meta charset="utf-8"><title>{{ .Title }} | {{ .Site.Title }}</title></head>
<body>
<header><a href="/">{{ .Site.Title }}</a></header>
<main>{{ block "main" . }}{{ end }}</main>
</body>
</html>
"""
HUGO_SINGLE = """\
{{ define "main" }}<article>
<h1>{{ .Title }}</h1>
<p>{{ .Summary }}</p>
<nav>{{ .TableOfContents }}</nav>
{{ .Content }}
</article>{{ end }}
"""
HUGO_LIST = """\
{{ define "main" }}<h1>{{ .Title }}</h1>
{{ .Content }}
<ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
{{ end }}
"""
MKDOCS_CONFIG = """\
site_name: Policies
use_directory_urls: true
theme:
  name: mkdocs
plugins: []
markdown_extensions:
  - attr_list
  - toc
nav:
  - Home: index.md
  - Contact: contact.md
"""
PELICAN_CONFIG = """\
AUTHOR = "Bench"
SITENAME = "Policies"
SITEURL = ""
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = 10
USE_FOLDER_AS_CATEGORY = True
CACHE_PATH = "cache"
ARTICLE_URL = "{lang}/{policy}/{version}/"
ARTICLE_SAVE_AS = "{lang}/{policy}/{version}/index.html"
ARTICLE_LANG_URL = ARTICLE_URL
ARTICLE_LANG_SAVE_AS = ARTICLE_SAVE_AS
"""


def _write_configs(root: Path) -> None:
    _write(root / "hugo/hugo.toml", HUGO_CONFIG)
    _write(root / "hugo/layouts/_default/baseof.html", HUGO_BASEOF)
    _write(root / "hugo/layouts/_default/single.html", HUGO_SINGLE)
    _write(root / "hugo/layouts/_default/list.html", HUGO_LIST)
    _write(root / "mkdocs/mkdocs.yml", MKDOCS_CONFIG)
    _write(root / "pelican/pelicanconf.py", PELICAN_CONFIG)
