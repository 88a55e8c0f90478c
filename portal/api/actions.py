"""The handler protocol's actions, each answered by the same domain as the web: an API
rental is a rental (``portal.numbers.rentals``: the price lock, the postings, the EU consent,
the standing checks, the abuse flag), and ``setStatus 8`` is the web's "Request refund".

``answer(caller, params, now)`` returns ``(body, is_json)``; every refusal is a protocol
word (``protocol.ProtocolError``). The activation id a customer sees is the rental's own id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from flask import current_app

from portal.api import protocol
from portal.api.protocol import ProtocolError, dollars, stamp
from portal.money import ledger
from portal.numbers import catalog, rentals
from portal.policy import requires_withdrawal_waiver
from portal.site_versions import Published
from portal.states import may_transact
from portal.store.models import ApiKey, Consent, Rental, Service, User
from portal.web import reasons
from portal.web.links import absolute

NOMINAL_COUNT = 100  # numbers "available" per offer: the upstream does not say; the protocol asks
HISTORY_LIMIT = 100

# A refused rental's reason -> the protocol's word
REFUSALS = {
    "rental.unknown_service": "BAD_SERVICE",
    "rental.insufficient_funds": "NO_BALANCE",
    "rental.no_numbers": "NO_NUMBERS",
    "rental.provider_unavailable": "NO_NUMBERS",
    "rental.account_suspended": "ACCOUNT_INACTIVE",
    "rental.account_restricted": "ACCOUNT_INACTIVE",
    "rental.account_terminated": "BANNED",
    "eu.withdrawal_waiver": "ACCOUNT_INACTIVE",
}


@dataclass(frozen=True)
class Caller:
    key: ApiKey
    user: User
    ip: str
    user_agent: str


def api_consent(user: User) -> Consent | None:
    """An EU customer's recorded withdrawal-waiver consent for API use (the account page)."""
    return (Consent.select().where(Consent.user == user.id, Consent.action == "api")
            .order_by(Consent.id.desc()).first())


def check_standing(user: User) -> None:
    """Refuse every action of an account that may not transact, and an EU customer's until
    the API consent is recorded."""
    if user.status == "terminated":
        raise ProtocolError("BANNED")
    if not may_transact(user.status):
        raise ProtocolError("ACCOUNT_INACTIVE")
    if requires_withdrawal_waiver(user.country) and api_consent(user) is None:
        raise ProtocolError("ACCOUNT_INACTIVE")


MAX_ID = 2**63 - 1  # a larger id is no row's (and no database's integer)


def _activation_id(params) -> int:
    try:
        rental_id = int(params.get("id", ""))
    except ValueError:
        raise ProtocolError("NO_ACTIVATION") from None
    if not 0 < rental_id <= MAX_ID:
        raise ProtocolError("NO_ACTIVATION")
    return rental_id


def _rental(caller: Caller, params) -> Rental:
    found = rentals.for_user(caller.user.id).where(Rental.id == _activation_id(params)).first()
    if found is None:
        raise ProtocolError("NO_ACTIVATION")
    return found


def _messages(rental: Rental):
    return rentals.messages_of([rental.id])[rental.id]


# --- the actions -------------------------------------------------------------------


def get_balance(caller: Caller, params, now) -> str:
    return f"ACCESS_BALANCE:{dollars(ledger.balance(caller.user.id))}"


def _rent(caller: Caller, params, now) -> Rental:
    service = params.get("service", "")
    if not Service.get_or_none(Service.code == service):
        raise ProtocolError("BAD_SERVICE")
    country = protocol.country_iso(params.get("country"))
    offer = catalog.offer(country, service, now)
    if offer is None:
        raise ProtocolError("NO_NUMBERS")
    ceiling = protocol.max_price_cents(params.get("maxPrice"))
    if ceiling is not None and ceiling < offer.price_cents:
        raise ProtocolError("WRONG_MAX_PRICE", dollars(offer.price_cents))
    consent = None
    if requires_withdrawal_waiver(caller.user.country):
        given = api_consent(caller.user)
        terms = Published(given.terms_version, caller.user.language, "", None, given.terms_sha256)
        consent = rentals.ConsentGiven(terms, caller.ip, caller.user_agent,
                                       text=given.text or None, mail=False)
    try:
        rental = rentals.rent(caller.user, country, service, consent=consent, now=now)
    except rentals.RentalRefused as refused:
        raise ProtocolError(REFUSALS.get(refused.reason, "NO_NUMBERS")) from None
    Rental.update(api_key=caller.key.id).where(Rental.id == rental.id).execute()
    return rental


