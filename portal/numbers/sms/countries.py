"""The countries the providers know: calling codes, mobile number shapes, upstream ids.

One row per country the portal offers. The simulator builds realistic mobile numbers from
``calling_code``, ``mobile_prefixes`` and ``subscriber_digits``; the SMS-Activate client
sends ``sms_activate_id`` (the handler protocol's numeric country id) instead of the ISO
code. The ids follow the SMS-Activate country list (0 Russia, 16 United Kingdom,
187 USA, ...); upstreams speaking the same protocol reuse them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    """One country the portal sells numbers of."""

    iso: str  # ISO 3166-1 alpha-2, upper case
    name: str
    calling_code: str  # E.164 country calling code, digits only
    mobile_prefixes: tuple[str, ...]  # first digits of mobile national numbers
    subscriber_digits: int  # digits after the prefix
    sms_activate_id: int


def _c(
    iso: str, name: str, calling_code: str, prefixes: str, digits: int, sms_activate_id: int
) -> Country:
    return Country(iso, name, calling_code, tuple(prefixes.split()), digits, sms_activate_id)


COUNTRIES: dict[str, Country] = {
    c.iso: c
    for c in (
        _c("US", "United States", "1", "201 212 305 312 415 512 617 702 713 917", 7, 187),
        _c("CA", "Canada", "1", "204 236 403 416 438 514 587 604 647 778", 7, 36),
        _c("GB", "United Kingdom", "44", "7400 7500 7700 7800 7900 7911", 6, 16),
        _c("DE", "Germany", "49", "151 152 157 160 162 170 171 172 176 179", 8, 43),
        _c("FR", "France", "33", "6 7", 8, 78),
        _c("ES", "Spain", "34", "6 7", 8, 56),
        _c("IT", "Italy", "39", "320 328 333 338 347 349 366 380 389 393", 7, 86),
        _c("NL", "Netherlands", "31", "6", 8, 48),
        _c("PL", "Poland", "48", "50 51 53 57 60 66 69 72 73 78 79 88", 7, 15),
        _c("PT", "Portugal", "351", "91 92 93 96", 7, 117),
        _c("SE", "Sweden", "46", "70 72 73 76 79", 7, 46),
        _c("RO", "Romania", "40", "72 73 74 75 76 77 78", 7, 32),
        _c("UA", "Ukraine", "380", "50 63 66 67 68 73 93 95 96 97 98 99", 7, 1),
        _c("KZ", "Kazakhstan", "7", "700 701 702 705 707 747 771 775 776 777 778", 7, 2),
        _c("TR", "Turkey", "90", "501 505 530 532 533 535 536 542 543 544 545 552 555", 7, 62),
        _c("IN", "India", "91", "6 7 8 9", 9, 22),
        _c("ID", "Indonesia", "62", "812 813 821 822 852 853 857 858 878 895 896", 8, 6),
        _c("PH", "Philippines", "63", "905 906 915 917 918 919 920 927 939 947 977 995", 7, 4),
        _c("VN", "Vietnam", "84", "32 33 34 35 36 37 38 39 70 76 77 78 79 86 88 90 91 96", 7, 10),
        _c("TH", "Thailand", "66", "61 62 63 64 65 80 81 82 83 84 85 86 87 88 89 90 91 92", 7, 52),
        _c("BR", "Brazil", "55", "119 219 319 419 519 619 719 819 859", 8, 73),
        _c("MX", "Mexico", "52", "55 33 81", 8, 54),
        _c("NG", "Nigeria", "234", "703 706 803 806 810 813 814 816 903 906", 7, 19),
        _c("ZA", "South Africa", "27", "60 61 62 63 71 72 73 74 76 78 79 81 82 83 84", 7, 31),
        _c("EG", "Egypt", "20", "10 11 12 15", 8, 21),
    )
}


def country(iso: str) -> Country:
    """The row for an ISO code (any case); ``KeyError`` names the unknown code."""
    try:
        return COUNTRIES[iso.upper()]
    except KeyError:
        raise KeyError(f"unknown country {iso!r}") from None
