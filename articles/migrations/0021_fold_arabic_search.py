"""Search folds Arabic as readers type it (articles/search: FOLDING and the article): the index is made again
with the new triggers, for the stories already there.

Not atomic: on PostgreSQL each batch of stories (search.rebuild) commits by itself, so editors' saves wait
for one batch at most, never for the whole archive. A run stopped half way leaves the stories it has not reached
unfound by Arabic words that folding changes, until migrate runs it again, whole. On SQLite install() replaces
the triggers and re-indexes in one transaction (SQLite has one writer at a time anyway).
"""

from django.db import migrations, transaction

import articles.search
from articles.imports import refresh_planner_statistics


def fold_arabic(apps, schema_editor):
    connection = schema_editor.connection
    with transaction.atomic(using=connection.alias):
        reindexed = articles.search.install(connection)
    if not reindexed:  # the triggers were there, by the earlier rule
        articles.search.rebuild(connection)
    # Every row was rewritten: as after a large import, PostgreSQL's visibility map and statistics now.
    refresh_planner_statistics()


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("articles", "0020_topics")]

    # Backwards nothing changes: the index stays folded until the earlier code's rebuild_search_index is run
    # (until then its queries with a hamza, a taa marbuta or marks miss the stories that have them).
    operations = [migrations.RunPython(fold_arabic, migrations.RunPython.noop, elidable=False)]