def get_number(caller: Caller, params, now) -> str:
    rental = _rent(caller, params, now)
    return f"ACCESS_NUMBER:{rental.id}:{protocol.digits(rental.phone)}"


def get_number_v2(caller: Caller, params, now) -> dict:
    rental = _rent(caller, params, now)
    return {
        "activationId": rental.id, "phoneNumber": protocol.digits(rental.phone),
        "activationCost": dollars(rental.price_cents), "currency": protocol.USD,
        "countryCode": str(protocol.country_id(rental.country)), "canGetAnotherSms": True,
        "activationTime": stamp(rental.rented_at), "activationEndTime": stamp(rental.ends_at),
        "activationOperator": "any",
    }


def get_status(caller: Caller, params, now) -> str:
    found = rentals.sms_summary(caller.user.id, _activation_id(params))
    if found is None:
        raise ProtocolError("NO_ACTIVATION")
    state, retry_after, count, last = found
    if state == rentals.REFUNDED:
        return "STATUS_CANCEL"
    if not count:
        return "STATUS_WAIT_CODE"
    if retry_after is not None and count <= retry_after:
        return f"STATUS_WAIT_RETRY:{last}"
    return f"STATUS_OK:{last}"


def _policy(rental: Rental, now) -> dict:
    """The refund rule's answer for this rental now, with the clause that states it."""
    decision = rentals.refund_decision(rental, now)
    link = reasons.clause_link(decision.reason, rental.terms_version) if decision.reason in reasons.CLAUSE_ANCHORS else None
    link = absolute(link) if link else link
    return {"refund": {"allowed": decision.allowed, "reason": decision.reason,
                       "after": stamp(decision.deadline) if decision.deadline else None, "clause": link}}


def get_status_v2(caller: Caller, params, now) -> dict:
    rental = _rental(caller, params)
    messages = _messages(rental)
    last = messages[-1] if messages else None
    sms = {"dateTime": stamp(last.received_at), "code": last.code or "", "text": last.text} if last else None
    return {"verificationType": 0, "sms": sms, "call": None, "policy": _policy(rental, now)}


def set_status(caller: Caller, params, now) -> str:
    rental = _rental(caller, params)
    status = params.get("status", "")
    if status == "1":
        return "ACCESS_READY"
    if status == "3":
        refused = rentals.ask_again(rental, rentals.provider_for(current_app), now)
        if refused == "rental.provider_unavailable":
            raise ProtocolError("NO_NUMBERS")  # the upstream cannot take it now: ask again
        if refused:
            raise ProtocolError("BAD_STATUS")
        return "ACCESS_RETRY_GET"
    if status == "6":
        if not _messages(rental):
            raise ProtocolError("BAD_STATUS")
        rentals.finish(rental, rentals.provider_for(current_app), now, asked=True)
        return "ACCESS_ACTIVATION"
    if status == "8":
        return _cancel(caller, rental, now)
    raise ProtocolError("BAD_STATUS")


def _cancel(caller: Caller, rental: Rental, now) -> str:
    outcome = rentals.request_refund(caller.user, rental.reference, now=now)
    if outcome.credited or outcome.reason == "sms_refund.already_refunded":
        return "ACCESS_CANCEL"
    if outcome.reason == "sms_refund.window_open":
        raise ProtocolError("EARLY_CANCEL_DENIED")
    if outcome.reason == "rental.refund_unavailable":
        raise ProtocolError("NO_NUMBERS")  # the upstream cannot confirm the cancel now: ask again
    raise ProtocolError("BAD_STATUS")  # an SMS came: the price is not refundable


def _offers(params, now):
    country = params.get("country")
    iso = protocol.country_iso(country) if country not in (None, "") else ""
    return catalog.offers(now, country=iso, service=params.get("service", ""))


def get_prices(caller: Caller, params, now) -> dict:
    prices: dict[str, dict] = {}
    for offer in _offers(params, now):
        prices.setdefault(str(protocol.country_id(offer.country)), {})[offer.service.code] = {
            "cost": float(dollars(offer.price_cents)), "count": NOMINAL_COUNT}
    return prices


