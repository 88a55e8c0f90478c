"""The site's Jinja2 templates: one environment per language, and what each template uses.

``key(name, lang)`` hashes a template together with every template it extends or
includes and the language's translation catalog, so a rebuild renders again exactly the
outputs that a template or translation change touches.
"""

from __future__ import annotations

import functools
import hashlib
import os
from datetime import date, datetime
from pathlib import Path

import jinja2
from babel.core import Locale
from babel.dates import format_date, format_datetime
from jinja2 import meta

from translations.catalog import SOURCE_LANGUAGE, TRANSLATIONS, translations
from sitegen.problems import BuildFailed, Problem


class Templates:
    def __init__(self, folder: Path, compiled: Path | None = None):
        self.folder = folder
        self.compiled = compiled  # compiled templates kept between builds (Jinja2's bytecode cache)
        self._envs: dict[str, jinja2.Environment] = {}
        self._keys: dict[tuple[str, str], str] = {}
        self._references: dict[str, list[str]] = {}

    def env(self, lang: str) -> jinja2.Environment:
        if lang not in self._envs:
            bytecode = None
            if self.compiled:
                self.compiled.mkdir(parents=True, exist_ok=True)
                bytecode = jinja2.FileSystemBytecodeCache(str(self.compiled))
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(self.folder),
                autoescape=jinja2.select_autoescape(("html", "xml")),
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
                undefined=jinja2.StrictUndefined,
                bytecode_cache=bytecode,
                auto_reload=False,  # a build's templates do not change while it runs
            )
            env.install_gettext_translations(translations(lang), newstyle=True)
            env.filters["date"] = lambda value, fmt="long": _date(value, fmt, lang)
            env.filters["datetime_iso"] = lambda value: value.isoformat().replace("+00:00", "Z")
            env.filters["datetime"] = lambda value: _datetime(value, "long", lang)
            env.globals["language_name"] = language_name
            self._envs[lang] = env
        return self._envs[lang]

    def render(self, name: str, lang: str, context: dict) -> str:
        try:
            return self.env(lang).get_template(name).render(context)
        except jinja2.TemplateError as error:
            raise BuildFailed([_problem(error, self.folder)]) from None

    def key(self, name: str, lang: str) -> str:
        if (name, lang) not in self._keys:
            digest = hashlib.sha256(_catalog_hash(lang).encode())
            for used in sorted(self._closure(name)):
                digest.update(used.encode() + b"\0" + (self.folder / used).read_bytes())
            self._keys[name, lang] = digest.hexdigest()
        return self._keys[name, lang]

    def _closure(self, name: str) -> set[str]:
        """The template and every template it extends, includes or imports, transitively."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += self._referenced(current)
        return seen

    def _referenced(self, name: str) -> list[str]:
        """The templates ``name`` names itself."""
        if name not in self._references:
            source = (self.folder / name).read_text(encoding="utf-8")
            try:
                parsed = self.env(SOURCE_LANGUAGE).parse(source, name)
            except jinja2.TemplateSyntaxError as error:
                raise BuildFailed([_problem(error, self.folder)]) from None
            self._references[name] = [t for t in meta.find_referenced_templates(parsed) if t]
        return self._references[name]


@functools.cache
def _date(value: date | datetime, fmt: str, lang: str) -> str:
    return format_date(value.date() if isinstance(value, datetime) else value, fmt, locale=lang)


@functools.cache
def _datetime(value: datetime, fmt: str, lang: str) -> str:
    """An aware datetime, in its own timezone."""
    return format_datetime(value, fmt, tzinfo=value.tzinfo, locale=lang)


@functools.cache
def language_name(code: str) -> str:
    """A language's name in that language ("Deutsch"), for language switchers."""
    return Locale.parse(code).get_display_name(code).capitalize()


def _problem(error: jinja2.TemplateError, folder: Path) -> Problem:
    """Where in the templates ``error`` happened: a syntax error says so; for an error while
    rendering, the last frame of a template file in the traceback (Jinja2 maps its frames to
    template lines)."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        return Problem(Path(error.filename or folder / str(error.name)), error.lineno, f"template error: {error.message}")
    where, line = folder, 1
    frame = error.__traceback__
    while frame is not None:
        filename = frame.tb_frame.f_code.co_filename
        if os.path.dirname(os.path.normpath(filename)) == os.path.normpath(folder):
            where, line = Path(filename), frame.tb_lineno
        frame = frame.tb_next
    return Problem(where, line, f"template error: {error}")


def _catalog_hash(lang: str) -> str:
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    return hashlib.sha256(po.read_bytes()).hexdigest() if po.exists() else ""
