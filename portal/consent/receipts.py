"""Consent receipts: every withdrawal-waiver consent is recorded with the exact words shown
(in the customer's language), the account's time zone and a random receipt id, and is
confirmed by e-mail through the outbox in the same transaction: a durable record of what
was agreed, when, for what and under which Terms text (version, permanent URL, sha256).

The account page lists the receipts; each is a printable page and a Kantara Consent
Receipt v1.1 JSON object (``portal.consent.kantara``). Lookups are scoped to the user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import gettext as _

from portal.accounts import time_zones
from portal.consent import kantara
from portal.consent.texts import consent_text
from portal.policy import CLAUSE_ANCHORS, terms_in_force
from portal.site_versions import Published, SiteNotBuilt, published
from portal.store.db import database
from portal.store.fields import utcnow
from portal.store.models import Consent, User
from portal.support import notifications
from portal.web.links import absolute
from portal.web.i18n import in_language


def new_receipt_id() -> str:
    return str(uuid.uuid4())  # 122 random bits: unguessable


def record(user: User, *, action: str, subject: str, terms: Published, ip: str, user_agent: str,
           now: datetime | None = None, text: str | None = None, mail: bool = True) -> Consent:
    """Record one consent and write its receipt e-mail, together (in the caller's
    transaction, if any). ``text`` is the words agreed to when they are not this action's
    own (a rental through the API is covered by the API consent's words); ``mail`` False
    for a consent another receipt already confirmed."""
    now = now or utcnow()
    language = user.language or "en"
    with in_language(language):
        words = text or consent_text(action)
    zone = time_zones.of_account(user.time_zone)
    with database.atomic():
        consent = Consent.create(
            user=user, action=action, subject=subject, terms_version=terms.version,
            terms_sha256=terms.sha256, created_at=now, ip=ip, user_agent=user_agent,
            receipt_id=new_receipt_id(), text=words, language=language, time_zone=zone,
            country=(user.country or "").upper())
        if mail:
            _mail(user, consent)
    return consent


def of_user(user_id: int):
    """The user's consents that have a receipt, newest first."""
    return (Consent.select().where(Consent.user == user_id, Consent.receipt_id.is_null(False))
            .order_by(Consent.id.desc()))


def one_for_user(user_id: int, receipt_id: str):
    """A query for one receipt of this user only (another user's id finds nothing)."""
    return Consent.select().where(Consent.user == user_id, Consent.receipt_id == receipt_id)


def policy_page(consent: Consent) -> Published:
    """The published Terms text the consent was given under, in its language."""
    try:
        return published(current_app.config["SITE_DIR"], consent.terms_version, consent.language or "en")
    except SiteNotBuilt:
        lang = consent.language or "en"
        return Published(consent.terms_version, lang, f"/{lang}/payment-refund/{consent.terms_version}/",
                         None, consent.terms_sha256)


def moment(consent: Consent, language: str) -> str:
    """When it was given, in ``language`` and the time zone the account had then."""
    from portal.web.i18n import moment as formatted

    return formatted(consent.created_at, language, ZoneInfo(consent.time_zone or time_zones.DEFAULT))


def words_for(kind: str, reference: str) -> str:
    """A deposit, a rental or the API in words, in the current language."""
    if kind == "deposit":
        return _("deposit %(reference)s", reference=reference)
    if kind == "rental":
        return _("number rental %(reference)s", reference=reference)
    return _("API")


def subject_words(consent: Consent) -> str:
    """What the consent was given for, in the current language."""
    return words_for(consent.action, consent.subject)


@dataclass(frozen=True)
class Receipt:
    """What a receipt shows (its page, its e-mail): built from the consent row."""

    consent: Consent
    given_for: str
    subject: str
    policy_url: str  # absolute, permanent
    policy_sha256: str
    shown_at: str  # the moment with its time zone
    page_url: str  # absolute: the printable receipt
    json_url: str


def view(consent: Consent, language: str) -> Receipt:
    """The receipt of ``consent`` in ``language`` (inside a request: it builds links)."""
    from portal.web.records import consent_action

    with in_language(language):
        return Receipt(
            consent=consent, given_for=consent_action(consent.action), subject=subject_words(consent),
            policy_url=absolute(policy_page(consent).url), policy_sha256=consent.terms_sha256,
            shown_at=moment(consent, language),
            page_url=absolute(url_for("consents.show", receipt_id=consent.receipt_id)),
            json_url=absolute(url_for("consents.as_json", receipt_id=consent.receipt_id)),
        )


def _mail(user: User, consent: Consent) -> None:
    from portal.web.reasons import policy_name

    language = user.language or "en"
    shown = view(consent, language)
    with in_language(language):
        subject = _("Receipt of your consent: %(action)s", action=shown.given_for)
        body = "\n\n".join((
            _("You gave this consent on %(when)s:", when=shown.shown_at),
            f"\u201c{consent.text}\u201d",
            _("It was given for: %(subject)s.", subject=shown.subject),
            _("The terms: version %(version)s of the %(policy)s, %(url)s (SHA-256 of that text: %(sha256)s).",
              version=consent.terms_version, policy=policy_name(), url=shown.policy_url,
              sha256=consent.terms_sha256),
            _("Receipt id: %(receipt)s", receipt=consent.receipt_id),
            _("The printable receipt: %(url)s\nIts machine-readable copy (Kantara Consent Receipt, JSON): %(json)s",
              url=shown.page_url, json=shown.json_url),
        ))
    notifications.mail(user, "consent_receipt", f"mail:consent_receipt:{consent.receipt_id}", subject, body)


def controller() -> kantara.Controller:
    config = current_app.config
    return kantara.Controller(
        name=config["CONSENT_CONTROLLER_NAME"], contact=_("Support"),
        address=config["CONSENT_CONTROLLER_ADDRESS"], email=terms_in_force(utcnow()).support_email,
        phone=config["CONSENT_CONTROLLER_PHONE"], url=absolute("/"))


def as_kantara(consent: Consent, user: User) -> dict:
    """The receipt as a Kantara Consent Receipt v1.1 object (words in the consent's language)."""
    from portal.web.records import consent_action

    language = consent.language or "en"
    policy = absolute(policy_page(consent).url)
    with in_language(language):
        given = kantara.Given(
            receipt_id=consent.receipt_id, action=consent.action,
            timestamp=int(consent.created_at.timestamp()), jurisdiction=consent.country,
            language=language, principal=user.email, text=consent.text,
            service=f"1001sms.com: {consent_action(consent.action)} ({subject_words(consent)})",
            policy_url=policy, termination=f"{policy}#{CLAUSE_ANCHORS['eu.withdrawal_waiver']}")
        return kantara.receipt(given, controller())
