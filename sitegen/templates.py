"""The site's Jinja2 templates: one environment per language, and what each template uses.

``key(name, lang)`` hashes a template together with every template it extends or
includes and the language's translation catalog, so a rebuild re-renders exactly the
outputs that a template or translation change touches.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.formats import Formats
from translations.catalog import TRANSLATIONS, translations
from sitegen.problems import BuildFailed, Problem

if TYPE_CHECKING:
    import jinja2

# Jinja2 is imported when a template is first rendered (a build that renders nothing never
# needs it, and it is slow to import); Babel only to format a date not formatted before.


class Templates:
    def __init__(self, folder: Path, languages: tuple[str, ...], compiled: Path | None = None):
        self.folder = folder
        self.languages = languages
        self.compiled = compiled  # compiled templates kept between builds: loaded, not compiled again
        self.formats = Formats(compiled)
        self._envs: dict[str, "jinja2.Environment"] = {}
        _hash_of.cache_clear()  # a long-running `serve` sees edited templates
        _catalog_hash.cache_clear()

    def env(self, lang: str) -> "jinja2.Environment":
        if lang not in self._envs:
            import jinja2

            catalog = translations(lang)
            bytecode = None
            if self.compiled:  # one folder per language: each compiles its own folded source
                (self.compiled / lang).mkdir(parents=True, exist_ok=True)
                bytecode = jinja2.FileSystemBytecodeCache(str(self.compiled / lang))
            env = jinja2.Environment(
                loader=jinja2.FunctionLoader(functools.partial(_folded_source, jinja2.FileSystemLoader(self.folder),
                                                               catalog.gettext)),
                autoescape=jinja2.select_autoescape(("html", "xml")),
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
                undefined=jinja2.StrictUndefined,
                bytecode_cache=bytecode,
                auto_reload=False,  # a build's templates do not change while it runs
            )
            env.install_gettext_translations(catalog, newstyle=True)
            env.filters["date"] = lambda value, fmt="long": self.formats.date(value, fmt, lang)
            env.filters["datetime_iso"] = lambda value: value.isoformat().replace("+00:00", "Z")
            env.filters["datetime"] = lambda value: self.formats.datetime(value, "long", lang)
            env.globals["language_name"] = self.formats.language_name
            self._envs[lang] = env
        return self._envs[lang]

    def load(self) -> None:
        """Import Jinja2 and make every language's environment now (the first render
        would), while other work goes on in another process."""
        for lang in self.languages:
            self.env(lang)

    def compile_all(self) -> None:
        """Compile every template in every language now, into the bytecode cache (where
        workers forked earlier load them from)."""
        for lang in self.languages:
            for template in self.folder.glob("*.*"):
                try:
                    self.env(lang).get_template(template.name)
                except _template_error() as error:
                    raise BuildFailed([_problem(error, self.folder)]) from None

    def render(self, name: str, lang: str, context: dict) -> str:
        try:  # a plain try: this runs for every page of the site
            return self.env(lang).get_template(name).render(context)
        except _template_error() as error:  # evaluated only when something was raised
            raise BuildFailed([_problem(error, self.folder)]) from None

    def key(self, name: str, lang: str) -> str:
        return _hash_of(self.folder, name, _catalog_hash(lang))


# {{ _('literal') }}, or with arguments that are variables, attributes and filters only:
# {{ _('Since %(date)s', date=version.effective_at|date) }}.
_CALL = re.compile(r"""\{\{\s*_\(\s*(?:'([^'\\\\]*)'|"([^"\\\\]*)")\s*"""
                   r"""((?:,\s*\w+\s*=\s*[\w.]+(?:\s*\|\s*\w+)*\s*)*)\)\s*\}\}""")
_ARGUMENT = re.compile(r"(\w+)\s*=\s*([\w.]+(?:\s*\|\s*\w+)*)")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def fold_translations(source: str, gettext) -> str:
    """``source`` with each ``{{ _('literal', name=expression) }}`` replaced by its
    translation, each ``%(name)s`` of it by ``{{ expression }}``.

    Jinja2 would call gettext for it on every page, a third of the time a page takes to
    render; the result is the same text: newstyle gettext marks a translation safe (it is
    not escaped) and formats it with its arguments, each escaped as ``{{ }}`` escapes it.
    A translation that could read as template syntax, or that formatting would reject or
    read otherwise, is left to Jinja2."""

    def translated(match: re.Match) -> str:
        message = match.group(1) if match.group(1) is not None else match.group(2)
        arguments = dict(_ARGUMENT.findall(match.group(3)))
        text = gettext(message)
        try:
            text % {name: "" for name in arguments}  # noqa: B018 - raises where Jinja2's would
        except (TypeError, ValueError, KeyError):
            return match.group(0)
        if "{" in text or "}" in text or "%" in _PLACEHOLDER.sub("", text):
            return match.group(0)
        return _PLACEHOLDER.sub(lambda found: "{{ " + arguments[found.group(1)] + " }}" if found.group(1) else "%",
                                text)

    return _CALL.sub(translated, source)


def _template_error() -> type[Exception]:
    """Jinja2's base of a template's mistakes (which fail the build at their file and line,
    not with a traceback). Jinja2 is imported once a template is used."""
    import jinja2

    return jinja2.TemplateError


def _problem(error: "jinja2.TemplateError", folder: Path) -> Problem:
    """Where in the templates ``error`` happened: a syntax error says so; for an error while
    rendering, the last frame of a template file in the traceback (Jinja2 maps its frames to
    template lines)."""
    import jinja2

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


def _folded_source(files: "jinja2.FileSystemLoader", gettext, name: str):
    source, filename, uptodate = files.get_source(None, name)
    return fold_translations(source, gettext), filename, uptodate


@cache
def _hash_of(folder: Path, name: str, catalog: str) -> str:
    digest = hashlib.sha256(catalog.encode())
    for used in sorted(_closure(folder, name)):
        digest.update(used.encode() + b"\0" + (folder / used).read_bytes())
    return digest.hexdigest()


# The templates a template names literally (parsing each with Jinja costs more than the
# whole rest of planning a rebuild; templates here never compute a template's name).
_REFERENCE = re.compile(r"""\{%-?\s*(?:extends|include|import|from)\s+["']([^"']+)["']""")


def _closure(folder: Path, name: str) -> set[str]:
    """The template and every template it extends, includes or imports, transitively."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += _REFERENCE.findall((folder / current).read_text(encoding="utf-8"))
    return seen


@cache
def _catalog_hash(lang: str) -> str:
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    return hashlib.sha256(po.read_bytes()).hexdigest() if po.exists() else ""
