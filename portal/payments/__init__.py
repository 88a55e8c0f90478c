"""Payment adapters: the portal's only contact with payment processors.

- ``card``: Stripe Checkout sessions, refunds and signed webhook events, through the
  official ``stripe`` library.
- ``crypto``: a processor following NOWPayments' conventions (BTC, ETH, USDT): hosted
  invoices and HMAC-SHA512 signed IPN callbacks.
- ``demo``: the embedded demo processor's signing side, which produces exactly what the
  real processors send, so demo and production share one webhook code path.
- ``errors``: ``InvalidWebhook`` (a stable ``reason`` code) and ``ProcessorError``.
- ``amounts``: the positive-int check on amounts we ask a processor to move.

Everything here is pure with respect to the portal: no Flask, no database. Amounts are
``int`` minor units in and out; ``Decimal`` and ``Fraction`` appear only while parsing.
"""
