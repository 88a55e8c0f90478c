"""Languages of the portal: flask-babel on the catalog shared with the site.

The locale is the signed-in user's language, else the best match of ``Accept-Language``.
Money and dates are formatted per locale with Babel (exposed to templates as filters).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from babel import Locale
from flask import g, request
from babel import dates
from flask_babel import Babel, format_date, get_locale, get_timezone
from flask_babel import gettext, lazy_gettext as _l

from portal.money.amounts import format_coin, format_money
from translations.catalog import TRANSLATIONS, compile_catalogs, languages

LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
METHOD_NAMES = {"card": _l("Card"), "BTC": "Bitcoin (BTC)", "ETH": "Ether (ETH)", "USDT": "Tether (USDT)"}


_SUPPORTED: list[tuple[str, ...]] = []


def supported() -> tuple[str, ...]:
    """The languages with a catalog (read once: the catalog folder is part of the release)."""
    if not _SUPPORTED:
        _SUPPORTED.append(languages())
    return _SUPPORTED[0]


def select_locale() -> str:
    user = g.get("user")
    if user is not None and user.language in supported():
        return user.language
    return request.accept_languages.best_match(supported()) or "en"


def language() -> str:
    """The current language code (``en``, ``de``)."""
    return str(get_locale() or "en")


def money(cents: int, currency: str = "USD") -> str:
    return format_money(int(cents), currency, language())


def coin(minor, currency: str) -> str:
    return format_coin(int(minor), currency, language())


def when(value) -> str:
    """A moment in the user's language and time zone, as flask-babel's ``format_datetime``."""
    return _moment(value, language(), get_timezone()) if value else ""


@lru_cache(maxsize=8192)
def _moment(value, locale: str, zone) -> str:
    # A pure function of its arguments, and Babel's formatting is costly: remember it (the
    # dashboard shows two moments per deposit).
    return dates.format_datetime(value, "medium", tzinfo=zone, locale=locale)


def clock(seconds: int) -> str:
    """A countdown: ``m:ss``, or ``h:mm:ss`` from an hour on."""
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def window(seconds: int) -> str:
    """A wait window in words: whole minutes, else seconds."""
    if seconds % 60:
        return gettext("%(seconds)s s", seconds=seconds)
    return gettext("%(minutes)s min", minutes=seconds // 60)


def day(value) -> str:
    return format_date(value, "long") if value else ""


def country_name(code: str) -> str:
    return Locale.parse(language()).territories.get(code, code)


def by_country_name(codes) -> list[str]:
    """Country codes sorted by their name in the current language (accents ignored)."""
    return sorted(codes, key=lambda code: unicodedata.normalize("NFD", country_name(code)).casefold())


def method_name(method: str) -> str:
    return str(METHOD_NAMES.get(method, method))


def init_app(app) -> None:
    compile_catalogs()
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.filters.update(money=money, coin=coin, when=when, day=day, clock=clock, window=window)
    app.jinja_env.globals.update(
        language=language, LANGUAGE_NAMES=LANGUAGE_NAMES, country_name=country_name,
        by_country_name=by_country_name,
        method_name=method_name,
    )
