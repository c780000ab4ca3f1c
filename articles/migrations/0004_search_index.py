"""The full-text search index (FTS5 on SQLite, a tsvector column with a GIN index on PostgreSQL).

The SQL lives in articles/search.py, which also re-installs it after every migrate (see ArticlesConfig).
"""

from django.db import migrations


def install(apps, schema_editor):
    from articles import search

    search.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from articles import search

    search.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("articles", "0003_corrections_redirects")]
    operations = [migrations.RunPython(install, uninstall, elidable=False)]
