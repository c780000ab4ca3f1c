from django.contrib.auth.management import create_permissions
from django.db import migrations

REPORTER_PERMISSIONS = [
    "add_article", "change_article", "view_article",
    "add_caption", "change_caption", "delete_caption", "view_caption",
    "add_photo", "change_photo", "view_photo",
    "view_section", "view_routingrule", "view_correction", "view_redirect",
    "add_previewlink", "change_previewlink", "view_previewlink",
]
EDITOR_MODELS = ["article", "caption", "photo", "section", "routingrule", "correction", "redirect", "previewlink"]
EDITOR_PERMISSIONS = [
    f"{action}_{model}" for model in EDITOR_MODELS for action in ("add", "change", "delete", "view")
] + ["publish_article"]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations have run; the groups need them now.
    app_config = apps.get_app_config("articles")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in [("Reporters", REPORTER_PERMISSIONS), ("Editors", EDITOR_PERMISSIONS)]:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="articles", codename__in=codenames)
        )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Reporters", "Editors"]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0004_desk_permissions_and_preview_links"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
