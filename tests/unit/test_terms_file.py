"""portal/terms.toml, the file editors change: read into the same Terms as written, and
every mistake refused with a message naming the file, the version and the field."""

from __future__ import annotations

import pytest

from portal import policy

FIRST = '''[[terms]]
version = "2026-11-24"
published = 2026-11-24
effective = 2026-11-24
material = false
card_refund_window = "7 days"
crypto_currencies = ["BTC", "ETH", "USDT"]
failed_sms_credit_within = "24 hours"
support_response_hours = [24, 48]
support_email = "support@1001sms.com"
notice_period = "30 days"
business_days = [0, 1, 2, 3, 4]
business_timezone = "UTC"
default_sms_wait = "20 minutes"
currency = "USD"
deposit_min_cents = 500
deposit_max_cents = 100000
refund_abuse_max_refunds = 10
refund_abuse_max_ratio_percent = 50
refund_abuse_min_rentals = 6
refund_abuse_period = "30 days"
'''


def load(tmp_path, text: str):
    path = tmp_path / "my-terms.toml"
    path.write_text(text)
    return policy.load_terms(path)


def test_a_block_is_read_into_the_terms_it_writes(tmp_path):
    assert load(tmp_path, FIRST) == policy.TERMS[:1]


@pytest.mark.parametrize("old, new, message", [
    ('card_refund_window = "7 days"', 'card_refund_window = "7"', 'card_refund_window must be a duration'),
    ('card_refund_window = "7 days"', 'card_refund_window = "7 weeks"', 'card_refund_window must be a duration'),
    ('card_refund_window = "7 days"', 'card_refund_window = "٧ days"', 'card_refund_window must be a duration'),
    ('published = 2026-11-24', 'published = "2026-11-24"', 'published must be a date'),
    ('effective = 2026-11-24', 'effective = 2026-11-24T10:00:00', 'effective must be a date'),
    ('material = false', 'material = 0', 'material must be a bool'),
    ('deposit_min_cents = 500', 'deposit_min_cents = true', 'deposit_min_cents must be a int'),
    ('deposit_min_cents = 500', 'deposit_min_cents = "500"', 'deposit_min_cents must be a int'),
    ('business_days = [0, 1, 2, 3, 4]', 'business_days = [0, "1"]', 'business_days must be a list of int'),
    ('crypto_currencies = ["BTC", "ETH", "USDT"]', 'crypto_currencies = "BTC"', 'crypto_currencies must be a list of str'),
    ('currency = "USD"\n', '', "missing ['currency']"),
    ('currency = "USD"', 'currency = "USD"\ncolour = "red"', "unknown ['colour']"),
])
def test_a_mistake_is_refused_naming_the_file_version_and_field(tmp_path, old, new, message):
    assert old in FIRST
    with pytest.raises(ValueError) as refused:
        load(tmp_path, FIRST.replace(old, new, 1))
    assert str(refused.value).startswith("my-terms.toml, version 2026-11-24: ") and message in str(refused.value)


@pytest.mark.parametrize("text", [
    "",  # no version at all
    FIRST + "\n" + FIRST,  # the same version twice
    FIRST.replace("2026-11-24", "2027-01-01") + "\n" + FIRST,  # not ordered by the day they take effect
])
def test_the_versions_must_be_there_once_each_in_order(tmp_path, text):
    with pytest.raises(ValueError, match="my-terms.toml: the versions must be there"):
        load(tmp_path, text)
