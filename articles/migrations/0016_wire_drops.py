import django.utils.timezone
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

# Editors see the wire drop folder's history (Admin → Wire drops); nobody changes it by hand.
PERMISSIONS = ["view_wiredrop"]


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations have run; the group needs them now.
    app_config = apps.get_app_config("articles")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Editors")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="articles", codename__in=PERMISSIONS))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name="Editors"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="articles", codename__in=PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0015_import_jobs"),
    ]

    operations = [
        migrations.CreateModel(
            name="WireDrop",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(help_text="The file's name in the drop folder.", max_length=255)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("importing", "Importing"),
                            ("imported", "Imported"),
                            ("failed", "Failed"),
                            ("interrupted", "Interrupted, back in the folder"),
                        ],
                        default="importing",
                        max_length=12,
                    ),
                ),
                ("stories_created", models.PositiveIntegerField(default=0)),
                ("stories_updated", models.PositiveIntegerField(default=0)),
                ("stories_unchanged", models.PositiveIntegerField(default=0)),
                (
                    "conflicts",
                    models.PositiveIntegerField(default=0, help_text="Stories an editor changed: kept the editor's."),
                ),
                ("reason", models.TextField(blank=True, help_text="Why it failed: file:line and the problem.")),
                ("location", models.CharField(blank=True, help_text="Where the file is now.", max_length=1024)),
                ("watcher", models.CharField(max_length=255)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["-started_at"],
                "indexes": [models.Index(fields=["-started_at"], name="articles_wiredrop_started")],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
