"""Create the demo's tenants and logins; safe to run again."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from integrations.models import Environment, Membership, Tenant

DEMO_TENANTS = [
    ("development", "Acme Corp", "acme"),
    ("development", "Globex", "globex"),
    ("production", "Initech", "initech"),
]
# (username, password, email, is_staff, tenant slug, role)
DEMO_USERS = [
    ("admin", "admin", "admin@portal.example", True, None, None),
    ("alice", "alice", "alice@acme.example", False, "acme", Membership.Role.ADMIN),
    ("bob", "bob", "bob@acme.example", False, "acme", Membership.Role.MEMBER),
    ("gina", "gina", "gina@globex.example", False, "globex", Membership.Role.ADMIN),
    ("ian", "ian", "ian@initech.example", False, "initech", Membership.Role.ADMIN),
]


class Command(BaseCommand):
    help = (
        "Seed demo tenants and the admin/alice/bob/gina/ian logins (for local "
        "demos only)."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        tenants = {}
        for env_slug, name, slug in DEMO_TENANTS:
            environment = Environment.objects.get(slug=env_slug)
            tenants[slug], _ = Tenant.objects.get_or_create(
                environment=environment, slug=slug, defaults={"name": name}
            )
        User = get_user_model()
        for username, password, email, is_staff, tenant_slug, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": email}
            )
            if created:
                user.set_password(password)
            user.is_staff = user.is_superuser = is_staff
            user.save()
            if tenant_slug:
                Membership.objects.update_or_create(
                    user=user, tenant=tenants[tenant_slug], defaults={"role": role}
                )
        self.stdout.write("Demo logins (username / password):")
        self.stdout.write("  admin / admin  staff: portal admin and Django admin")
        self.stdout.write("  alice / alice  Acme Corp tenant admin")
        self.stdout.write("  bob   / bob    Acme Corp member")
        self.stdout.write(
            "  gina  / gina   Globex tenant admin (its own PagerDuty app)"
        )
        self.stdout.write("  ian   / ian    Initech tenant admin (Production, Classic)")
