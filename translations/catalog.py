"""The one translation catalog shared by the policy site and the portal.

English is the source language; ``translations/<lang>/LC_MESSAGES/messages.po`` holds each
other language. ``compile_catalogs`` turns stale ``.po`` files into the ``.mo`` files that
Babel, Jinja2 and flask-babel load, so no build step is needed before running.
``python -m translations.catalog extract`` (``make i18n``) refreshes the catalog from the sources.
"""

from __future__ import annotations

import gettext
import sys
from pathlib import Path

TRANSLATIONS = Path(__file__).resolve().parent
ROOT = TRANSLATIONS.parent
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"


def languages() -> tuple[str, ...]:
    """The source language followed by every language that has a catalog."""
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *found)


def compile_catalogs(folder: Path = TRANSLATIONS) -> None:
    """Write a ``.mo`` beside every ``.po`` that is newer than it (or has none)."""
    for po_path in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        from babel.messages.mofile import write_mo  # only when a catalog changed
        from babel.messages.pofile import read_po

        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        tmp.replace(mo_path)


def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of one language (the identity for English). The standard
    library reads the .mo file: Babel's reader would import its date and number modules."""
    compile_catalogs()
    found = gettext.find(DOMAIN, str(TRANSLATIONS), [language])
    if found is None:
        return gettext.NullTranslations()
    with open(found, "rb") as catalog:  # read each time (gettext.translation would cache it)
        return gettext.GNUTranslations(catalog)


def extract() -> None:
    """Refresh ``messages.pot`` from the sources and merge it into every catalog."""
    import subprocess  # here: every build imports this module, only `make i18n` runs this

    pot = TRANSLATIONS / f"{DOMAIN}.pot"
    pybabel = [sys.executable, "-m", "babel.messages.frontend"]
    subprocess.run(
        [*pybabel, "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "--no-location",
         "--sort-output", "-o", str(pot), str(ROOT)],
        check=True,
    )
    subprocess.run([*pybabel, "update", "-i", str(pot), "-d", str(TRANSLATIONS), "--no-fuzzy-matching"], check=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["extract"]:
        sys.exit("usage: python -m translations.catalog extract")
    extract()
