"""Changes of the Payment & Refund Policy as customers meet them: which version each one
accepted and when (``acceptances``), what changed since (``texts``: the site's own redline),
the one-time banner after a change takes effect (``banner``) and the e-mail notice of a
material change (``notices``). The pure rules are in ``rules``."""
