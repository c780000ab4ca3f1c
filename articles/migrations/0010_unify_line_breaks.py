"""Heal text saved from the admin before line breaks were unified where text comes in (articles.fields.ProseField).

Browsers send a textarea's line breaks as "\r\n", and they were stored so: such a story showed its body as one
paragraph, and the importer took it for edited by an editor. Only stories saved in the admin are affected, a
small share; they are read and written in batches. Each healed story counts as saved (a new version, a new
updated_at), so that pages, cards and editors' open forms do not keep the old text.
"""

from django.db import migrations
from django.db.models import F, Q
from django.utils import timezone

from articles.text import unify_line_breaks

BATCH_SIZE = 500
PROSE_FIELDS = {
    "Article": ["standfirst", "body", "withdrawn_reason"],
    "Caption": ["text"],
    "Correction": ["text"],
}


def unify(apps, schema_editor):
    stories = set()
    for model_name, fields in PROSE_FIELDS.items():
        model = apps.get_model("articles", model_name)
        with_cr = Q.create([(f"{name}__contains", "\r") for name in fields], connector=Q.OR)
        story = ("pk", "pk") if model_name == "Article" else ("article", "article_id")  # (field, attribute)
        ids = list(model.objects.filter(with_cr).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH_SIZE):
            rows = list(model.objects.filter(pk__in=ids[start : start + BATCH_SIZE]).only(story[0], *fields))
            for row in rows:
                for name in fields:
                    setattr(row, name, unify_line_breaks(getattr(row, name)))
            model.objects.bulk_update(rows, fields)
            stories.update(getattr(row, story[1]) for row in rows)
    if not stories:
        return
    Article = apps.get_model("articles", "Article")
    story_ids = sorted(stories)
    for start in range(0, len(story_ids), BATCH_SIZE):
        Article.objects.filter(pk__in=story_ids[start : start + BATCH_SIZE]).update(
            version=F("version") + 1, updated_at=timezone.now()
        )
    # Written without the models' signals: readers' cached pages must go stale (README, Operations).
    from articles.pagecache import content_changed

    content_changed(everything=True, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0009_freshness"),
    ]

    operations = [migrations.RunPython(unify, migrations.RunPython.noop)]
