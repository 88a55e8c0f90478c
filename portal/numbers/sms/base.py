"""The SMS provider interface: values every provider returns and errors it raises.

A provider rents a phone number for a country and a service, reports the messages it
received, asks for another one, cancels it (when no SMS came) or finishes it (when one did). The portal depends
on this module only; the simulator and the SMS-Activate client implement it.

Every error carries a stable ``reason`` code (``provider.no_numbers``, ...) that the portal
turns into a translated message, as it does with ``portal.policy.Decision`` reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Literal, Mapping, Protocol, Sequence, runtime_checkable

State = Literal["waiting", "received", "cancelled", "finished"]
STATES: tuple[State, ...] = ("waiting", "received", "cancelled", "finished")


@dataclass(frozen=True)
class Activation:
    """A rented number: the provider's id for it and the number in E.164 form."""

    activation_id: str
    phone: str


@dataclass(frozen=True)
class Message:
    """One received SMS: its full text, the code in it, and when it arrived if known."""

    text: str
    code: str | None = None
    received_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.received_at is not None and self.received_at.utcoffset() is None:
            raise ValueError(f"received_at must be timezone-aware: {self.received_at}")


@dataclass(frozen=True)
class Status:
    """What the provider says about an activation now."""

    state: State
    messages: tuple[Message, ...] = ()

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown state {self.state!r}")
        if self.state == "received" and not self.messages:
            raise ValueError("a received status needs at least one message")


@runtime_checkable
class SmsProvider(Protocol):
    """Rent, read, cancel, finish. Implementations raise only ``ProviderError``s."""

    def rent(self, *, country: str, service: str) -> Activation:
        """Rent a number; ``country`` is ISO 3166 alpha-2, ``service`` a short code (wa, tg)."""
        ...

    def status(self, activation_id: str) -> Status:
        """The current state and every message received so far."""
        ...

    def statuses(self, activation_ids: Sequence[str]) -> Mapping[str, Status]:
        """The status of each of many activations, in as few calls as the upstream allows;
        an activation it said nothing about is missing from the answer."""
        ...

    def cancel(self, activation_id: str) -> Status:
        """Cancel a number that got no SMS.

        If an SMS arrived meanwhile the number is not cancelled: the answer is the
        ``received`` status with its messages, and the caller must not refund.
        """
        ...

    def finish(self, activation_id: str) -> None:
        """Tell the provider the activation succeeded (after an SMS was received)."""
        ...

    def retry(self, activation_id: str) -> None:
        """Ask for another SMS on a number that received one (the target service is to send
        its code again); the next one arrives as the first did, through ``status``."""
        ...


class ProviderError(Exception):
    """Base of every provider error; ``reason`` is a stable code, ``detail`` is for logs."""

    reason: str = "provider.error"

    def __init__(self, detail: str = "", *, reason: str | None = None) -> None:
        if reason is not None:
            self.reason = reason
        self.detail = detail
        super().__init__(f"{self.reason}: {detail}" if detail else self.reason)


class NoNumbers(ProviderError):
    """No number is free for this country and service right now."""

    reason = "provider.no_numbers"


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or answered nonsense (timeouts, 5xx, garbage)."""

    reason = "provider.unavailable"


class ProviderRejected(ProviderError):
    """The provider understood and refused: bad key, no balance, bad service, unknown id."""

    reason = "provider.rejected"


def one_by_one(status: Callable[[str], Status], activation_ids: Sequence[str], *,
               workers: int = 8) -> dict[str, Status]:
    """``statuses`` for an upstream that can only be asked per activation: at most
    ``workers`` calls at once. Activations whose call failed are left out; when every call
    failed, the first failure is raised (the upstream is in trouble, not one activation)."""
    if not activation_ids:
        return {}
    answers: dict[str, Status] = {}
    failures: list[ProviderError] = []

    def ask(activation_id: str) -> None:
        try:
            answers[activation_id] = status(activation_id)
        except ProviderError as error:
            failures.append(error)

    with ThreadPoolExecutor(max_workers=min(workers, len(activation_ids))) as pool:
        list(pool.map(ask, activation_ids))
    if failures and not answers:
        raise failures[0]
    return answers
