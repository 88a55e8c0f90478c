"""Languages of the portal: flask-babel on the catalog shared with the site.

The locale is the signed-in user's language, else the best match of ``Accept-Language``;
the time zone is the account's (UTC before signing in). Money and dates are formatted per
locale with Babel (exposed to templates as filters); a moment always names its zone.
"""

from __future__ import annotations

import unicodedata
from contextlib import contextmanager
from datetime import timedelta
from functools import lru_cache

from babel import Locale
from flask import g, request
from babel import dates
from flask_babel import Babel, force_locale, format_date, format_percent, get_locale, get_timezone, get_translations

from portal.accounts import time_zones
from portal.money.amounts import format_coin, format_money
from translations.catalog import TRANSLATIONS, compile_catalogs, languages

LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
COIN_NAMES = {"BTC": "Bitcoin (BTC)", "ETH": "Ether (ETH)", "USDT": "Tether (USDT)"}


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


def select_time_zone() -> str:
    user = g.get("user")
    return time_zones.of_account(user.time_zone) if user is not None else time_zones.DEFAULT


def _current() -> tuple:
    """This request's locale, its code and its catalog, found once.

    flask-babel looks the locale and catalog up through the app context on every string
    (``get_locale``), and names the locale with ``str(Locale)``: the dashboard asked 130
    times per page, a fifth of its time (``bench/portal_bench.py``). Kept in ``g`` until
    ``in_language`` changes the language.
    """
    memo = g.get("_i18n")
    if memo is None:
        locale = get_locale()
        memo = g._i18n = (locale, str(locale or "en"), get_translations())
    return memo


@contextmanager
def in_language(code: str):
    """Strings, dates and templates in the language ``code`` inside the block (a mail in the
    customer's language written during someone else's request): flask-babel's
    ``force_locale``, and this module's memo of the language forgotten on the way in and out.
    """
    outer = g.pop("_i18n", None)
    try:
        with force_locale(code):
            yield
    finally:
        g.pop("_i18n", None)
        if outer is not None:
            g._i18n = outer


def language() -> str:
    """The current language code (``en``, ``de``)."""
    return _current()[1]


def _catalog():
    return _current()[2]


def gettext(string: str, **variables) -> str:
    """flask-babel's ``gettext``, on this request's catalog (``_current``)."""
    text = _catalog().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """flask-babel's ``ngettext`` (``%(num)s`` is the number), on this request's catalog."""
    return _catalog().ungettext(singular, plural, num) % {"num": num, **variables}


def money(cents: int, currency: str = "USD") -> str:
    return format_money(int(cents), currency, language())


def coin(minor, currency: str) -> str:
    return format_coin(int(minor), currency, language())


def when(value) -> str:
    """A moment in the user's language and time zone, with the zone: ``Nov 25, 2026,
    1:00:00 PM GMT+01:00``, ``25.11.2026, 13:00:00 MEZ``."""
    return moment(value, language(), get_timezone()) if value else ""


@lru_cache(maxsize=8192)
def moment(value, locale: str, zone) -> str:
    # A pure function of its arguments, and Babel's formatting is costly: remember it (the
    # dashboard shows two moments per deposit).
    shown = dates.format_datetime(value, "medium", tzinfo=zone, locale=locale)
    abbreviation = dates.format_datetime(value, "z", tzinfo=zone, locale=locale)
    named = abbreviation if abbreviation.isalpha() else dates.format_datetime(value, "OOOO", tzinfo=zone, locale=locale)
    return f"{shown} {named}"


def clock(seconds: int) -> str:
    """A countdown: ``m:ss``, or ``h:mm:ss`` from an hour on."""
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


_UNITS = ((86_400, lambda n: ngettext("%(num)s day", "%(num)s days", n)),
          (3_600, lambda n: ngettext("%(num)s hour", "%(num)s hours", n)),
          (60, lambda n: ngettext("%(num)s minute", "%(num)s minutes", n)),
          (1, lambda n: ngettext("%(num)s second", "%(num)s seconds", n)))


def remaining(left) -> str:
    """How long is left, exact at every scale: the largest unit and the next one, never
    rounded up (``1 day 23 hours``, ``5 hours``, ``4 minutes 30 seconds``, ``30 seconds``)."""
    seconds = max(0, int(left.total_seconds() if isinstance(left, timedelta) else left))
    parts = []
    for size, words in _UNITS:
        count, seconds = divmod(seconds, size)
        if count or parts:
            parts.append((count, words))
        if len(parts) == 2:
            break
    shown = [words(count) for count, words in parts if count] or [_UNITS[-1][1](0)]
    return " ".join(shown)


def window(seconds: int) -> str:
    """A wait window in words: whole minutes, else seconds."""
    if seconds % 60:
        return gettext("%(seconds)s s", seconds=seconds)
    return gettext("%(minutes)s min", minutes=seconds // 60)


def percent(share: float) -> str:
    """A share as a whole percentage in the user's language (``92%``, ``92 %``)."""
    return format_percent(share, "#,##0%")


def day(value) -> str:
    return format_date(value, "long") if value else ""


def country_name(code: str) -> str:
    return Locale.parse(language()).territories.get(code, code)


def by_country_name(codes) -> list[str]:
    """Country codes sorted by their name in the current language (accents ignored)."""
    return sorted(codes, key=lambda code: unicodedata.normalize("NFD", country_name(code)).casefold())


def method_name(method: str) -> str:
    return gettext("Card") if method == "card" else COIN_NAMES.get(method, method)


def init_app(app) -> None:
    compile_catalogs()
    Babel(app, locale_selector=select_locale, timezone_selector=select_time_zone,
          default_translation_directories=str(TRANSLATIONS))
    # The templates' _() and ngettext() read this request's catalog once (see _current).
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: _catalog().ugettext(string),
        ngettext=lambda singular, plural, n: _catalog().ungettext(singular, plural, n),
        pgettext=lambda context, string: _catalog().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: _catalog().unpgettext(context, singular, plural, n),
        newstyle=True)
    app.jinja_env.filters.update(money=money, coin=coin, when=when, day=day, clock=clock, window=window,
                                remaining=remaining, percent=percent)
    app.jinja_env.globals.update(
        language=language, LANGUAGE_NAMES=LANGUAGE_NAMES, country_name=country_name,
        by_country_name=by_country_name,
        method_name=method_name,
    )
