"""A person's own display preferences."""

from django.db import transaction

from integrations.models import UserPreference


@transaction.atomic
def user_preference_set_time_zone(*, user, time_zone: str) -> UserPreference:
    """Store the time zone the portal shows this person's times in."""
    preference, _created = UserPreference.objects.select_for_update().get_or_create(
        user=user
    )
    preference.time_zone = time_zone
    preference.full_clean()
    preference.save()
    return preference
