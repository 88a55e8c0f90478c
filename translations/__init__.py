"""The one translation catalog of the policy site and the portal (``catalog``), beside its
``<lang>/LC_MESSAGES/messages.po`` files: both apps read it, neither is the other's library."""