def get_numbers_status(caller: Caller, params, now) -> dict:
    return {f"{offer.service.code}_0": str(NOMINAL_COUNT) for offer in _offers(params, now)}


def get_countries(caller: Caller, params, now) -> dict:
    on_sale = catalog.countries_on_sale(now)
    return {str(protocol.country_id(iso)): {
        "id": protocol.country_id(iso), "rus": protocol.COUNTRIES[iso].name,
        "eng": protocol.COUNTRIES[iso].name, "chn": protocol.COUNTRIES[iso].name,
        "visible": 1, "retry": 1, "rent": 0, "multiService": 0} for iso in on_sale}


def get_services_list(caller: Caller, params, now) -> dict:
    return {"status": "success",
            "services": [{"code": service.code, "name": service.name} for service in catalog.services()]}


def _activation(rental: Rental) -> dict:
    messages = _messages(rental)
    return {
        "activationId": str(rental.id), "serviceCode": rental.service.code,
        "phoneNumber": protocol.digits(rental.phone), "activationCost": dollars(rental.price_cents),
        "currency": protocol.USD, "activationStatus": "2" if messages else "4",
        "smsCode": [m.code or m.text for m in messages] or None,
        "smsText": json.dumps([m.text for m in messages]) if messages else None,
        "activationTime": stamp(rental.rented_at), "discount": "0.00", "repeated": "0",
        "countryCode": str(protocol.country_id(rental.country)),
        "countryName": protocol.COUNTRIES[rental.country].name, "canGetAnotherSms": "1",
    }


def get_active_activations(caller: Caller, params, now) -> dict:
    active = [r for r in rentals.for_user(caller.user.id).limit(HISTORY_LIMIT)
              if r.state != rentals.REFUNDED and r.closed_at is None and now < r.ends_at + timedelta(minutes=20)]
    if not active:
        return {"status": "error", "error": "NO_ACTIVATIONS"}
    listed = [_activation(r) for r in active]
    # Clients read the list under either name (aiosmsactivate "activeActivations", herosms "data")
    return {"status": "success", "activeActivations": listed, "data": listed}


def get_history(caller: Caller, params, now) -> dict:
    query = rentals.for_user(caller.user.id)
    for name, field, compare in (("start", Rental.rented_at, "ge"), ("end", Rental.rented_at, "le")):
        try:
            moment = datetime.fromtimestamp(int(params[name]), tz=now.tzinfo) if params.get(name) else None
        except (ValueError, OverflowError, OSError):
            moment = None
        if moment is not None:
            query = query.where(field >= moment if compare == "ge" else field <= moment)
    try:
        offset = max(0, int(params.get("offset") or 0))
        limit = min(HISTORY_LIMIT, max(1, int(params.get("limit") or HISTORY_LIMIT)))
    except ValueError:
        offset, limit = 0, HISTORY_LIMIT
    listed = list(query.offset(offset).limit(limit))
    found = rentals.messages_of([r.id for r in listed])
    # An object, not a bare list: a client (aiosmsactivate) reads every JSON answer as one
    return {"status": "success", "data": [
        {"id": str(r.id), "date": stamp(r.rented_at), "phone": protocol.digits(r.phone),
         "sms": [m.code or m.text for m in found[r.id]] or None, "cost": dollars(r.price_cents),
         "status": _history_status(r), "currency": protocol.USD} for r in listed]}


def _history_status(rental: Rental) -> str:
    return {rentals.REFUNDED: "8", rentals.RECEIVED: "6"}.get(rental.state, "4")


ACTIONS: dict[str, Callable] = {
    "getBalance": get_balance, "getNumber": get_number, "getNumberV2": get_number_v2,
    "getStatus": get_status, "getStatusV2": get_status_v2, "setStatus": set_status,
    "getPrices": get_prices, "getNumbersStatus": get_numbers_status, "getCountries": get_countries,
    "getServicesList": get_services_list, "getActiveActivations": get_active_activations,
    "getHistory": get_history,
}


def answer(caller: Caller, params, now) -> tuple[str, bool]:
    """The body of the answer to ``params['action']`` and whether it is JSON."""
    action = ACTIONS.get(params.get("action", ""))
    if action is None:
        raise ProtocolError("BAD_ACTION")
    check_standing(caller.user)
    result = action(caller, params, now)
    if isinstance(result, str):
        return result, False
    return json.dumps(result, ensure_ascii=False), True
