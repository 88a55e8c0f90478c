"""Dates and language names as each language writes them, remembered between builds.

Babel formats them from the CLDR data of each locale. Importing Babel's date module and
loading a locale's data costs a small rebuild more than rendering its pages, and a site
shows few distinct dates, so what was formatted is kept in the build's cache folder, keyed
by Babel's version: a rebuild that shows no new date does not load Babel at all.
"""

from __future__ import annotations

import marshal
import os
from datetime import date, datetime
from pathlib import Path

from sitegen.packages import version_in_source


class Formats:
    def __init__(self, folder: Path | None):
        self.path = folder / "formats.record" if folder else None
        self.version = _babel_version()
        self.known: dict[str, str] = self._stored()
        self.added = False

    def date(self, value: date | datetime, fmt: str, lang: str) -> str:
        day = value.date() if isinstance(value, datetime) else value
        return self._remembered(f"date|{lang}|{fmt}|{day.isoformat()}",
                                lambda: _babel_dates().format_date(day, fmt, locale=lang))

    def datetime(self, value: datetime, fmt: str, lang: str) -> str:
        """An aware datetime, in its own timezone."""
        return self._remembered(f"datetime|{lang}|{fmt}|{value.isoformat()}",
                                lambda: _babel_dates().format_datetime(value, fmt, tzinfo=value.tzinfo, locale=lang))

    def language_name(self, code: str) -> str:
        """A language's name in that language ("Deutsch"), for language switchers."""
        def name() -> str:
            from babel.core import Locale

            return Locale.parse(code).get_display_name(code).capitalize()

        return self._remembered(f"language|{code}", name)

    def _remembered(self, key: str, compute) -> str:
        if key not in self.known:
            self.known[key] = compute()
            self.added = True
        return self.known[key]

    def _stored(self) -> dict[str, str]:
        """What the cache folder holds for this Babel version (nothing, without one)."""
        try:
            stored = marshal.loads(self.path.read_bytes()) if self.path else None
        except (OSError, ValueError, EOFError, TypeError):
            return {}
        return stored[1] if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == self.version else {}

    def save(self) -> None:
        if not (self.path and self.added):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        merged = {**self._stored(), **self.known}  # a parallel build's workers each add some
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps((self.version, merged)))
        os.replace(tmp, self.path)
        self.added = False


def _babel_dates():
    import babel.dates

    return babel.dates


def _babel_version() -> str:
    return version_in_source("babel", "__init__.py", "__version__")
