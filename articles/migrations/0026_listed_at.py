"""Each byline and topic link keeps its story's place in the listings (`listed_at`: the story's publication
time while it is published, else null), so that an author's or a topic's page reads its stories in order from
that link's own index (0028), at any depth, instead of walking the whole archive's listing to find them.

Triggers keep it, on both databases, whatever writes: a link inserted or changed (by any release's code, a
revision's revert, the importer, COPY) takes it from its story; a story whose status or time changes passes it
to its links. Django never decides it (the field is not editable or serialized). Filled for existing links by 0027.
"""

from django.db import migrations, models

LINKS = ["articles_byline", "articles_storytopic"]
LISTED = "CASE WHEN story.status = 'published' THEN story.published_at END"

POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION articles_link_listed_at() RETURNS trigger AS $$
    BEGIN
        NEW.listed_at := (SELECT {LISTED} FROM articles_article story WHERE story.id = NEW.article_id);
        RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE OR REPLACE FUNCTION articles_story_listed_at() RETURNS trigger AS $$
    DECLARE listed timestamptz := CASE WHEN NEW.status = 'published' THEN NEW.published_at END;
    BEGIN
        UPDATE articles_byline SET listed_at = listed WHERE article_id = NEW.id AND listed_at IS DISTINCT FROM listed;
        UPDATE articles_storytopic SET listed_at = listed
            WHERE article_id = NEW.id AND listed_at IS DISTINCT FROM listed;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    *(
        f"CREATE OR REPLACE TRIGGER {table}_listed_at BEFORE INSERT OR UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION articles_link_listed_at()"
        for table in LINKS
    ),
    "CREATE OR REPLACE TRIGGER articles_article_listed_at AFTER UPDATE OF status, published_at ON articles_article "
    "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.published_at IS DISTINCT FROM NEW.published_at) "
    "EXECUTE FUNCTION articles_story_listed_at()",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS articles_article_listed_at ON articles_article",
    *(f"DROP TRIGGER IF EXISTS {table}_listed_at ON {table}" for table in LINKS),
    "DROP FUNCTION IF EXISTS articles_story_listed_at()",
    "DROP FUNCTION IF EXISTS articles_link_listed_at()",
]

# SQLite's triggers cannot change the row being written, so they update it once written (recursive triggers
# are off: a trigger's own UPDATE does not fire it again).
SQLITE = [
    *(
        f"""
        CREATE TRIGGER {table}_listed_at_{event.lower()} AFTER {event} ON {table} BEGIN
            UPDATE {table} SET listed_at = (
                SELECT {LISTED} FROM articles_article story WHERE story.id = NEW.article_id
            ) WHERE id = NEW.id;
        END
        """
        for table in LINKS
        for event in ["INSERT", "UPDATE"]
    ),
    f"""
    CREATE TRIGGER articles_article_listed_at AFTER UPDATE OF status, published_at ON articles_article
    WHEN OLD.status IS NOT NEW.status OR OLD.published_at IS NOT NEW.published_at BEGIN
        {"".join(f'''
        UPDATE {table} SET listed_at = CASE WHEN NEW.status = 'published' THEN NEW.published_at END
            WHERE article_id = NEW.id;''' for table in LINKS)}
    END
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS articles_article_listed_at",
    *(f"DROP TRIGGER IF EXISTS {table}_listed_at_{event}" for table in LINKS for event in ["insert", "update"]),
]


def install(apps, schema_editor):
    for sql in POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE:
        schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    for sql in POSTGRESQL_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE:
        schema_editor.execute(sql)


def listed_at():
    return models.DateTimeField(null=True, editable=False, serialize=False)


class Migration(migrations.Migration):
    dependencies = [("articles", "0022_byline_author_statistics")]

    operations = [
        migrations.AddField("byline", "listed_at", listed_at()),
        migrations.AddField("storytopic", "listed_at", listed_at()),
        migrations.RunPython(install, uninstall),
    ]
