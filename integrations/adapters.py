from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """Return whether open sign-up is allowed (off unless configured)."""
        return settings.ACCOUNT_ALLOW_SIGNUP
