"""The rental pages as a customer's browser uses them (htmx and without): the filtered offer
list, "Rent" and its refusals, the row that polls and shows the SMS, "Request refund" with
its refusals (even forged ones) and its credit, escaping, languages and no IDOR."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.numbers import catalog, polling, rentals
from portal.store import db
from portal.money import ledger
from portal.store.fields import utcnow
from portal.store.models import Consent, Rental, User
from portal.numbers.sms import ProviderError, Simulator, SimulatorConfig, Status
from portal_testing import Person
from test_rentals import SIM_CONFIG, Broken, Scripted, written

TOKEN = re.compile(r'id="rent-token" name="token" value="([^"]+)"')


@pytest.fixture
def shop(app):
    app.extensions["sms_provider"] = Simulator(SimulatorConfig.parse(SIM_CONFIG))
    with db.connection():
        catalog.seed_demo(now=utcnow() - timedelta(days=1))
    return app


def user(email="ann@example.com") -> User:
    return User.get(User.email == email)


def fund(cents: int, email="ann@example.com") -> None:
    with db.connection():
        who = user(email)
        ledger.post(f"fund:{who.id}:{cents}", "deposit",
                    [(ledger.house("card_clearing"), -cents), (ledger.wallet(who.id), cents)])


def balance(email="ann@example.com") -> int:
    with db.connection():
        return ledger.balance(user(email).id)


def rent_form(person: Person, path="/rentals") -> str:
    page = person.get(path).get_data(as_text=True)
    person.refresh_token(path)
    return TOKEN.search(page).group(1)


def rent(person: Person, offer="US:wa", htmx=True, **extra):
    token = rent_form(person)
    return person.post("/rentals", {"offer": offer, "token": token, **extra}, htmx=htmx)


def rented_ago(ago: timedelta, service="wa", email="ann@example.com", message=None) -> str:
    """A rental made ``ago`` (through the domain, on a simulator whose clock is that far
    back); its reference."""
    past = utcnow() - ago
    with db.connection():
        sim = Simulator(SimulatorConfig.parse(SIM_CONFIG), now=lambda: past)
        return rentals.rent(user(email), "US", service, provider=sim, now=past).reference


def poll(app) -> polling.Report:
    """What the polling job does every 2 s (pages only read what it recorded)."""
    with app.app_context(), db.connection():
        return polling.poll(app)


@pytest.fixture
def ann(shop, customer):
    fund(1_000)
    return customer


def test_the_rent_page_lists_offers_with_price_and_wait_window(ann):
    page = ann.get("/rentals").get_data(as_text=True)
    assert "United States" in page and 'value="US:wa"' in page and "$1.20" in page
    assert "20 min" in page and "15 min" in page  # Google's window is shorter
    assert 'value="DE:wa"' not in page  # the customer's own country is chosen first


@pytest.mark.parametrize("query, present, absent", [
    ("country=DE", ["DE:wa", "DE:tg"], ["US:wa"]),
    ("country=&service=tg", ["DE:tg", "US:tg"], ["US:wa"]),
    ("service=tg", ["US:tg"], ["DE:tg", "US:wa"]),  # no country chosen yet: their own
    ("country=DE&service=tg", ["DE:tg"], ["DE:wa", "US:tg"]),
    ("country=NG", [], ["US:wa"]),
    ("country=&service=", ["DE:wa", "BR:lf"], []),
])
def test_the_filter_answers_the_offer_list_alone(ann, query, present, absent):
    response = ann.get(f"/rentals?{query}", headers={"HX-Request": "true", "HX-Target": "offers"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="offers">')
    assert all(f'value="{offer}"' in body for offer in present)
    assert not any(f'value="{offer}"' in body for offer in absent)
    if not present:
        assert "Nothing is on offer for this choice." in body


def test_renting_with_htmx_debits_and_adds_the_row(ann):
    response = rent(ann)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "balance-changed"
    body = response.get_data(as_text=True)
    with db.connection():
        rental = Rental.get()
        assert ledger.check() == []
    assert f"Number rented: {rental.phone}." in body
    assert 'hx-swap-oob="afterbegin:#rental-list"' in body and f'id="rental-{rental.reference}"' in body
    assert 'id="rent-token"' in body and 'hx-swap-oob="true"' in body  # a fresh form token
    assert balance() == 1_000 - 120
    assert ann.get("/dashboard/balance").get_data(as_text=True).count("$8.80") == 1


def test_renting_without_htmx_leads_to_the_rental_page(ann):
    response = rent(ann, htmx=False)
    assert response.status_code == 303 and response.headers["Location"].startswith("/rentals/rent_")
    page = ann.get(response.headers["Location"]).get_data(as_text=True)
    assert "Waiting for the SMS: 20:00 left" in page or "Waiting for the SMS: 19:59 left" in page


def test_the_same_form_sent_twice_rents_once(ann):
    token = rent_form(ann)
    first = ann.post("/rentals", {"offer": "US:wa", "token": token}, htmx=True)
    second = ann.post("/rentals", {"offer": "US:wa", "token": token}, htmx=True)
    assert first.status_code == second.status_code == 200
    with db.connection():
        assert Rental.select().count() == 1
    assert balance() == 880


def _suspend(status):
    with db.connection():
        User.update(status=status, status_reason="Chargeback <b>under</b> review").where(
            User.email == "ann@example.com").execute()


# (case, setup, offer, status, message)
ROUTE_REFUSALS = [
    ("short balance", None, "US:wb", 409, "Your balance is too low for this number ($1.35)."),
    ("unknown service", None, "US:zz", 422, "This country and service are not on offer."),
    ("malformed offer", None, "nonsense", 422, "This country and service are not on offer."),
    ("no numbers", None, "US:ds", 409, "No number is free for this country and service right now."),
    ("suspended", lambda: _suspend("suspended"), "US:wa", 409,
     "Your account is suspended, so you cannot rent numbers. Reason: Chargeback &lt;b&gt;under&lt;/b&gt; review"),
    ("terminated", lambda: _suspend("terminated"), "US:wa", 409, "Your account is closed"),
    ("restricted by a dispute", lambda: _suspend("restricted"), "US:wa", 409,
     "A card payment of yours is disputed, so you cannot rent numbers until the dispute is closed."),
]


@pytest.mark.parametrize("case, setup, offer, status, text", ROUTE_REFUSALS,
                         ids=[c[0] for c in ROUTE_REFUSALS])
def test_refusals_answer_in_the_result_and_charge_nothing(shop, customer, case, setup, offer, status, text):
    fund(130)
    if setup:
        setup()
    with db.connection():
        before = written()
    response = rent(customer, offer)
    body = response.get_data(as_text=True)
    assert response.status_code == status and "HX-Trigger" not in response.headers
    assert body.lstrip().startswith('<div id="rent-result"') and text in body
    with db.connection():
        assert written() == before
    assert balance() == 130


def test_without_htmx_a_refusal_is_shown_on_the_page(shop, customer):
    response = rent(customer, "US:wa", htmx=False)
    assert response.status_code == 409
    assert "<h1>Rent a number</h1>" in response.get_data(as_text=True)


def test_an_unreachable_upstream_charges_nothing(shop, customer):
    fund(1_000)
    shop.extensions["sms_provider"] = Broken(ProviderError("down"))
    response = rent(customer)
    assert response.status_code == 502 and "cannot be reached. Nothing was charged" in response.get_data(as_text=True)
    assert balance() == 1_000


@pytest.fixture
def eva(shop, app):
    someone = Person(app.test_client())
    assert someone.register(email="eva@example.com", country="AT").status_code == 303
    fund(1_000, "eva@example.com")
    return someone


def test_an_eu_customer_must_consent_before_renting(eva):
    page = eva.get("/rentals").get_data(as_text=True)
    assert 'name="consent" value="yes" id="rent-consent">' in page  # unticked
    refused = rent(eva, "DE:wa")
    assert refused.status_code == 422 and "lose your right of withdrawal" in refused.get_data(as_text=True)
    assert '/en/payment-refund/2026-11-24/#eu-withdrawal' in refused.get_data(as_text=True)
    # the box is marked as the reason, described by the refusal (for screen readers)
    assert ('id="rent-consent" aria-invalid="true" aria-describedby="rent-error" hx-swap-oob="true">'
            in refused.get_data(as_text=True)) and 'id="rent-error"' in refused.get_data(as_text=True)
    rented = rent(eva, "DE:wa", consent="yes")
    assert rented.status_code == 200
    assert 'id="rent-consent" hx-swap-oob="true">' in rented.get_data(as_text=True)  # no longer marked
    with db.connection():
        consent = Consent.get()
        assert consent.action == "rental" and consent.subject == Rental.get().reference


def test_the_row_polls_while_waiting(ann):
    reference = rented_ago(timedelta(minutes=5))
    row = ann.get(f"/rentals/{reference}", htmx=True).get_data(as_text=True)
    assert row.lstrip().startswith(f'<article id="rental-{reference}"')
    assert 'hx-trigger="every 1s"' in row and re.search(r"Waiting for the SMS: 1[45]:\d\d left", row)
    assert "Request refund" not in row


def test_a_received_sms_is_shown_in_full_and_the_row_is_final(ann):
    reference = rented_ago(timedelta(minutes=1), service="tg")  # tg delivers after 30 s
    before = ann.get(f"/rentals/{reference}", htmx=True).get_data(as_text=True)
    assert "Waiting for the SMS" in before  # the page reads only what a poll recorded
    assert poll(ann.client.application).received == 1
    row = ann.get(f"/rentals/{reference}", htmx=True).get_data(as_text=True)
    with db.connection():
        rental = Rental.get()
    assert rental.state == "received"
    assert "Do not give this code to anyone, even if they say they are from Telegram!" in row
    assert f'<strong class="code">{rental.sms_code}</strong>' in row
    assert 'hx-trigger="every 5s"' in row  # another SMS may come while the window lasts
    assert "Request refund" not in row
    assert "Final: an SMS was received, so this number is not refundable." in row
    assert '/en/payment-refund/2026-11-24/#non-refundable' in row


def test_sms_text_is_escaped(ann, shop):
    reference = rented_ago(timedelta(minutes=1))
    scripted = shop.extensions["sms_provider"] = Scripted(Status("received", (rentals.Message(
        '<script>alert("x")</script> code 123', "123"),)))
    with db.connection():
        Rental.update(provider=rentals.provider_name(scripted)).execute()
    poll(shop)
    row = ann.get(f"/rentals/{reference}", htmx=True).get_data(as_text=True)
    assert "<script>alert" not in row and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; code 123" in row


def test_at_the_end_of_the_window_the_row_offers_the_refund_and_stops_polling(ann):
    reference = rented_ago(timedelta(minutes=21))
    row = ann.get(f"/rentals/{reference}", htmx=True).get_data(as_text=True)
    assert "No SMS arrived within the wait window." in row and "Request refund" in row
    assert "hx-trigger" not in row


def test_a_refund_before_the_window_ends_is_refused_even_when_forged(ann):
    reference = rented_ago(timedelta(minutes=5))
    ann.refresh_token("/rentals")
    response = ann.post(f"/rentals/{reference}/refund", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and response.headers["HX-Trigger"] == "balance-changed"
    assert re.search(r"you can ask for a refund in 1[45]:\d\d \(at ", body)
    assert '/en/payment-refund/2026-11-24/#failed-sms-refunds' in body
    assert balance() == 880


def test_a_refund_after_the_window_credits_the_price_paid(ann):
    reference = rented_ago(timedelta(minutes=21))
    assert balance() == 880
    ann.refresh_token("/rentals")
    response = ann.post(f"/rentals/{reference}/refund", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "balance-changed"
    assert body.lstrip().startswith(f'<article id="rental-{reference}"')
    assert "$1.20 was credited to your balance." in body and "Request refund" not in body
    assert body.count("was credited") == 1  # said once, not by the row and again by its notice
    assert balance() == 1_000
    again = ann.post(f"/rentals/{reference}/refund", htmx=True)  # another tab's click, late
    assert again.status_code == 409 and "This number has already been refunded." in again.get_data(as_text=True)
    assert again.headers["HX-Trigger"] == "balance-changed"  # its header shows the credit too
    assert balance() == 1_000
    with db.connection():
        assert ledger.check() == []


def test_a_code_that_arrived_meanwhile_is_shown_and_the_refund_refused(ann, shop):
    reference = rented_ago(timedelta(minutes=21))
    shop.extensions["sms_provider"] = Scripted(Status("received", (rentals.Message("G-55123 is your code", "55123"),)))
    ann.refresh_token("/rentals")
    response = ann.post(f"/rentals/{reference}/refund", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "G-55123 is your code" in body and "so its price is not refundable" in body
    assert '/en/payment-refund/2026-11-24/#non-refundable' in body
    assert balance() == 880


def test_a_provider_failure_on_refund_credits_nothing_and_asks_to_try_again(ann, shop):
    reference = rented_ago(timedelta(minutes=21))
    shop.extensions["sms_provider"] = Scripted(ProviderError("timeout"))
    ann.refresh_token("/rentals")
    response = ann.post(f"/rentals/{reference}/refund", htmx=True)
    assert response.status_code == 502 and "try again in a moment" in response.get_data(as_text=True)
    assert balance() == 880


def test_refusals_are_in_the_users_language_with_the_clause_in_that_language(shop, app):
    someone = Person(app.test_client())
    someone.register(email="dora@example.com", language="de", country="US")
    fund(1_000, "dora@example.com")
    reference = rented_ago(timedelta(minutes=5), email="dora@example.com")
    someone.refresh_token("/rentals")
    body = someone.post(f"/rentals/{reference}/refund", htmx=True).get_data(as_text=True)
    assert "Die Wartezeit läuft noch" in body
    assert '/de/payment-refund/2026-11-24/#failed-sms-refunds' in body


def test_another_users_rental_answers_404(ann, app):
    reference = rented_ago(timedelta(minutes=21))
    mallory = Person(app.test_client())
    mallory.register(email="mallory@example.com")
    assert mallory.get(f"/rentals/{reference}").status_code == 404
    mallory.refresh_token("/rentals")
    assert mallory.post(f"/rentals/{reference}/refund", htmx=True).status_code == 404
    assert balance() == 880


def test_state_changes_need_the_csrf_token(ann):
    reference = rented_ago(timedelta(minutes=21))
    assert ann.post(f"/rentals/{reference}/refund", csrf=False).status_code == 400
    assert ann.post("/rentals", {"offer": "US:wa"}, csrf=False).status_code == 400
    assert balance() == 880


def test_pages_need_a_login(shop, person):
    assert person.get("/rentals").status_code == 302
    assert person.get("/rentals/rent_x").status_code == 302


def test_the_page_shows_rentals_newest_first(ann):
    first, second = rented_ago(timedelta(minutes=3)), rented_ago(timedelta(minutes=2))
    page = ann.get("/rentals").get_data(as_text=True)
    assert page.index(second) < page.index(first)
    assert "You have not rented a number yet." in page  # present, hidden by CSS after a row


def test_number_rented_stays_with_its_row_while_it_waits_then_goes(ann):
    answer = rent(ann, "US:wa").get_data(as_text=True)  # wa never delivers here
    reference = re.search(r'id="rental-(rent_[^"]+)"', answer).group(1)
    assert "Number rented" in answer and "?rented=1" in answer
    assert "Number rented" not in answer.split('<div hx-swap-oob')[0]  # not in #rent-result as well
    waiting = ann.get(f"/rentals/{reference}?rented=1", htmx=True).get_data(as_text=True)
    assert "Number rented" in waiting and "?rented=1" in waiting
    delivered = rented_ago(timedelta(minutes=1), service="tg")  # tg: the SMS came after 30 s
    poll(ann.client.application)
    received = ann.get(f"/rentals/{delivered}?rented=1", htmx=True).get_data(as_text=True)
    assert 'class="sms"' in received and "Number rented" not in received


def test_the_dashboard_lists_the_numbers_with_their_refund_buttons(ann):
    reference = rented_ago(timedelta(minutes=21))
    page = ann.get("/dashboard").get_data(as_text=True)
    assert f'id="rental-{reference}"' in page and "Request refund" in page
