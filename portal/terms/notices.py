"""The e-mail notice of a material change: from a material version's publication until it
takes effect, every customer who accepted an older version is told, in their language, of
its summary, the day it takes effect and where to read what changes; once per customer and
version.

``run`` is the periodic job's work. For each version due (``rules.campaigns_due``) it walks
the customers by id in batches of ``BATCH`` from the campaign's cursor, so no run holds more
than a batch in memory. Each mail is an outbox row whose unique key is
``terms-notice:<version>:<user id>``: a run repeated, or run by several consumers at once,
writes each customer's mail once. The cursor only saves work: it moves forward by a
conditional UPDATE, and a consumer that lost the race goes on from where the winner got.
Customers who register during the notice period are reached by the next run; those created
in the last ``SETTLE`` wait for it, so a registration committed late is not passed by.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from peewee import IntegrityError

from portal.jobs import outbox
from portal.policy import Terms, terms
from portal.site_versions import published
from portal.store.db import database
from portal.store.fields import utcnow
from portal.store.models import OutboxMessage, TermsNoticeCampaign, User
from portal.terms import rules, texts
from portal.web.i18n import in_language

log = logging.getLogger(__name__)

BATCH = 500
SETTLE = timedelta(minutes=1)
KIND = "terms_notice"


def key_prefix(version: str) -> str:
    return f"terms-notice:{version}:"


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


def letter(version: Terms, language: str, *, site_dir: str, public_url: str) -> Letter:
    """The notice of ``version`` in ``language`` (the same for every customer of that language)."""
    from portal.web.i18n import day

    page = published(site_dir, version.version, language)
    with in_language(language):
        date, name = day(version.effective_at), _("Payment & Refund Policy")
        paragraphs = [
            _("We are changing our %(policy)s: version %(version)s takes effect on %(date)s.",
              policy=name, version=version.version, date=date),
            _("What changes: %(summary)s", summary=texts.summary(site_dir, version.version, language)),
            _("Read what changes: %(url)s", url=texts.absolute(public_url, page.changes_url or page.url)),
            _("What changed since the version you accepted, and every version you accepted: %(url)s",
              url=texts.absolute(public_url, "/account")),
        ]
        return Letter(_("Our %(policy)s changes on %(date)s", policy=name, date=date), "\n\n".join(paragraphs))


def run(*, site_dir: str, public_url: str, now: datetime | None = None, batch: int = BATCH) -> dict[str, int]:
    """Write the notices due at ``now``; how many customers each campaign considered."""
    now = now or utcnow()
    return {version.version: _campaign(version, now, site_dir, public_url, batch)
            for version in rules.campaigns_due(now)}


def _open(version: Terms, now: datetime) -> TermsNoticeCampaign:
    found = TermsNoticeCampaign.get_or_none(TermsNoticeCampaign.version == version.version)
    if found is not None:
        return found
    try:
        with database.atomic():
            return TermsNoticeCampaign.create(version=version.version, started_at=now, updated_at=now)
    except IntegrityError:  # another consumer opened it first
        return TermsNoticeCampaign.get(TermsNoticeCampaign.version == version.version)


def _campaign(version: Terms, now: datetime, site_dir: str, public_url: str, batch: int) -> int:
    campaign = _open(version, now)
    letters: dict[str, Letter] = {}
    cursor, considered = campaign.cursor, 0
    while True:
        customers = list(User.select(User.id, User.email, User.language, User.terms_version)
                         .where(User.id > cursor, User.is_staff == False,  # noqa: E712 - SQL
                                User.status != "terminated", User.created_at <= now - SETTLE)
                         .order_by(User.id).limit(batch))
        if not customers:
            return considered
        rows = []
        for customer in customers:
            if rules.needs_notice(customer.terms_version, version):
                mail = letters.get(customer.language)
                if mail is None:
                    mail = letters[customer.language] = letter(version, customer.language, site_dir=site_dir,
                                                               public_url=public_url)
                rows.append({"key": f"{key_prefix(version.version)}{customer.id}", "target": customer.email,
                             "kind": KIND, "subject": mail.subject, "body": mail.body, "user": customer.id})
        with database.atomic():
            outbox.add_many(rows, now)
            moved = (TermsNoticeCampaign.update(cursor=customers[-1].id, updated_at=now)
                     .where(TermsNoticeCampaign.id == campaign.id, TermsNoticeCampaign.cursor == cursor).execute())
        considered += len(customers)
        cursor = customers[-1].id if moved else TermsNoticeCampaign.get_by_id(campaign.id).cursor


@dataclass(frozen=True)
class Campaign:
    """What staff see of one notice campaign."""

    version: Terms
    started_at: datetime
    updated_at: datetime
    deadline: datetime  # the last instant a notice gives the full notice period
    sent: int
    failed: int  # dead: every try failed
    pending: int  # waiting for a (first or next) try, or being sent
    late: int  # mails written after the deadline (customers who registered since)

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.pending


def campaigns() -> list[Campaign]:
    """Every campaign, newest version first, with its mails counted by state."""
    found = []
    for campaign in TermsNoticeCampaign.select().order_by(TermsNoticeCampaign.version.desc()):
        version = terms(campaign.version)
        prefix = key_prefix(campaign.version)
        states = outbox.states_of(prefix)
        late = (OutboxMessage.select().where(OutboxMessage.key.startswith(prefix),
                                             OutboxMessage.created_at > rules.notice_deadline(version)).count())
        found.append(Campaign(version, campaign.started_at, campaign.updated_at, rules.notice_deadline(version),
                              sent=states.get(outbox.SENT, 0), failed=states.get(outbox.DEAD, 0),
                              pending=states.get(outbox.PENDING, 0) + states.get(outbox.SENDING, 0), late=late))
    return found
