"""Realistic verification SMS for the simulator, one template per service code.

Service codes are the short ones of the SMS-Activate protocol (wa WhatsApp, tg Telegram,
go Google, ...). A template has a code length and a text with ``{code}`` (the digits the
user types) and optionally ``{shown}`` (the code as the service prints it, e.g. 123-456).
Unknown services get a generic text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Template:
    digits: int
    text: str
    shown: Callable[[str], str] = str

    def render(self, code: str) -> str:
        return self.text.format(code=code, shown=self.shown(code))


def _split_half(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def _space_half(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]} {code[half:]}"


TEMPLATES: dict[str, Template] = {
    "wa": Template(
        6, "Your WhatsApp code is {shown}. Don't share this code with others", _split_half
    ),
    "tg": Template(
        5,
        "Telegram code: {code}\n\nDo not give this code to anyone, even if they say they are"
        " from Telegram! This code can be used to log in to your Telegram account.",
    ),
    "go": Template(6, "G-{code} is your Google verification code."),
    "fb": Template(5, "FB-{code} is your Facebook confirmation code"),
    "ig": Template(6, "{shown} is your Instagram code. Don't share it.", _space_half),
    "tw": Template(6, "Your X verification code is {code}."),
    "ds": Template(6, "Your Discord verification code is: {code}"),
    "vi": Template(6, "Your Viber code: {code}. Don't share it with anyone."),
    "wb": Template(6, "[WeChat] Your verification code is {code}. It expires in 5 minutes."),
    "mm": Template(4, "Use {code} as Microsoft account security code"),
    "wx": Template(6, "Your Apple Account code is: {code}. Don't share it with anyone."),
    "am": Template(6, "{code} is your Amazon OTP. Do not share it with anyone."),
    "ub": Template(4, "Your Uber code is {code}. Never share this code."),
    "oi": Template(6, "Your Tinder code is {code}. Don't share it."),
    "lf": Template(6, "[TikTok] {code} is your verification code, valid for 5 minutes."),
    "ts": Template(6, "PayPal: {code} is your security code. Don't share your code."),
    "nf": Template(4, "Your Netflix verification code is {code}."),
}

GENERIC = Template(6, "Your verification code is {code}. Do not share it with anyone.")


def template(service: str) -> Template:
    return TEMPLATES.get(service, GENERIC)
