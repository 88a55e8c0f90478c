"""Citing Terms values in policy text: ``{{ terms.card_refund_days }}``.

Markdown never states a policy number itself: it cites the value from the Terms by name,
formatted for the page's language. An unknown name, or a literal number that equals a
cited value (and so should have been a citation), is a build problem. ``cite`` fills in
every text of the site once: what is rendered, and keyed, is the cited text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from portal.policy import Terms
from translations.catalog import translations
from sitegen.incremental import body_key, body_key_of
from sitegen.model import Site
from sitegen.problems import BuildFailed, Problem
from sitegen.read import Document
from sitegen.templates import format_date

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
CITATION = re.compile(r"^\s*terms\.([a-z_][a-z0-9_]*)\s*$")
MONEY = {"deposit_min", "deposit_max"}
# What cannot be a stray policy number: placeholders, attribute lists, link targets,
# autolinks and ISO dates.
_NOT_PROSE = re.compile(r"\{\{.*?\}\}|\{[#:.][^}]*\}|\]\([^)]*\)|<[^>\s]+>|\b\d{4}-\d{2}-\d{2}\b")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")


@dataclass(frozen=True)
class Body:
    """A document's Markdown as it is rendered, and its key in the render cache."""

    doc: Document
    key: str
    text: str | None  # with citations filled in; None: the document's own, read when rendered

    def markdown(self) -> str:
        """What is rendered: the cited text, or the document's own, read now, unless it was
        saved again since it was read (its HTML would be kept under the earlier text's key)."""
        if self.text is not None:
            return self.text
        text = self.doc.body
        if body_key(text) != self.key:
            raise BuildFailed([Problem(self.doc.path, 1, "changed while the site was being built: build again")])
        return text


def cite(site: Site) -> tuple[dict[Path, Body], list[Problem]]:
    """Every document's Markdown with its citations filled in, and the citation problems.
    Versions cite their own Terms; unversioned pages the Terms in force at the build clock."""
    bodies: dict[Path, Body] = {}
    problems: list[Problem] = []
    cited = [(doc, version.terms) for policy in site.policies.values() for version in policy.versions
             for doc in version.docs.values()]
    cited += [(doc, site.terms_for_pages()) for docs in site.pages.values() for doc in docs.values()]
    for doc, terms in cited:
        if not doc.cites and not terms:  # nothing to fill in or check: not read now
            bodies[doc.path] = Body(doc, body_key_of(doc.body_sha256), None)
            continue
        body = doc.body
        text, found = substitute(doc, terms, body)
        problems += found
        if terms:
            problems += literal_number_problems(doc, terms, body)
        bodies[doc.path] = Body(doc, body_key(text), text)
    return bodies, problems


@functools.cache
def formatted_values(terms: Terms, lang: str) -> dict[str, str]:
    """Every citable value of ``terms`` as the text of language ``lang``."""
    return {name: _format(name, value, terms, lang) for name, value in terms.citable().items()}


def _format(name: str, value: object, terms: Terms, lang: str) -> str:
    from babel.dates import get_day_names  # here: only a text that cites needs Babel
    from babel.lists import format_list
    from babel.numbers import format_currency, format_decimal

    if name in MONEY:
        return format_currency(Decimal(value).scaleb(-2), terms.currency, locale=lang)
    if isinstance(value, datetime):
        return format_date(value, "long", lang)
    if name == "business_days":  # "Monday to Friday", or the days named one by one
        names = get_day_names("wide", locale=lang)
        if len(value) > 2 and list(value) == list(range(value[0], value[-1] + 1)):
            return translations(lang).gettext("%(first)s to %(last)s") % {
                "first": names[value[0]], "last": names[value[-1]]}
        value = tuple(names[day] for day in value)
    if isinstance(value, tuple):
        return format_list(list(value), locale=lang)
    if isinstance(value, int):
        return format_decimal(value, locale=lang)
    return str(value)


def substitute(doc: Document, terms: Terms | None, body: str) -> tuple[str, list[Problem]]:
    """``body`` with every citation replaced, and a problem for each one that is unknown."""
    if "{{" not in body:
        return body, []
    values = formatted_values(terms, doc.lang) if terms else {}
    problems: list[Problem] = []

    def replace(match: re.Match) -> str:
        cited = CITATION.match(match.group(1))
        if cited and cited.group(1) in values:
            return values[cited.group(1)]
        known = ", ".join(sorted(values)) or "none: this policy has no Terms"
        problems.append(Problem(doc.path, doc.body_line + body.count("\n", 0, match.start()),
                                f"unknown placeholder {match.group(0)!r} (known: terms.<name> for {known})"))
        return match.group(0)

    return PLACEHOLDER.sub(replace, body), problems


def numeric_citations(terms: Terms) -> dict[int, list[str]]:
    """Each number a citation stands for, with the names that stand for it."""
    found: dict[int, list[str]] = {}
    for name, value in terms.citable().items():
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        money_in_whole_units = name in MONEY and value % 100 == 0  # "$5" as well as 500 cents
        for number in {value, value // 100} if money_in_whole_units else {value}:
            found.setdefault(number, []).append(name)
    return found


def literal_number_problems(doc: Document, terms: Terms, body: str) -> list[Problem]:
    """A literal number of ``body`` equal to a Terms value should have been a citation."""
    cited = numeric_citations(terms)
    problems = []
    for index, line in enumerate(body.split("\n")):
        prose = _NOT_PROSE.sub(" ", line)
        for match in _NUMBER.finditer(prose):
            digits = match.group(0)
            if not digits.isdigit() or int(digits) not in cited:
                continue
            names = " or ".join(f"{{{{ terms.{n} }}}}" for n in cited[int(digits)])
            problems.append(Problem(doc.path, doc.body_line + index,
                                    f"literal {digits} equals a Terms value: cite {names} instead"))
    return problems
