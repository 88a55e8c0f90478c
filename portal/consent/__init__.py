"""An EU consumer's rights around the withdrawal-waiver consent: the receipt of every
consent (``receipts``, its Kantara JSON in ``kantara``) and the withdrawal function of
Directive 2011/83/EU art. 11a (``withdrawal_rules`` decide, ``withdrawals`` record)."""
