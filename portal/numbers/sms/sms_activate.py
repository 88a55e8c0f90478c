"""A client for the SMS-Activate handler protocol, spoken by many number upstreams.

Every call is ``GET {base}/stubs/handler_api.php?api_key=..&action=..`` answered by one
line of text:

    getNumber  service, country  ACCESS_NUMBER:<id>:<phone> | NO_NUMBERS | NO_BALANCE | ...
    getStatus  id                STATUS_WAIT_CODE | STATUS_WAIT_RESEND | STATUS_CANCEL |
                                 STATUS_OK:<code> | STATUS_WAIT_RETRY:<previous code>
    getFullSms id                FULL_SMS:<text of the SMS> (not every upstream has it)
    setStatus  id, status=8      ACCESS_CANCEL (cancel) | EARLY_CANCEL_DENIED | BAD_STATUS
    setStatus  id, status=6      ACCESS_ACTIVATION (finish)
    setStatus  id, status=3      ACCESS_RETRY_GET (another SMS: getStatus answers
                                 STATUS_WAIT_RETRY:<previous code> until it comes)
    getActiveActivations         JSON {"status": "success", "activeActivations": [{
                                 "activationId", "smsCode", "smsText", ...}, ...]} or
                                 {"status": "error", "error": "NO_ACTIVATIONS"}

Errors are words (BAD_KEY, BAD_SERVICE, BAD_ACTION, NO_ACTIVATION, ERROR_SQL, ...), some
upstreams with a 4xx status; the body decides, whatever the status.

Choices, where the protocol leaves room:
- getStatus carries only the code. When it reports one, the client asks getFullSms for
  the full text; if that answers anything but FULL_SMS (unsupported action, an error), the
  message text is the code itself; if it fails transiently, ``status`` raises
  ``ProviderUnavailable`` (poll again) rather than lose the text. The protocol gives no
  arrival time: ``received_at`` is None.
- STATUS_WAIT_RETRY:<code> means a code did arrive (the upstream waits for another one
  we never ask for), so it reads as ``received``.
- The protocol cannot say ``finished``; after ``finish`` the portal's own record says so.
- getNumber is never retried once the request may have reached the upstream (see
  ``transport``). A timeout there is ambiguous: a number may have been rented and is left
  to expire at the upstream, which cancels unused activations by itself.
- ``statuses`` asks getActiveActivations once for every open activation (``smsCode`` and
  ``smsText`` may each be a string, a list or null; a list holds every SMS received). An
  upstream that answers BAD_ACTION there is asked per activation from then on, at most
  eight at a time. An activation the list leaves out is not reported (the portal's clock
  decides its window).
- ``cancel`` reads the status first and cancels only a waiting number. If the upstream
  refuses the cancel, the status is read again: a code that arrived meanwhile is returned
  as ``received``; a number cancelled by an earlier, lost answer reads as ``cancelled``.
"""

from __future__ import annotations

import json
import re
import time
from typing import Callable, NoReturn, Sequence

from .base import (
    Activation, Message, NoNumbers, ProviderRejected, ProviderUnavailable, Status, one_by_one,
)
from .countries import COUNTRIES
from .transport import Transport

HANDLER_PATH = "/stubs/handler_api.php"
CANCEL, FINISH, RETRY = "8", "6", "3"

REJECTIONS = {
    "BAD_KEY": "provider.bad_key",
    "NO_BALANCE": "provider.no_balance",
    "BAD_SERVICE": "provider.bad_service",
    "BAD_ACTION": "provider.bad_action",
    "BAD_STATUS": "provider.bad_status",
    "NO_ACTIVATION": "provider.no_activation",
    "WRONG_ACTIVATION_ID": "provider.no_activation",
    "EARLY_CANCEL_DENIED": "provider.early_cancel_denied",
    "BANNED": "provider.banned",
    "WRONG_MAX_PRICE": "provider.wrong_max_price",
}
_ACTIVATION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PHONE = re.compile(r"\+?([0-9]{6,15})")
ACTIVE_LIST_MAX_BODY = 4 * 1024 * 1024  # thousands of activations, a few hundred bytes each


