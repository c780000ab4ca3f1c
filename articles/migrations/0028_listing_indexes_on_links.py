"""An author's and a topic's stories in listing order, newest first, read from their links alone (0026's
`listed_at`). Built CONCURRENTLY on PostgreSQL (docs/deploy.md: indexes on big tables), so that saves go on
while it builds: the links are 30 rows a story."""

from django.db import migrations, models

INDEXES = {
    "byline": models.Index(fields=["author", "-listed_at", "-article"], name="byline_author_listing"),
    "storytopic": models.Index(fields=["topic", "-listed_at", "-article"], name="story_topic_listing"),
}


def add(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for model_name, index in INDEXES.items():
        model = apps.get_model("articles", model_name)
        schema_editor.add_index(model, index, **({"concurrently": True} if postgresql else {}))
        if postgresql:  # 0027 rewrote every link: index-only reads need the visibility map VACUUM sets again
            schema_editor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")


def remove(apps, schema_editor):
    for model_name, index in INDEXES.items():
        schema_editor.remove_index(apps.get_model("articles", model_name), index)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction
    dependencies = [("articles", "0027_fill_listed_at")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add, remove)],
            state_operations=[migrations.AddIndex(name, index) for name, index in INDEXES.items()],
        )
    ]
