"""The evidence of a card dispute, assembled from what the portal knows, in the fields of
Stripe's ``Dispute.evidence`` (all text): the Terms the customer accepted with their
permanent URL and sha256, the withdrawal-waiver consents (time, IP, user agent), the
numbers rented and the SMS received since the deposit, and the wallet's statement.

``assemble`` reads; ``evidence_fields`` is the pure part that turns those facts into text,
so what staff review is exactly what is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from portal.money import ledger
from portal.numbers import timeline
from portal.store.models import (
    Consent, Deposit, Dispute, Entry, LedgerTransaction, Rental, RentalEvent, Service, Ticket, User,
)
from portal.policy import terms
from portal.site_versions import SiteNotBuilt, published

MAX_FIELD = 20_000  # characters Stripe accepts in one text field of the evidence
PRODUCT = ("Prepaid balance of a 1001sms.com account, spent on renting temporary phone numbers "
           "that receive SMS verification codes; delivered online at once.")


@dataclass(frozen=True)
class Facts:
    customer: User
    deposit: Deposit
    terms_url: str
    deposit_terms_url: str
    consents: list[Consent]
    rentals: list[Rental]
    entries: list[Entry]
    timelines: dict[int, list[RentalEvent]]  # rental id -> its events (portal.numbers.timeline)
    refund_tickets: list[Ticket]


def _usd(cents: int, sign: str = "") -> str:
    """Cents as dollars, exactly (``1234`` -> ``12.34``)."""
    return format(Decimal(cents).scaleb(-2), f"{sign}.2f")


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _policy_url(public_url: str, site_dir: str, version: str) -> str:
    try:
        return public_url.rstrip("/") + published(site_dir, version, "en").url
    except SiteNotBuilt:
        return f"{public_url.rstrip('/')}/en/payment-refund/{version}/"


def assemble(dispute: Dispute, *, public_url: str, site_dir: str) -> dict[str, str]:
    """The evidence of ``dispute``, ready for ``Dispute.modify(evidence=...)``."""
    deposit = Deposit.get_by_id(dispute.deposit_id)
    customer = User.get_by_id(dispute.user_id)
    since = deposit.credited_at or deposit.created_at
    rentals = list(Rental.select(Rental, Service).join(Service)
                   .where(Rental.user == customer.id, Rental.rented_at >= since).order_by(Rental.id))
    facts = Facts(
        customer=customer,
        deposit=deposit,
        terms_url=_policy_url(public_url, site_dir, customer.terms_version),
        deposit_terms_url=_policy_url(public_url, site_dir, deposit.terms_version),
        consents=list(Consent.select().where(Consent.user == customer.id).order_by(Consent.id)),
        rentals=rentals,
        entries=list(Entry.select(Entry, LedgerTransaction).join(LedgerTransaction)
                     .where(Entry.account == ledger.wallet(customer.id)).order_by(Entry.id)),
        refund_tickets=list(Ticket.select().where(Ticket.deposit == deposit.id,
                                                  Ticket.category == "card_refund")),
        timelines=timeline.of_many([rental.id for rental in rentals]),
    )
    return evidence_fields(facts)


def evidence_fields(facts: Facts) -> dict[str, str]:
    """Stripe's evidence fields from the facts; each within Stripe's length limit."""
    customer, deposit = facts.customer, facts.deposit
    version = terms(deposit.terms_version)
    fields = {
        "customer_email_address": customer.email,
        "product_description": PRODUCT,
        "service_date": (facts.rentals[0].rented_at if facts.rentals else
                         deposit.credited_at or deposit.created_at).strftime("%Y-%m-%d"),
        "refund_policy_disclosure": (
            f"The customer accepted our Payment & Refund Policy, version {customer.terms_version} "
            f"(sha256 {customer.terms_sha256}), on "
            f"{_stamp(customer.terms_accepted_at)}: {facts.terms_url}. The deposit "
            f"{deposit.reference} of {_stamp(deposit.credited_at)} was made under version "
            f"{deposit.terms_version} ({facts.deposit_terms_url}), which the deposit form links. "
            f"It says: a card deposit is refunded only when asked for within "
            f"{version.card_refund_window.days} days and when nothing has been spent since; "
            f"rented numbers and received SMS are not refundable."),
        "refund_refusal_explanation": _refund_history(facts.refund_tickets),
        "access_activity_log": _activity(facts),
        "uncategorized_text": _statement(facts),
    }
    ips = [c.ip for c in facts.consents if c.subject == deposit.reference and c.ip]
    if ips:
        fields["customer_purchase_ip"] = ips[0]
    return {name: text[:MAX_FIELD] for name, text in fields.items()}


def _refund_history(tickets: list[Ticket]) -> str:
    if not tickets:
        return "The customer never asked us for a refund of this deposit."
    return " ".join(f"Refund request #{t.id} of {_stamp(t.opened_at)}: {t.state}"
                    + (f" ({t.decision_reason})" if t.decision_reason else "") + "." for t in tickets)


def _activity(facts: Facts) -> str:
    lines = [f"Account {facts.customer.email} opened {_stamp(facts.customer.created_at)}."]
    lines += [f"{_stamp(c.created_at)} consent to immediate performance (waiving withdrawal) for "
              f"{c.action} {c.subject}, Terms {c.terms_version} sha256 {c.terms_sha256}, "
              f"IP {c.ip}, user agent {c.user_agent}" for c in facts.consents]
    for rental in facts.rentals:
        outcome = (f"SMS received {_stamp(rental.received_at)}" if rental.received_at
                   else f"{rental.state}")
        lines.append(f"{_stamp(rental.rented_at)} rented +{rental.phone.lstrip('+')} for "
                     f"{rental.service.name} ({rental.country}), {_usd(rental.price_cents)} USD: "
                     f"{outcome}")
        steps = [f"{_stamp(event.at)} {event.kind.replace('_', ' ')}"
                 + (f" ({event.detail})" if event.detail else "")
                 for event in facts.timelines.get(rental.id, [])]
        if steps:
            lines.append("  timeline: " + "; ".join(steps))
    if not facts.rentals:
        lines.append("No number was rented after this deposit.")
    return "\n".join(lines)


def _statement(facts: Facts) -> str:
    rows = [f"{_stamp(e.created_at)} {e.txn.kind} {_usd(e.amount, '+')} USD, balance "
            f"{_usd(e.balance_after)} USD" for e in facts.entries]
    return "Statement of the customer's balance (USD):\n" + "\n".join(rows)
