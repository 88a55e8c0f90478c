"""SMS pushed by an upstream (SMS-Activate style: ``activationId, service, text, code,
country, receivedAt``), as JSON or a form.

Such pushes are not signed, so nothing in one is believed: ``parse`` only checks its shape,
``allowed`` whether its source address is one the operator listed, and ``confirm`` asks the
provider for the activation's status and records what the provider says (not what the
push said), exactly as a poll would. A push for a rental already recorded changes nothing.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from portal.numbers import rentals
from portal.numbers.sms import ProviderError, SmsProvider
from portal.store.models import Rental

_ACTIVATION_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")


class InvalidPush(Exception):
    """The push cannot be read; ``reason`` is a stable code for the answer."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Push:
    activation_id: str
    code: str


@dataclass(frozen=True)
class Outcome:
    reason: str      # push.recorded, push.already_recorded, push.not_confirmed, ...
    status: int      # the HTTP status to answer
    rental: Rental | None = None


def parse(fields: Mapping[str, object]) -> Push:
    """The push's activation id and code (names trimmed; other fields ignored)."""
    trimmed = {str(name).strip(): value for name, value in fields.items()}
    activation_id = str(trimmed.get("activationId") or "").strip()
    if not _ACTIVATION_ID.fullmatch(activation_id):
        raise InvalidPush("push.bad_activation_id")
    return Push(activation_id, str(trimmed.get("code") or "").strip()[:32])


def allowed(address: str, networks: str) -> bool:
    """Whether ``address`` is in one of the comma-separated ``networks`` (any when empty)."""
    listed = [part.strip() for part in networks.split(",") if part.strip()]
    if not listed:
        return True
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(network, strict=False) for network in listed)


def confirm(push: Push, provider_name: str, provider: SmsProvider, now: datetime) -> Outcome:
    """Ask the provider about the pushed activation and record what it says."""
    rental = Rental.get_or_none(Rental.provider == provider_name,
                                Rental.activation_id == push.activation_id)
    if rental is None:
        return Outcome("push.unknown_activation", 404)
    try:
        status = provider.status(push.activation_id)
    except ProviderError:
        return Outcome("push.provider_unavailable", 503, rental)
    if not status.messages:
        return Outcome("push.not_confirmed", 409, rental)
    before = rental.messages.count()
    rental = rentals.record(rental, status, "push", now)
    fresh = rental.messages.count() > before
    return Outcome("push.recorded" if fresh else "push.already_recorded", 200, rental)
