"""Consent receipts: every withdrawal-waiver consent (deposit, rental, API use) is
confirmed by an e-mail written in the consent's transaction, in the customer's language,
with the exact words, what it was for, the Terms version (permanent URL, sha256), the time
with its zone and the receipt id; the account lists the receipts, each a printable page
and Kantara Consent Receipt v1.1 JSON (validated here against the spec's fields); a user
sees only their own."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from card_refund_steps import paid_card_deposit
from portal.consent import receipts
from portal.money import deposits
from portal.site_versions import published
from portal.store import db
from portal.store.models import Consent, Deposit, OutboxMessage, User
from portal_testing import Person, make_app
from test_notifications import smtp_server  # noqa: F401 (a fixture)
from test_rentals_web import fund, rent, shop  # noqa: F401 (shop: a fixture)

# The Kantara Initiative Consent Receipt Specification v1.1 (KI-CR-v1.1.0), its JSON
# fields: the receipt, its PII controllers, services and their purposes. Each field is
# (type, required). Types are JSON types; "string!" is a string that may not be empty.
RECEIPT = {
    "version": ("string!", True),
    "jurisdiction": ("string!", True),
    "consentTimestamp": ("integer", True),
    "collectionMethod": ("string!", True),
    "consentReceiptID": ("string!", True),
    "publicKey": ("string", False),
    "language": ("string", False),
    "piiPrincipalId": ("string!", True),
    "piiControllers": ("array", True),
    "policyUrl": ("string!", True),
    "services": ("array", True),
    "sensitive": ("boolean", True),
    "spiCat": ("array", True),
}
CONTROLLER = {
    "piiController": ("string!", True),
    "onBehalf": ("boolean", False),
    "contact": ("string!", True),
    "address": ("object", True),
    "email": ("string!", True),
    "phone": ("string", True),
    "piiControllerUrl": ("string", False),
}
SERVICE = {"service": ("string!", True), "purposes": ("array", True)}
PURPOSE = {
    "purpose": ("string!", True),
    "purposeCategory": ("array", True),
    "consentType": ("string!", True),
    "piiCategory": ("array", True),
    "primaryPurpose": ("boolean", False),
    "termination": ("string!", True),
    "thirdPartyDisclosure": ("boolean", True),
    "thirdPartyName": ("string", False),  # required when thirdPartyDisclosure is true
}
TYPES = {"string": str, "string!": str, "integer": int, "boolean": bool, "array": list, "object": dict}


def check(obj: dict, fields: dict, where: str) -> list[str]:
    problems = [f"{where}.{name} is missing" for name, (_, required) in fields.items()
                if required and name not in obj]
    problems += [f"{where}.{name} is not in the specification" for name in obj if name not in fields]
    for name, value in obj.items():
        kind = fields.get(name, ("", False))[0]
        if kind and (not isinstance(value, TYPES[kind]) or (kind == "integer" and isinstance(value, bool))):
            problems.append(f"{where}.{name} is not a {kind}")
        elif kind == "string!" and not value.strip():
            problems.append(f"{where}.{name} is empty")
    return problems


def kantara_problems(receipt: dict) -> list[str]:
    """What makes ``receipt`` not a Kantara Consent Receipt v1.1 (empty: it is one)."""
    problems = check(receipt, RECEIPT, "receipt")
    if receipt.get("version") != "KI-CR-v1.1.0":
        problems.append("receipt.version is not KI-CR-v1.1.0")
    if not re.fullmatch(r"[A-Z]{2}( [A-Z]{2})*", receipt.get("jurisdiction", "")):
        problems.append("receipt.jurisdiction is not ISO 3166-1 alpha-2")
    for key in ("piiControllers", "services"):
        if not receipt.get(key):
            problems.append(f"receipt.{key} is empty")
    for i, controller in enumerate(receipt.get("piiControllers", [])):
        problems += check(controller, CONTROLLER, f"piiControllers[{i}]")
    for i, service in enumerate(receipt.get("services", [])):
        problems += check(service, SERVICE, f"services[{i}]")
        for j, purpose in enumerate(service.get("purposes", [])):
            problems += check(purpose, PURPOSE, f"services[{i}].purposes[{j}]")
            if purpose.get("thirdPartyDisclosure") and not purpose.get("thirdPartyName"):
                problems.append(f"services[{i}].purposes[{j}].thirdPartyName is missing")
            if not all(isinstance(c, str) for c in purpose.get("piiCategory", []) + purpose.get("purposeCategory", [])):
                problems.append(f"services[{i}].purposes[{j}] has a category that is not a string")
    if receipt.get("sensitive") is False and receipt.get("spiCat"):
        problems.append("receipt.spiCat lists categories of a receipt that is not sensitive")
    return problems


def test_the_validator_finds_what_the_specification_forbids():
    assert kantara_problems({"version": "1", "sensitive": "no"})[:2] == [
        "receipt.jurisdiction is missing", "receipt.consentTimestamp is missing"]
    assert "receipt.sensitive is not a boolean" in kantara_problems({"sensitive": "no"})


def eu_person(app, email="eva@example.com", language="en", country="AT", zone="Europe/Vienna") -> Person:
    someone = Person(app.test_client())
    assert someone.register(email=email, country=country, language=language).status_code == 303
    with db.connection():
        User.update(time_zone=zone).where(User.email == email).execute()
    return someone


def receipt_mails():
    with db.connection():
        return list(OutboxMessage.select().where(OutboxMessage.kind == "consent_receipt").order_by(OutboxMessage.id))


@pytest.mark.parametrize("language, words, zone_name, subject", [
    ("en", "I expressly request that my deposit is performed immediately", "GMT+01:00",
     "Receipt of your consent: Deposit: performance at once, right of withdrawal waived"),
    ("de", "Ich verlange ausdrücklich", "MEZ", "Beleg Ihrer Zustimmung: Einzahlung"),
])
def test_a_deposit_consent_is_confirmed_by_a_receipt_in_the_customers_language(app, site_dir, language, words,
                                                                             zone_name, subject):
    eva = eu_person(app, language=language, zone="Europe/Berlin")
    assert eva.deposit("25", "card", consent="yes").status_code == 204
    with db.connection():
        consent, deposit = Consent.get(), Deposit.get()
    [mail] = receipt_mails()
    page = published(site_dir, consent.terms_version, language)
    assert mail.target == "eva@example.com" and mail.subject.startswith(subject)
    assert mail.key == f"mail:consent_receipt:{consent.receipt_id}"
    assert uuid.UUID(consent.receipt_id).version == 4
    assert words in consent.text and consent.text in mail.body  # the words as shown, quoted
    assert (consent.language, consent.time_zone, consent.country) == (language, "Europe/Berlin", "AT")
    for shown in (deposit.reference, consent.terms_version, f"http://localhost{page.url}", page.sha256,
                  consent.receipt_id, f"http://localhost/account/receipts/{consent.receipt_id}.json",
                  zone_name):
        assert shown in mail.body, shown
    form = eva.get("/deposits/new").get_data(as_text=True)
    assert consent.text in form  # what the form shows is what the receipt keeps


def test_the_receipt_is_written_in_the_consents_transaction(app, monkeypatch):
    eva = eu_person(app)

    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(receipts.notifications, "mail", broken)
    with db.connection(), app.test_request_context():
        terms = published(app.config["SITE_DIR"], "2026-11-24", "en")
        with pytest.raises(RuntimeError):
            deposits.open_deposit(User.get(), method="card", amount_text="25", consent=True, terms=terms,
                                  ip="192.0.2.1", user_agent="test")
        assert (Consent.select().count(), Deposit.select().count()) == (0, 0)
    assert eva  # signed in throughout


def test_rental_and_api_consents_get_receipts_too(shop, app):
    eva = eu_person(app)
    fund(1_000, "eva@example.com")
    assert rent(eva, "DE:wa", consent="yes").status_code == 200
    eva.refresh_token("/account")
    assert eva.post("/account/api-consent", {"consent": "yes"}, htmx=True).status_code == 200
    with db.connection():
        consents = {c.action: c for c in Consent.select()}
    assert set(consents) == {"rental", "api"}
    mails = receipt_mails()
    assert [m.key.rsplit(":", 1)[1] for m in mails] == [consents["rental"].receipt_id, consents["api"].receipt_id]
    assert "number is provided immediately" in mails[0].body and "through the API" in mails[1].body


def test_the_account_lists_receipts_as_printable_pages_and_kantara_json(app, site_dir):
    eva = eu_person(app)
    assert eva.deposit("25", "BTC", consent="yes").status_code == 204
    with db.connection():
        consent = Consent.get()
    account = eva.get("/account").get_data(as_text=True)
    page_url, json_url = f"/account/receipts/{consent.receipt_id}", f"/account/receipts/{consent.receipt_id}.json"
    assert f'href="{page_url}"' in account and f'href="{json_url}"' in account
    printable = eva.get(page_url)
    text = printable.get_data(as_text=True)
    assert printable.status_code == 200
    for shown in (consent.receipt_id, consent.text, consent.terms_sha256, consent.subject, "GMT+01:00", "portal.css"):
        assert shown in text, shown
    css = app.test_client().get("/static/portal.css").get_data(as_text=True)
    assert "@media print" in css and "footer.foot" in css.split("@media print")[1]

    with db.connection():  # the jurisdiction is the consumer's when the consent was given
        User.update(country="US").execute()
    answer = eva.get(json_url)
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    receipt = json.loads(answer.get_data(as_text=True))
    assert kantara_problems(receipt) == []
    page = published(site_dir, consent.terms_version, "en")
    assert receipt["consentReceiptID"] == consent.receipt_id
    assert receipt["consentTimestamp"] == int(consent.created_at.timestamp())
    assert (receipt["jurisdiction"], receipt["language"], receipt["piiPrincipalId"]) == ("AT", "en", "eva@example.com")
    assert receipt["policyUrl"] == f"http://localhost{page.url}"
    assert receipt["piiControllers"][0]["email"] == "support@1001sms.com"
    [service] = receipt["services"]
    assert service["purposes"][0]["purpose"] == consent.text and consent.subject in service["service"]


def test_a_user_sees_only_their_own_receipts(app):
    eva = eu_person(app)
    assert eva.deposit("25", "card", consent="yes").status_code == 204
    with db.connection():
        receipt_id = Consent.get().receipt_id
    other = eu_person(app, email="otto@example.com")
    for path in (f"/account/receipts/{receipt_id}", f"/account/receipts/{receipt_id}.json",
                 f"/account/receipts/{uuid.uuid4()}", "/account/receipts/not-a-receipt"):
        assert other.get(path).status_code == 404, path
    assert app.test_client().get(f"/account/receipts/{receipt_id}").status_code == 302  # sign in first


def test_a_receipt_goes_out_through_smtp(db_url, site_dir, smtp_server):  # noqa: F811
    port, inbox = smtp_server
    app = make_app(db_url, site_dir, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="help@1001sms.com")
    eva = eu_person(app, language="de")
    paid_card_deposit(eva, "25", consent="yes")
    [(recipients, mail)] = [m for m in inbox.messages if m[1]["Subject"].startswith("Beleg")]
    with db.connection():
        consent = Consent.get()
    assert recipients == ["eva@example.com"]
    assert consent.receipt_id in mail.get_content() and "Ich verlange ausdrücklich" in mail.get_content()
    assert [m.state for m in receipt_mails()] == ["sent"]
