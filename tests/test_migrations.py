"""Migrations run while the previous release still serves (docs/deploy.md, "Releasing"), so each one must
leave a schema the old code can work with: add, never take away or rename, and give new NOT NULL
columns a database default (db_default=...) so the old code's INSERTs, which do not name them, succeed.
Removing or renaming comes in a later release, once no running code uses the old name."""

from datetime import timedelta

import pytest
from django.db import connection, models
from django.db.migrations import operations
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

OUR_APPS = {"articles"}
# Written before the first production release, when nothing was serving yet.
BEFORE_FIRST_RELEASE = {
    ("articles", "0001_initial"),
    ("articles", "0002_sections_and_routing"),
    ("articles", "0003_corrections_redirects"),
}
# Reviewed by hand: a migration that removes or renames what the release being replaced no longer uses.
REVIEWED_CONTRACTIONS = set()

BREAKS_OLD_CODE = (
    operations.RemoveField,
    operations.DeleteModel,
    operations.RenameField,
    operations.RenameModel,
)


def problems(operation):
    if isinstance(operation, BREAKS_OLD_CODE):
        return f"{type(operation).__name__} breaks the release still serving"
    if isinstance(operation, operations.AddField):
        field = operation.field
        if not field.null and not field.many_to_many and field.db_default is models.NOT_PROVIDED:
            return f"new NOT NULL column {operation.name!r} needs db_default= (or null=True)"
    return None


def test_migrations_leave_a_schema_the_previous_release_can_use():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = []
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app not in OUR_APPS or (app, name) in BEFORE_FIRST_RELEASE | REVIEWED_CONTRACTIONS:
            continue
        found += [f"{app}.{name}: {problem}" for problem in map(problems, migration.operations) if problem]

    assert found == []


def test_the_rule_catches_a_column_old_code_cannot_insert_without():
    risky = operations.AddField("article", "kicker", models.CharField(max_length=50, default=""))
    safe = operations.AddField("article", "kicker", models.CharField(max_length=50, db_default=""))

    assert "db_default" in problems(risky)
    assert problems(safe) is None
    assert problems(operations.RemoveField("article", "byline")) is not None


def migrate(targets):
    """Migrate the test database to `targets` ([(app, migration)]); the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


MODELS = ["Article", "Caption", "Photo", "Section"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_stories_written_before_0014_are_found_by_search_after_it(client):
    """0014 made the search index part of the models and builds it for the stories already there: a site
    upgraded from 0013 finds its old stories by their headline, body and captions."""
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        apps = migrate([("articles", "0013_editors_unlock_logins")])
        Article, Caption, Photo, Section = (apps.get_model("articles", name) for name in MODELS)
        section = Section.objects.create(slug="harbour", name="Harbour", order=100)
        story = Article.objects.create(
            headline="Harbour Bridge Reopens",
            slug="harbour-bridge-reopens",
            section=section,
            body="Ferries stood idle.\n\nTraffic crossed again at dawn.",
            status="published",
            published_at=timezone.now() - timedelta(hours=1),
        )
        photo = Photo.objects.create(credit="Reuters", alt_text="The bridge at dawn")
        Caption.objects.create(article=story, photo=photo, text="Cormorants on the pylons.", is_lead=True)
    finally:
        migrate(latest)

    for word in ("bridge", "ferries", "cormorants"):
        page = client.get("/search/", {"q": word})
        assert page.status_code == 200
        assert "Harbour Bridge Reopens" in page.text, f"no story found for {word!r}"
