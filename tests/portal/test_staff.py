"""The staff console: staff only (404 for anyone else), the ticket queue by due time with
overdue tickets highlighted and filters, account standing with a reason, the refund-abuse
review list, the audit log and the notification outbox."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from card_refund_steps import staff_member, user_id
from portal.store import db
from portal.store.fields import utcnow
from portal.store.models import AuditEntry, Ticket, User
from portal_testing import Person

STAFF_PAGES = ["/staff/", "/staff/?state=all", "/staff/accounts", "/staff/audit", "/staff/outbox",
               "/staff/tickets/1"]
STAFF_POSTS = ["/staff/tickets/1/replies", "/staff/tickets/1/decision", "/staff/tickets/1/close",
               "/staff/tickets/1/refund", "/staff/accounts/1/standing"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_answer_404_to_customers_and_strangers(app, customer, path):
    assert customer.get(path).status_code == 404
    assert Person(app.test_client()).get(path).status_code == 404


@pytest.mark.parametrize("path", STAFF_POSTS)
def test_staff_actions_answer_404_to_customers(customer, path):
    customer.refresh_token("/dashboard")
    assert customer.post(path, {"body": "x", "action": "approve", "reason": "x"}).status_code == 404
    with db.connection():
        assert AuditEntry.select().count() == 0 and User.get_by_id(1).status == "active"


def open_due(person, subject: str, category: str, due: datetime):
    """Open a ticket through the form, then move its due time (the Terms are too young
    for a ticket opened 48 business hours ago)."""
    person.refresh_token("/tickets/new")
    assert person.post("/tickets", {"subject": subject, "category": category, "body": "b"},
                       htmx=True).status_code == 204
    with db.connection():
        Ticket.update(first_response_due=due).where(Ticket.subject == subject).execute()


def test_the_queue_is_sorted_by_due_time_highlights_overdue_and_filters(app, customer):
    now = utcnow()
    open_due(customer, "newest", "payment", now + timedelta(hours=47))
    open_due(customer, "oldest", "failed_sms", now - timedelta(hours=1))
    open_due(customer, "middle", "payment", now + timedelta(hours=20))
    staff = staff_member(app)
    page = staff.get("/staff/").get_data(as_text=True)
    assert page.index("oldest") < page.index("middle") < page.index("newest")
    rows = page.split("<tr")
    assert 'class="overdue"' in next(r for r in rows if "oldest" in r)
    assert 'class="overdue"' not in next(r for r in rows if "newest" in r)
    payments = staff.get("/staff/?category=payment", htmx=True).get_data(as_text=True)
    assert payments.lstrip().startswith('<div id="staff-queue">')
    assert "middle" in payments and "newest" in payments and "oldest" not in payments
    with db.connection():
        Ticket.update(state="answered").where(Ticket.subject == "middle").execute()
    assert "middle" not in staff.get("/staff/?category=payment").get_data(as_text=True)
    assert "middle" in staff.get("/staff/?state=answered").get_data(as_text=True)
    assert "middle" in staff.get("/staff/?state=all").get_data(as_text=True)
    customer_view = customer.get("/tickets").get_data(as_text=True)
    assert "oldest" in customer_view


def standing(staff, uid, action, reason):
    staff.refresh_token("/staff/accounts")
    return staff.post(f"/staff/accounts/{uid}/standing", {"action": action, "reason": reason}, htmx=True)


# action, standing before, standing after (None: refused, nothing changes)
STANDING = [
    ("suspend", "active", "suspended"),
    ("terminate", "active", "terminated"),
    ("terminate", "suspended", "terminated"),
    ("reactivate", "suspended", "active"),
    ("reactivate", "active", None),
    ("reactivate", "terminated", None),
    ("suspend", "terminated", None),
    ("explode", "active", None),
]


@pytest.mark.parametrize("action, before, after", STANDING)
def test_standing_actions_with_a_reason_are_audited(app, customer, action, before, after):
    uid = user_id()
    with db.connection():
        User.update(status=before).where(User.id == uid).execute()
    staff = staff_member(app)
    response = standing(staff, uid, action, "Chargebacks on 3 deposits")
    with db.connection():
        user = User.get_by_id(uid)
        audits = list(AuditEntry.select())
    if after is None:
        assert response.status_code == 422 and user.status == before and audits == []
        return
    assert response.status_code == 200 and "Saved." in response.get_data(as_text=True)
    assert (user.status, user.status_reason) == (after, "Chargebacks on 3 deposits")
    assert [(a.action, a.subject_user_id, a.note) for a in audits] == [
        (f"account.{action}", uid, "Chargebacks on 3 deposits")]
    log = staff.get("/staff/audit").get_data(as_text=True)
    assert f"account.{action}" in log and "ann@example.com" in log and STAFF_EMAIL_IN(log)


def STAFF_EMAIL_IN(text):
    from card_refund_steps import STAFF_EMAIL

    return STAFF_EMAIL in text


def test_a_reason_is_required(app, customer):
    staff = staff_member(app)
    response = standing(staff, user_id(), "suspend", "   ")
    assert response.status_code == 422 and "Give a reason." in response.get_data(as_text=True)
    with db.connection():
        assert User.get_by_id(user_id()).status == "active"


def test_staff_accounts_cannot_be_suspended_from_the_console(app):
    staff = staff_member(app)
    assert standing(staff, user_id("sam@staff.example.com"), "suspend", "oops").status_code == 422


def test_flagged_accounts_are_listed_and_the_flag_can_be_dismissed(app, customer):
    other = Person(app.test_client())
    other.register(email="quiet@example.com")
    with db.connection():
        User.update(flagged_at=datetime(2026, 11, 25, tzinfo=timezone.utc), flag_reason="abuse.refund_ratio").where(
            User.email == "ann@example.com").execute()
    staff = staff_member(app)
    page = staff.get("/staff/accounts").get_data(as_text=True)
    assert "ann@example.com" in page and "Flagged for refund abuse" in page and "abuse.refund_ratio" in page
    assert "quiet@example.com" not in page
    assert standing(staff, user_id(), "dismiss_flag", "Reviewed: provider outage").status_code == 200
    with db.connection():
        assert User.get_by_id(user_id()).flagged_at is None
    assert "ann@example.com" not in staff.get("/staff/accounts").get_data(as_text=True)


def test_a_suspended_customer_sees_why_and_may_still_open_tickets(app, customer):
    staff = staff_member(app)
    standing(staff, user_id(), "suspend", "Unusual refund pattern")
    page = customer.get("/dashboard").get_data(as_text=True)
    assert "Your account is suspended." in page and "Unusual refund pattern" in page
    assert "Balance: <strong>$0.00</strong>" in page
    assert customer.get("/statement").status_code == 200
    customer.refresh_token("/tickets/new")
    assert customer.post("/tickets", {"subject": "Why?", "category": "other", "body": "?"},
                         htmx=True).status_code == 204
    refused = customer.deposit("10")
    assert refused.status_code == 422
    assert "deposits and rentals are not possible" in refused.get_data(as_text=True)
    standing(staff, user_id(), "reactivate", "Explained")
    assert "Your account is suspended." not in customer.get("/dashboard").get_data(as_text=True)
    assert customer.deposit("10").status_code == 204


def test_the_outbox_shows_every_notification(app, customer):
    customer.refresh_token("/tickets/new")
    customer.post("/tickets", {"subject": "Hello there", "category": "other", "body": "?"}, htmx=True)
    staff = staff_member(app)
    page = staff.get("/staff/outbox").get_data(as_text=True)
    assert "ann@example.com" in page and "Ticket 1 received" in page and "pending" in page


def test_staff_close_a_ticket_and_a_customer_reply_reopens_it(app, customer):
    customer.refresh_token("/tickets/new")
    customer.post("/tickets", {"subject": "Thanks", "category": "payment", "body": "All good"}, htmx=True)
    staff = staff_member(app)
    staff.refresh_token("/staff/tickets/1")
    closed = staff.post("/staff/tickets/1/close", {}, htmx=True)
    assert closed.status_code == 200 and "Ticket closed." in closed.get_data(as_text=True)
    assert staff.post("/staff/tickets/1/close", {}, htmx=True).status_code == 409
    with db.connection():
        assert Ticket.get_by_id(1).state == "closed"
        assert [a.action for a in AuditEntry.select()] == ["ticket.close"]
    customer.refresh_token("/tickets/1")
    customer.post("/tickets/1/replies", {"body": "One more thing"}, htmx=True)
    with db.connection():
        assert Ticket.get_by_id(1).state == "open"
