"""The time zone an account's times are shown in: an IANA name (``Europe/Berlin``), taken
from the browser at registration and changed on the account page. Pure: no database."""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

DEFAULT = "UTC"
_AREA_CITY = re.compile(r"(Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific)/[A-Za-z0-9_+\-/]+")


@lru_cache(maxsize=1)
def choices() -> tuple[str, ...]:
    """The zones offered in the account's list: UTC and every Area/City zone, sorted."""
    return (DEFAULT, *sorted(z for z in zoneinfo.available_timezones() if _AREA_CITY.fullmatch(z)))


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_zone(name: str) -> bool:
    return name in _known()


def of_account(name: str) -> str:
    """The zone an account names, or UTC when it names one this machine does not know."""
    return name if is_zone(name) else DEFAULT


def from_browser(name: str | None) -> str:
    """The zone a browser reported (``Intl``'s resolvedOptions().timeZone), or UTC when it
    reported none or one we do not know."""
    name = (name or "").strip()
    return name if is_zone(name) else DEFAULT
