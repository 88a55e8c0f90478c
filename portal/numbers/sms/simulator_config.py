"""What the simulator does per service, and the compact string that configures it.

    default=deliver:20s; wa=never; tg=deliver:5s; go=deliver:25m; no-numbers=US/wa,DE/*

``deliver:<duration>`` delivers the SMS that long after the rental (a duration longer
than the service's wait window is a late delivery), ``never`` delivers nothing.
``no-numbers`` lists ``COUNTRY/service`` pairs (``*`` matches any) for which renting fails
as if the upstream had no free number. Durations are sums of ``<int><unit>`` with units
h, m, s, ms (``1m30s``). Anything else is a ``ValueError`` naming the bad entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Mapping, Union

MAX_DELAY = timedelta(days=7)
SERVICE_PATTERN = re.compile(r"[a-z0-9]{1,16}")
_COUNTRY_PATTERN = re.compile(r"[A-Z]{2}")
_DURATION_PART = re.compile(r"([0-9]+)(ms|h|m|s)")
_UNITS = {"h": timedelta(hours=1), "m": timedelta(minutes=1), "s": timedelta(seconds=1),
          "ms": timedelta(milliseconds=1)}
ANY = "*"


@dataclass(frozen=True)
class Deliver:
    """Deliver the SMS ``after`` this long from the rental."""

    after: timedelta

    def __post_init__(self) -> None:
        if not timedelta(0) <= self.after <= MAX_DELAY:
            raise ValueError(f"delivery delay must be between 0 and {MAX_DELAY}: {self.after}")
        if self.after % timedelta(milliseconds=1):
            raise ValueError(f"delivery delay must be whole milliseconds: {self.after}")

    def __str__(self) -> str:
        return f"deliver:{format_duration(self.after)}"


@dataclass(frozen=True)
class Never:
    """Never deliver anything."""

    def __str__(self) -> str:
        return "never"


Behaviour = Union[Deliver, Never]


@dataclass(frozen=True)
class SimulatorConfig:
    default: Behaviour = Deliver(timedelta(seconds=20))
    services: Mapping[str, Behaviour] = field(default_factory=dict)
    no_numbers: frozenset[tuple[str, str]] = frozenset()

    def behaviour(self, service: str) -> Behaviour:
        return self.services.get(service, self.default)

    def has_numbers(self, country: str, service: str) -> bool:
        return not any(
            c in (country, ANY) and s in (service, ANY) for c, s in self.no_numbers
        )

    def __str__(self) -> str:
        entries = [f"default={self.default}"]
        entries += [f"{service}={b}" for service, b in sorted(self.services.items())]
        if self.no_numbers:
            entries.append("no-numbers=" + ",".join(f"{c}/{s}" for c, s in sorted(self.no_numbers)))
        return ";".join(entries)

    @classmethod
    def parse(cls, text: str) -> SimulatorConfig:
        values: dict[str, str] = {}
        for entry in filter(None, (part.strip() for part in text.split(";"))):
            key, sep, value = (s.strip() for s in entry.partition("="))
            if not sep or not value:
                raise ValueError(f"simulator config entry {entry!r} is not key=value")
            if key in values:
                raise ValueError(f"simulator config names {key!r} twice")
            values[key] = value
        default = parse_behaviour(values.pop("default", str(cls.default)))
        no_numbers = parse_no_numbers(values.pop("no-numbers", ""))
        for service in values:
            if not SERVICE_PATTERN.fullmatch(service):
                raise ValueError(f"simulator config key {service!r} is not a service code")
        services = {service: parse_behaviour(value) for service, value in values.items()}
        return cls(default, services, no_numbers)


def parse_behaviour(text: str) -> Behaviour:
    if text == "never":
        return Never()
    kind, _, duration = text.partition(":")
    if kind != "deliver" or not duration:
        raise ValueError(f"behaviour {text!r} is neither 'never' nor 'deliver:<duration>'")
    return Deliver(parse_duration(duration))


def parse_duration(text: str) -> timedelta:
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"duration {text!r} is not like 20s, 1m30s or 500ms")
    return sum((int(n) * _UNITS[u] for n, u in parts), timedelta(0))


def format_duration(span: timedelta) -> str:
    rest = span // timedelta(milliseconds=1)
    parts = []
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def parse_no_numbers(text: str) -> frozenset[tuple[str, str]]:
    pairs = set()
    for item in filter(None, (part.strip() for part in text.split(","))):
        country, sep, service = item.partition("/")
        if not sep or not (country == ANY or _COUNTRY_PATTERN.fullmatch(country)) or not (
            service == ANY or SERVICE_PATTERN.fullmatch(service)
        ):
            raise ValueError(f"no-numbers item {item!r} is not COUNTRY/service (or *)")
        pairs.add((country, service))
    return frozenset(pairs)