class SmsActivateClient:
    """``SmsProvider`` over the handler protocol."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.25,
        full_sms: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        base = base_url.rstrip("/")
        url = base if base.endswith(".php") else base + HANDLER_PATH
        self.api_key = api_key
        self.full_sms = full_sms
        self.batched = True  # until the upstream says it has no getActiveActivations
        self.transport = Transport(
            url, timeout=timeout, retries=retries, backoff=backoff,
            transient_answers=frozenset({"ERROR_SQL"}), sleep=sleep,
        )

    def rent(self, *, country: str, service: str) -> Activation:
        if country not in COUNTRIES:
            raise ProviderRejected(
                f"no upstream id for country {country!r}", reason="provider.bad_country"
            )
        answer = self._call(
            "getNumber", idempotent=False,
            service=service, country=str(COUNTRIES[country].sms_activate_id),
        )
        word, _, rest = answer.partition(":")
        if word != "ACCESS_NUMBER":
            _raise_for("getNumber", answer)
        activation_id, _, phone = rest.partition(":")
        digits = _PHONE.fullmatch(phone)
        if not (_ACTIVATION_ID.fullmatch(activation_id) and digits):
            raise ProviderUnavailable(f"getNumber: malformed answer {answer[:80]!r}")
        return Activation(activation_id, "+" + digits[1])

    def status(self, activation_id: str) -> Status:
        answer = self._call("getStatus", id=activation_id)
        word, _, code = answer.partition(":")
        if word in ("STATUS_WAIT_CODE", "STATUS_WAIT_RESEND") and not code:
            return Status("waiting")
        if word == "STATUS_CANCEL" and not code:
            return Status("cancelled")
        if word in ("STATUS_OK", "STATUS_WAIT_RETRY") and code.strip():
            return Status("received", (self._message(activation_id, code.strip()),))
        _raise_for("getStatus", answer)

    def statuses(self, activation_ids: Sequence[str]) -> dict[str, Status]:
        if not activation_ids:
            return {}
        if self.batched:
            answer = self.transport.get({"api_key": self.api_key, "action": "getActiveActivations"},
                                        idempotent=True, max_body=ACTIVE_LIST_MAX_BODY)
            if answer.partition(":")[0] != "BAD_ACTION":
                wanted = set(activation_ids)
                return {key: status for key, status in _active_list(answer).items() if key in wanted}
            self.batched = False
        return one_by_one(self.status, activation_ids)

    def cancel(self, activation_id: str) -> Status:
        before = self.status(activation_id)
        if before.state != "waiting":
            return before
        answer = self._call("setStatus", status=CANCEL, id=activation_id)
        if answer == "ACCESS_CANCEL":
            return Status("cancelled")
        after = self.status(activation_id)
        if after.state != "waiting":
            return after
        _raise_for("setStatus", answer)

    def finish(self, activation_id: str) -> None:
        answer = self._call("setStatus", status=FINISH, id=activation_id)
        if answer != "ACCESS_ACTIVATION":
            _raise_for("setStatus", answer)

    def retry(self, activation_id: str) -> None:
        answer = self._call("setStatus", status=RETRY, id=activation_id)
        if answer != "ACCESS_RETRY_GET":
            _raise_for("setStatus", answer)

    def _message(self, activation_id: str, code: str) -> Message:
        if self.full_sms:
            word, _, text = self._call("getFullSms", id=activation_id).partition(":")
            if word == "FULL_SMS" and text.strip():
                return Message(text=text.strip(), code=code)
        return Message(text=code, code=code)

    def _call(self, action: str, *, idempotent: bool = True, **params: str) -> str:
        query = {"api_key": self.api_key, "action": action, **params}
        return self.transport.get(query, idempotent=idempotent)


def _active_list(answer: str) -> dict[str, Status]:
    """The statuses in a getActiveActivations answer (see the module's notes)."""
    try:
        data = json.loads(answer)
    except ValueError:
        if answer in ("NO_ACTIVATIONS", "NO_ACTIVATION"):
            return {}
        _raise_for("getActiveActivations", answer)
    if not isinstance(data, dict):
        raise ProviderUnavailable(f"getActiveActivations: not an object: {answer[:80]!r}")
    if data.get("status") != "success":
        error = str(data.get("error") or data.get("message") or "")
        if error in ("NO_ACTIVATIONS", "NO_ACTIVATION"):
            return {}
        _raise_for("getActiveActivations", error or answer)
    items = data.get("activeActivations")
    if not isinstance(items, list):
        raise ProviderUnavailable("getActiveActivations: no activeActivations list")
    found: dict[str, Status] = {}
    for item in items:
        activation_id = str(item.get("activationId", "")) if isinstance(item, dict) else ""
        if not _ACTIVATION_ID.fullmatch(activation_id):
            continue  # a malformed entry says nothing about ours
        codes = [code for code in _strings(item.get("smsCode")) if code]
        texts = _strings(item.get("smsText"))
        if not codes:
            found[activation_id] = Status("waiting")
            continue
        messages = tuple(Message(text=(texts[i] if i < len(texts) and texts[i] else code), code=code)
                         for i, code in enumerate(codes))
        found[activation_id] = Status("received", messages)
    return found


def _strings(value) -> list[str]:
    """A field that upstreams send as null, a string, a list, or a list encoded as a string."""
    if value is None:
        return []
    if isinstance(value, str) and value.startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            return [value.strip()]
    if isinstance(value, list):
        return [str(item).strip() for item in value if item is not None]
    return [str(value).strip()]


def _raise_for(action: str, answer: str) -> NoReturn:
    word = answer.partition(":")[0]
    if word == "NO_NUMBERS":
        raise NoNumbers(f"{action}: {answer[:80]}")
    if word in REJECTIONS:
        raise ProviderRejected(f"{action}: {answer[:80]}", reason=REJECTIONS[word])
    raise ProviderUnavailable(f"{action}: unexpected answer {answer[:80]!r}")
