"""A consent receipt as the Kantara Initiative Consent Receipt Specification v1.1 shapes it
(``KI-CR-v1.1.0``): pure, from what the portal recorded of one consent.

The purpose is the consent's own words; the PII categories and the purpose category are
the spec's names (its appendices); nothing sensitive is collected (``sensitive`` false,
``spiCat`` empty) and nothing is disclosed to third parties.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "KI-CR-v1.1.0"
COLLECTION_METHODS = {
    "deposit": "web form: the deposit form of the portal",
    "rental": "web form: the rent form of the portal",
    "api": "web form: the API section of the account page",
}
PII_CATEGORIES = {
    "deposit": ["Contact", "Financial"],
    "rental": ["Contact", "Network/Service"],
    "api": ["Contact", "Network/Service"],
}


@dataclass(frozen=True)
class Controller:
    """The PII controller named on every receipt (the portal's settings)."""

    name: str
    contact: str
    address: str
    email: str
    phone: str
    url: str


@dataclass(frozen=True)
class Given:
    """What the portal knows of one consent, ready for a receipt."""

    receipt_id: str
    action: str
    timestamp: int  # seconds since the epoch
    jurisdiction: str  # the consumer's country (ISO 3166-1 alpha-2)
    language: str  # ISO 639-1
    principal: str  # the account's e-mail address
    text: str  # the consent's words as shown
    service: str  # what it was given for, in words
    policy_url: str  # the permanent address of the Terms version
    termination: str  # where the policy says when the consent ends


def receipt(given: Given, controller: Controller) -> dict:
    """The receipt's JSON object."""
    return {
        "version": VERSION,
        "jurisdiction": given.jurisdiction,
        "consentTimestamp": given.timestamp,
        "collectionMethod": COLLECTION_METHODS[given.action],
        "consentReceiptID": given.receipt_id,
        "language": given.language,
        "piiPrincipalId": given.principal,
        "piiControllers": [{
            "piiController": controller.name,
            "onBehalf": False,
            "contact": controller.contact,
            "address": {"streetAddress": controller.address},
            "email": controller.email,
            "phone": controller.phone,
            "piiControllerUrl": controller.url,
        }],
        "policyUrl": given.policy_url,
        "services": [{
            "service": given.service,
            "purposes": [{
                "purpose": given.text,
                "purposeCategory": ["Contracted Service"],
                "consentType": "EXPLICIT",
                "piiCategory": PII_CATEGORIES[given.action],
                "primaryPurpose": True,
                "termination": given.termination,
                "thirdPartyDisclosure": False,
            }],
        }],
        "sensitive": False,
        "spiCat": [],
    }
