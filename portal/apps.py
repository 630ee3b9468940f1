from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from portal import checks  # noqa: F401 - registers the system checks
        from portal.sessions import stamp_sign_in
        from portal.timezones import stamp_time_zone

        user_logged_in.connect(stamp_sign_in, dispatch_uid="portal-idle-clock")
        user_logged_in.connect(stamp_time_zone, dispatch_uid="portal-time-zone")
