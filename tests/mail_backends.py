"""Email backends for tests: locmem, with addresses that bounce."""

import smtplib

from django.core.mail.backends import locmem

BOUNCING_DOMAIN = "@bounce.example"


class BouncingBackend(locmem.EmailBackend):
    """Keep mail in `mail.outbox`; refuse recipients at bounce.example.

    The refusal is smtplib's, as Django's SMTP backend would raise it.
    """

    def send_messages(self, messages):
        for message in messages:
            refused = [a for a in message.recipients() if a.endswith(BOUNCING_DOMAIN)]
            if refused:
                raise smtplib.SMTPRecipientsRefused(
                    {a: (550, b"mailbox unavailable") for a in refused}
                )
        return super().send_messages(messages)
