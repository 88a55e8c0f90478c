"""The embedded SMS provider: stateless, deterministic, the default for `make run` and tests.

The portal runs as several processes that share only the database, so the simulator keeps
nothing in memory. Everything it needs is in the activation id it hands out::

    sim.<COUNTRY>.<service>.<rented at, epoch ms>.<behaviour>.<nonce>
    sim.DE.wa.1767225600000.d20000.9f3a61c2      delivers 20 s after the rental
    sim.US.tg.1767225600000.n.0b7e44d1           never delivers

The phone number and the SMS code are derived from a hash of the id; the state is computed
from the id and the clock. Cancelling before the delivery time answers ``cancelled``,
after it ``received`` with the message, as a real upstream does when the code arrived
meanwhile. Nothing is remembered: ``status`` after a cancel still follows the clock, so
the portal's database, not the simulator, is the record of what was cancelled or finished.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from .base import Activation, Message, NoNumbers, ProviderRejected, Status
from .countries import COUNTRIES, Country
from .simulator_config import SERVICE_PATTERN, Behaviour, Deliver, Never, SimulatorConfig
from .texts import template

_ID = re.compile(
    r"sim\.(?P<country>[A-Z]{2})\.(?P<service>[a-z0-9]{1,16})\.(?P<rented_ms>[0-9]{1,15})"
    r"\.(?P<behaviour>n|d[0-9]{1,10})\.(?P<nonce>[0-9a-f]{8})"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class SimulatedRental:
    """What an activation id says; ``format``/``parse`` round-trip exactly."""

    country: Country
    service: str
    rented_at: datetime
    behaviour: Behaviour
    nonce: str

    @property
    def delivers_at(self) -> datetime | None:
        if isinstance(self.behaviour, Never):
            return None
        return self.rented_at + self.behaviour.after

    def format(self) -> str:
        behaviour = "n" if isinstance(self.behaviour, Never) else f"d{self.behaviour.after // _MS}"
        rented_ms = (self.rented_at - _EPOCH) // _MS
        return f"sim.{self.country.iso}.{self.service}.{rented_ms}.{behaviour}.{self.nonce}"

    @classmethod
    def parse(cls, activation_id: str) -> SimulatedRental:
        match = _ID.fullmatch(activation_id)
        if not match or match["country"] not in COUNTRIES:
            raise ProviderRejected(f"not a simulator activation id: {activation_id!r}",
                                   reason="provider.no_activation")
        token = match["behaviour"]
        try:
            behaviour = Never() if token == "n" else Deliver(int(token[1:]) * _MS)
            rented_at = _EPOCH + int(match["rented_ms"]) * _MS
        except (ValueError, OverflowError):
            raise ProviderRejected(f"out-of-range simulator activation id: {activation_id!r}",
                                   reason="provider.no_activation") from None
        country = COUNTRIES[match["country"]]
        return cls(country, match["service"], rented_at, behaviour, match["nonce"])


def _digits(label: str, activation_id: str, count: int) -> str:
    seed = int.from_bytes(hashlib.sha256(f"{label}:{activation_id}".encode()).digest(), "big")
    return str(seed % 10**count).zfill(count)


def phone_for(rental: SimulatedRental, activation_id: str) -> str:
    """A realistic E.164 mobile number of the rental's country, fixed by the id."""
    country = rental.country
    seed = int(_digits("phone", activation_id, 18))
    prefix = country.mobile_prefixes[seed % len(country.mobile_prefixes)]
    # A leading 2-9 keeps numbers plausible where 0 or 1 cannot start a subscriber number.
    first = str(2 + (seed // 100) % 8)
    rest = _digits("subscriber", activation_id, country.subscriber_digits - 1)
    return f"+{country.calling_code}{prefix}{first}{rest}"


def message_for(rental: SimulatedRental, activation_id: str) -> Message:
    """The SMS the service sends, with a code fixed by the id."""
    shape = template(rental.service)
    code = _digits("code", activation_id, shape.digits)
    return Message(text=shape.render(code), code=code, received_at=rental.delivers_at)


def _aware(now: datetime) -> datetime:
    if now.utcoffset() is None:
        raise ValueError(f"the simulator clock must be timezone-aware: {now}")
    return now


class Simulator:
    """``SmsProvider`` computed from activation ids, a config and a clock."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        nonce: Callable[[], str] = lambda: secrets.token_hex(4),
    ) -> None:
        self.config = config or SimulatorConfig()
        self.now = now
        self.nonce = nonce

    def rent(self, *, country: str, service: str) -> Activation:
        if country not in COUNTRIES:
            raise ProviderRejected(f"unknown country {country!r}", reason="provider.bad_country")
        if not SERVICE_PATTERN.fullmatch(service):
            raise ProviderRejected(f"bad service code {service!r}", reason="provider.bad_service")
        if not self.config.has_numbers(country, service):
            raise NoNumbers(f"simulated: no numbers for {country}/{service}")
        rented_at = _aware(self.now())
        rental = SimulatedRental(
            COUNTRIES[country], service, _floor_ms(rented_at), self.config.behaviour(service),
            self.nonce(),
        )
        activation_id = rental.format()
        return Activation(activation_id, phone_for(rental, activation_id))

    def status(self, activation_id: str) -> Status:
        rental = SimulatedRental.parse(activation_id)
        if self._delivered(rental):
            return Status("received", (message_for(rental, activation_id),))
        return Status("waiting")

    def statuses(self, activation_ids) -> dict[str, Status]:
        """Computed here, like ``status``: one call for any number of activations."""
        return {activation_id: self.status(activation_id) for activation_id in activation_ids}

    def cancel(self, activation_id: str) -> Status:
        current = self.status(activation_id)
        return current if current.state == "received" else Status("cancelled")

    def finish(self, activation_id: str) -> None:
        self._require_sms(activation_id)

    def retry(self, activation_id: str) -> None:
        """Accepted once the SMS came; as nothing is remembered, no other SMS follows (as
        when the target service does not send its code again)."""
        self._require_sms(activation_id)

    def _require_sms(self, activation_id: str) -> None:
        if not self._delivered(SimulatedRental.parse(activation_id)):
            raise ProviderRejected("no SMS was delivered yet", reason="provider.bad_status")

    def _delivered(self, rental: SimulatedRental) -> bool:
        delivers_at = rental.delivers_at
        return delivers_at is not None and _aware(self.now()) >= delivers_at


def _floor_ms(moment: datetime) -> datetime:
    return _EPOCH + (moment - _EPOCH) // _MS * _MS
