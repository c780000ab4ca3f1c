"""The full-text search index was installed here (articles/search, with raw SQL for PostgreSQL's columns and
GIN index) until they became Article's fields: 0014 adds them, and installs the triggers, on a database new
or migrated before then."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("articles", "0003_corrections_redirects")]
    operations = []
