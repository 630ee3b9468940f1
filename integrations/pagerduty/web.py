"""Links to PagerDuty's own web pages.

PagerDuty's API answers with `html_url`s on `<subdomain>.pagerduty.com`.
With PAGERDUTY_WEB_URL set (the demo points it at the sandbox's `/web`),
those links and the App Registration link go there instead, so a demo
never sends anyone to pagerduty.com.
"""

from urllib.parse import urlsplit

from django.conf import settings

PAGERDUTY_HOST = ".pagerduty.com"


def web_url(subdomain: str, path: str) -> str:
    """Return the address of a page of an account's PagerDuty web app."""
    base = settings.PAGERDUTY_WEB_URL
    if base:
        return f"{base.rstrip('/')}{path}"
    return f"https://{subdomain}{PAGERDUTY_HOST}{path}"


def web_link(html_url: str) -> str:
    """Return an API `html_url`, pointed at PAGERDUTY_WEB_URL when set.

    Anything that is not an https link to a pagerduty.com page becomes "",
    so a page never links to what an upstream answer made up.
    """
    if not isinstance(html_url, str):
        return ""
    parts = urlsplit(html_url)
    host = parts.hostname or ""
    if parts.scheme != "https" or not (
        host == PAGERDUTY_HOST[1:] or host.endswith(PAGERDUTY_HOST)
    ):
        return ""
    base = settings.PAGERDUTY_WEB_URL
    if not base:
        return html_url
    query = f"?{parts.query}" if parts.query else ""
    return f"{base.rstrip('/')}{parts.path}{query}"
