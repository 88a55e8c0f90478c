"""Checks that fail the build, each naming the file, the line and what to do.

``CHECKS`` lists the checks of the content, each a function of the ``Content`` that
returns its problems (reading a file, the site model and citing report theirs too);
``link_problems`` checks the rendered pages.
"""

from __future__ import annotations

import functools
import html
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from portal.policy import CLAUSE_ANCHORS, POLICY_SLUG
from sitegen.model import Site
from sitegen.problems import Problem
from sitegen.read import SOURCE_LANGUAGE, Document


@dataclass(frozen=True)
class Content:
    """What the content checks read."""

    documents: list[Document]
    site: Site
    templates: Path  # the templates folder
    lock: Path  # published.lock
    preview: bool  # drafts seen as published need not be locked yet


_TEMPLATE_ID = re.compile(r'\bid="([A-Za-z][\w-]*)"')


def reserved_id_problems(content: Content) -> list[Problem]:
    """No heading takes an id the templates give their own elements (the table of contents,
    say): the page would have it twice, and its links would go to either."""
    reserved = {found for path in content.templates.glob("*.html")
                for found in _TEMPLATE_ID.findall(path.read_text(encoding="utf-8"))}
    return [Problem(doc.path, line, f"heading id {taken!r} is used by the page around the text: choose another")
            for doc in content.documents for taken, line in sorted(doc.heading_ids.items()) if taken in reserved]


def heading_problems(content: Content) -> list[Problem]:
    """Translations have the same heading ids as the English text; every version of the
    Terms-backed policy has every clause the portal links to. (A heading without an id is
    found when the file is read.)"""
    problems: list[Problem] = []
    for policy in content.site.policies.values():
        for version in policy.versions:
            source = version.doc(SOURCE_LANGUAGE)
            source_ids = source.heading_ids
            for doc in version.docs.values():
                ids = doc.heading_ids
                for missing in sorted(source_ids.keys() - ids.keys()):
                    problems.append(Problem(doc.path, 1, f"heading id {missing!r} of the English text is missing here"))
                for extra in sorted(ids.keys() - source_ids.keys()):
                    problems.append(Problem(doc.path, ids[extra], f"heading id {extra!r} is not in the English text"))
            if policy.slug == POLICY_SLUG:
                for anchor in sorted(set(CLAUSE_ANCHORS.values()) - source_ids.keys()):
                    problems.append(Problem(source.path, 1, f"the portal links refusals to #{anchor}: this version needs a heading with that id"))
    return problems


def translation_problems(content: Content) -> list[Problem]:
    """A translation names the sha256 of the English file it was made from; a different
    English file means the translation is older than its source."""
    sources = {(d.kind, d.slug, d.version): d for d in content.documents if d.lang == SOURCE_LANGUAGE}
    problems = []
    for doc in content.documents:
        if doc.lang == SOURCE_LANGUAGE or "translated_from" not in doc.meta:
            continue
        source = sources.get((doc.kind, doc.slug, doc.version))
        if source and doc.meta["translated_from"] != source.sha256:
            problems.append(Problem(doc.path, doc.line_of("translated_from"),
                                    f"translation is older than its English source {source.rel}: update it, then set translated_from: {source.sha256}"))
    return problems


# --- the published lock -------------------------------------------------------------


def read_lock(path: Path) -> dict[str, str]:
    """rel path -> sha256, from lines '<sha256>  <rel path>'."""
    if not path.exists():
        return {}
    locked = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, rel = line.split(None, 1)
            locked[rel.strip()] = digest
    return locked


