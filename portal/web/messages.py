"""Every message code the portal can show, with its English text (translated by
flask-babel). Policy ``Decision.reason`` codes are here too: each one shown to a user has
a message, and the policy page has a clause anchor for it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    "email.invalid": _l("Enter a valid email address."),
    "email.taken": _l("An account with this email address already exists."),
    "password.too_short": _l("Use at least 10 characters."),
    "password.too_long": _l("Use at most 256 characters."),
    "password.wrong": _l("The current password is not correct."),
    "password.mismatch": _l("The two new passwords differ."),
    "language.invalid": _l("Choose one of the offered languages."),
    "country.invalid": _l("Choose your country from the list."),
    "time_zone.invalid": _l("Choose your time zone from the list."),
    "terms.not_accepted": _l("You must accept the %(policy)s to open an account."),
    "terms.not_acceptable": _l("This version cannot be accepted: it is not published yet, or you accepted it or a later one already."),
    "login.failed": _l("Wrong email address or password."),
    "login.limited": _l("Too many failed attempts. Wait a minute and try again."),
    "registration.limited": _l("Too many new accounts from your network in the last hour. Try again later."),
    "amount.missing": _l("Enter an amount."),
    "amount.invalid": _l("Enter an amount in US dollars, such as 25 or 25.50."),
    "method.invalid": _l("Choose a payment method."),
    "deposit.below_minimum": _l("The minimum deposit is %(minimum)s."),
    "deposit.above_maximum": _l("The maximum deposit is %(maximum)s."),
    "eu.withdrawal_waiver": _l(
        "Please tick the box: as a consumer in the EU you must expressly agree that we "
        "perform at once and that you thereby lose your right of withdrawal."
    ),
    "processor.unavailable": _l("The payment processor cannot be reached. Nothing was charged; try again in a moment."),
    # Support tickets, card refunds and account standing (issue 7)
    "ticket.category_invalid": _l("Choose what your request is about."),
    "ticket.subject_missing": _l("Enter a subject."),
    "ticket.subject_too_long": _l("Use at most 120 characters for the subject."),
    "ticket.message_missing": _l("Write a message."),
    "ticket.message_too_long": _l("Use at most 5000 characters for the message."),
    "ticket.deposit_missing": _l("Choose one of your credited card deposits."),
    "ticket.refund_requested": _l("A refund of this deposit has already been requested."),
    "card_refund.allowed": _l("Refundable to the card."),
    "card_refund.spent_since": _l("Not refundable: spent since."),
    "card_refund.window_passed": _l("Not refundable: the refund window has passed."),
    "card_refund.crypto_final": _l("Not refundable: crypto deposits are final."),
    "card_refund.disputed": _l("Not refundable: the payment is disputed with your card's issuer."),
    "account.restricted": _l("A card payment of yours is disputed: deposits and rentals are paused until the dispute is closed. Support tickets still work."),
    "card_refund.outside_criteria": _l("The request is outside the refund criteria of the policy."),
    "card_refund.already_decided": _l("This request has already been decided."),
    "ticket.not_open": _l("This ticket is not open."),
    "api.name_too_long": _l("Use at most 64 characters for the key's name."),
    "api.not_revocable": _l("This key is not yours or was revoked already."),
    "webhook.url_invalid": _l("Enter a web address such as https://example.com/hooks/sms."),
    "webhook.url_not_https": _l("The webhook address must start with https://."),
    "webhook.url_unresolvable": _l("This host name cannot be found."),
    "webhook.url_private": _l("This address points to a private network; webhooks go only to public addresses."),
    "webhook.not_resendable": _l("This delivery cannot be sent again (it is still being sent)."),
    "standing.invalid": _l("Choose an action."),
    "standing.reason_missing": _l("Give a reason."),
    "standing.reason_too_long": _l("Use at most 1000 characters for the reason."),
    "standing.not_applicable": _l("This action does not apply to the account as it stands."),
    "held.not_creditable": _l("This payment came in another currency than the deposit's: it can only be returned to the card."),
    "held.not_returned": _l("The card processor did not take the refund (it refused it or could not be reached); the payment is still held. Try again, or refund it in the processor's dashboard."),
    "held.not_held": _l("This payment is no longer held."),
    "dispute.not_open": _l("This dispute is closed or its evidence was already submitted."),
    "dispute.not_submitted": _l("The card processor did not take the evidence (it refused it or could not be reached), so it is not recorded as submitted. Try again, or submit it in the processor's dashboard."),
    "dispute.deposit_invalid": _l("Give the reference of a credited card deposit that is not disputed yet."),
    "account.not_active": _l("Your account is suspended: deposits and rentals are not possible."),
    # Number rentals and failed-SMS refunds (issue 6)
    "rental.unknown_service": _l("This country and service are not on offer. Nothing was charged."),
    "rental.insufficient_funds": _l("Your balance is too low for this number (%(price)s). Add funds and try again; nothing was charged."),
    "rental.no_numbers": _l("No number is free for this country and service right now. Nothing was charged; try again later or choose another country."),
    "rental.provider_unavailable": _l("Our number provider cannot be reached. Nothing was charged; try again in a moment."),
    "rental.account_suspended": _l("Your account is suspended, so you cannot rent numbers. Reason: %(reason)s"),
    "rental.account_restricted": _l("A card payment of yours is disputed, so you cannot rent numbers until the dispute is closed."),
    "rental.account_terminated": _l("Your account is closed, so you cannot rent numbers. Reason: %(reason)s"),
    "rental.rented": _l("Number rented: %(phone)s. Use it now; the SMS will show here."),
    "rental.refund_unavailable": _l("The provider could not confirm that the number is cancelled. Nothing was credited yet; try again in a moment."),
    "sms_refund.allowed": _l("%(price)s was credited to your balance."),
    "sms_refund.window_open": _l("The wait window is still open: you can ask for a refund in %(left)s (at %(opens)s) if no SMS arrives by then."),
    "sms_refund.sms_received": _l("An SMS was received for this number, so its price is not refundable."),
    "sms_refund.already_refunded": _l("This number has already been refunded."),
    "price.out_of_range": _l("Enter a price greater than zero and at most 100 US dollars."),
    # The withdrawal function (issue 16): what a withdrawal does with each item, and its form
    "withdrawal.card_refund": _l("Unspent and within its refund window: this deposit becomes a card refund request. Once approved, the refund goes back to your card."),
    "withdrawal.refund_requested": _l("A card refund of this deposit has already been requested."),
    "withdrawal.waived": _l("You asked for immediate performance and acknowledged that you thereby lose your right of withdrawal, and it was performed: there is no right of withdrawal for it."),
    "withdrawal.staff_review": _l("Our support team reviews this item and contacts you."),
    "withdrawal.closed": _l("There is nothing left to withdraw from: it was refunded already."),
    "withdrawal.nothing_chosen": _l("Choose at least one deposit or number rental to withdraw from."),
    "withdrawal.item_unknown": _l("One of the chosen items is not yours or can no longer be withdrawn from. Nothing was recorded; choose again."),
    "withdrawal.form_expired": _l("This form has expired. Nothing was recorded; open the withdrawal page again."),
}


def message(code: str, **values) -> str:
    """The translated text of ``code`` in the current language."""
    text = str(MESSAGES[code])
    return text % values if values else text

