import pytest
from django.conf import settings
from django.contrib.sites.models import Site

from tests.factories import EnvironmentFactory

ENVIRONMENTS = [
    ("Development", "development", 0),
    ("Staging", "staging", 1),
    ("Production", "production", 2),
]


@pytest.fixture
def portal_rows(transactional_db):
    """Restore the rows migrations seed; a transactional test's flush drops them."""
    Site.objects.get_or_create(
        pk=settings.SITE_ID, defaults={"domain": "example.com", "name": "example.com"}
    )
    for name, slug, position in ENVIRONMENTS:
        EnvironmentFactory(name=name, slug=slug, position=position)
