"""Fills `listed_at` (0026) for the links that existed before its triggers, in batches that each commit (a save
waits for one batch at most); the triggers keep every link written since. Idempotent: run again, it finds
nothing left to fill."""

from django.db import migrations

BATCH = 20_000  # links a statement


def fill(apps, schema_editor):
    connection = schema_editor.connection
    for model in [apps.get_model("articles", "Byline"), apps.get_model("articles", "StoryTopic")]:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT min(id), max(id) FROM {table}")
            first, last = cursor.fetchone()
            for start in range(first or 0, (last or -1) + 1, BATCH):
                cursor.execute(
                    f"""
                    UPDATE {table} SET listed_at = (
                        SELECT story.published_at FROM articles_article story
                        WHERE story.id = {table}.article_id AND story.status = 'published'
                    )
                    WHERE id >= %s AND id < %s AND listed_at IS NULL
                    """,
                    [start, start + BATCH],
                )


class Migration(migrations.Migration):
    atomic = False  # each batch commits on its own
    dependencies = [("articles", "0026_listed_at")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
