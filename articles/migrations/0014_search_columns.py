"""The search index's columns and GIN index become Article's fields and Meta.indexes.

Before, articles/search installed them with raw SQL (0004, and every migrate): a PostgreSQL database
migrated that far has them already, so the fields and index are added to the migration state, and to the
database only where missing (a new database; SQLite, where the columns are new and stay empty, and the
index is none). Then the search engine installs its triggers, which Django cannot express.
"""

import django.contrib.postgres.search
from django.db import migrations

import articles.search

COLUMNS = ["search_document", "search_rank"]
INDEX = "articles_search_document_gin"


def add_missing(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        table = Article._meta.db_table
        columns = {column.name for column in connection.introspection.get_table_description(cursor, table)}
        indexes = connection.introspection.get_constraints(cursor, table)
    for name in COLUMNS:
        if name not in columns:
            schema_editor.add_field(Article, Article._meta.get_field(name))
    index = next(index for index in Article._meta.indexes if index.name == INDEX)
    if index.name not in indexes:
        schema_editor.add_index(Article, index)


def remove(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    for name in COLUMNS:  # the index goes with its column
        schema_editor.remove_field(Article, Article._meta.get_field(name))


def install(apps, schema_editor):
    articles.search.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    articles.search.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("articles", "0013_editors_unlock_logins")]

    operations = [
        migrations.AlterModelOptions(
            name="article",
            options={
                "base_manager_name": "objects",
                "ordering": ["-published_at", "-pk"],
                "permissions": [("publish_article", "Can publish, schedule and withdraw stories")],
            },
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="article",
                    name="search_document",
                    field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True, serialize=False),
                ),
                migrations.AddField(
                    model_name="article",
                    name="search_rank",
                    field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True, serialize=False),
                ),
                migrations.AddIndex(
                    model_name="article",
                    index=articles.search.SearchIndex(fields=["search_document"], name=INDEX),
                ),
            ],
        ),
        migrations.RunPython(add_missing, remove, elidable=False),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
