from django.db import migrations

ENVIRONMENTS = [
    ("Development", "development", 0),
    ("Staging", "staging", 1),
    ("Production", "production", 2),
]


def seed(apps, schema_editor):
    Environment = apps.get_model("integrations", "Environment")
    for name, slug, position in ENVIRONMENTS:
        Environment.objects.get_or_create(
            slug=slug, defaults={"name": name, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