def write_lock(path: Path, locked: dict[str, str]) -> None:
    lines = ["# sha256 of every published policy version file: published text never changes.",
             "# A change is a new version (python build.py new-version). Add new files: python build.py lock"]
    lines += [f"{digest}  {rel}" for rel, digest in sorted(locked.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def published_documents(site: Site) -> list[Document]:
    """The version files published by the build clock: their text may never change.
    A version not yet published is a draft, free to edit and to preview."""
    return [doc for policy in site.policies.values() for version in policy.visible(site.now)
            for doc in version.docs.values()]


def published_problems(content: Content) -> list[Problem]:
    """Published text never changes (with --preview, a draft seen as published need not be
    locked yet)."""
    return lock_problems(content.site, content.documents, content.lock, unlocked_ok=content.preview)


def lock_problems(site: Site, documents: list[Document], lock_path: Path, unlocked_ok: bool = False) -> list[Problem]:
    locked = read_lock(lock_path)
    problems = []
    for doc in published_documents(site):
        digest = locked.get(doc.rel)
        if digest is None and not unlocked_ok:
            problems.append(Problem(doc.path, 1, f"published but not in {lock_path.name}: run `python build.py lock`"))
        elif digest not in (None, doc.sha256):
            problems.append(Problem(doc.path, 1, f"published text changed (sha256 differs from {lock_path.name}): "
                                                 "published versions never change, add a new version instead"))
    for rel in sorted(locked.keys() - {doc.rel for doc in documents}):
        problems.append(Problem(lock_path, 1, f"{rel} is published but its file is gone: published versions are never removed"))
    return problems


CHECKS: list[Callable[[Content], list[Problem]]] = [
    reserved_id_problems, heading_problems, translation_problems, published_problems]


def content_problems(content: Content) -> list[Problem]:
    return [problem for each in CHECKS for problem in each(content)]


# --- links ---------------------------------------------------------------------------


def link_problems(pages: dict[str, tuple[str, str]], files: set[str],
                  sources: dict[str, tuple[Path, ...]], templates_dir: Path, only: set[str] | None = None
                  ) -> list[Problem]:
    """Every internal link of every page (or of the pages ``only`` names) leads to a file
    of the site, and to an id on it.

    ``pages`` maps HTML output paths to (ids, links), each newline-separated (see
    ``render.page_ids_and_links``); ``files`` is every output path; ``sources`` maps output
    paths to the Markdown files shown on them, to report a broken link at its line."""
    problems = []

    @functools.cache
    def ids(target: str) -> set[str]:
        return set(pages.get(target, ("",))[0].split("\n"))

    for path, (_, links) in pages.items() if only is None else ((p, pages[p]) for p in only):
        folder = posixpath.dirname(path)
        for href in links.split("\n") if links else ():
            if href.startswith("#"):
                target, fragment = path, href[1:]
            else:
                target, fragment = _resolve("" if href.startswith("/") else folder, href)
                if target is None:
                    continue
                target = target or path
            # Where the link breaks: a text is shown at several addresses (its version page,
            # its changes page), where one relative link leads to different places.
            on = "/" + path.removesuffix("index.html")
            if target not in files:
                folder_page = f"{target}/index.html" in files
                hint = f" (a page's address ends with '/': {href.split('#')[0]}/)" if folder_page else ""
                problems.append(_located(path, href, sources, templates_dir, f"broken link {href!r} on {on}: no page {target}{hint}"))
            elif fragment and fragment not in ids(target):
                problems.append(_located(path, href, sources, templates_dir,
                                         f"broken anchor {href!r} on {on}: {target} has no id {fragment!r}"))
    return problems


# The portal's pages that the site links to: the portal answers them on the site's origin.
PORTAL_PAGES = frozenset({"/login", "/register"})


@functools.lru_cache(maxsize=65536)
def _resolve(folder: str, href: str) -> tuple[str | None, str]:
    """The output path and fragment a link on a page in ``folder`` leads to ("": that page,
    None: not a page of the site)."""
    parts = urlsplit(html.unescape(href))
    if parts.scheme or parts.netloc or parts.path in PORTAL_PAGES:
        return None, ""
    if not parts.path:
        return "", parts.fragment
    path = posixpath.normpath(posixpath.join("/" + folder, parts.path))  # an absolute path replaces the folder
    if parts.path.endswith("/") or path == "/":
        path = path.rstrip("/") + "/index.html"
    return path.lstrip("/"), parts.fragment


def _located(page, href, sources, templates_dir, message) -> Problem:
    for source in sources.get(page, ()):
        for number, line in enumerate(source.read_text(encoding="utf-8").split("\n"), start=1):
            if f"]({href})" in line:
                return Problem(source, number, message)
    return Problem(templates_dir, 1, f"{message} (on {page}, from a template)")
