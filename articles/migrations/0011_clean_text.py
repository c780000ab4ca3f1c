"""Clean text stored before it was cleaned where it comes in (articles.text.clean_text).

Control characters came in with imports and admin forms (a vertical tab pasted from a word processor is
enough); once such a story was published every feed answered 500 and the news sitemap was not well-formed XML.
The feeds and sitemaps now defend themselves, but the text should be what a new save would store. Few rows
are affected; they are found by a regular expression and written in batches.

Each story whose text changes counts as saved (a new version, a new updated_at), so that pages, cards and
editors' open forms do not keep the old text. An imported story an editor never changed gets its import hash
(and key, from its headline) recomputed from the cleaned text, which is what the parser now reads from the
same dump: re-importing that dump finds it unchanged instead of taking it for an editor's version.
"""

from django.db import migrations
from django.db.models import F, Q
from django.utils import timezone

from articles.text import CONTROLS, clean_text, paragraphs

BATCH_SIZE = 500
# {model: {field: one-line text?}}: the fields clean_text cleans (articles.fields.LineField and ProseField).
TEXT_FIELDS = {
    "Article": {
        "headline": True,
        "byline": True,
        "language": True,
        "standfirst": False,
        "body": False,
        "withdrawn_reason": False,
    },
    "Caption": {"text": False},
    "Correction": {"text": False},
    "Photo": {"credit": True, "alt_text": True},
    "Section": {"name": True, "description": False},
    "RoutingRule": {"keyword": True},
}


def needs_cleaning(fields):
    """Rows with a character clean_text changes in one of these fields. Literal characters in a bracket
    expression mean the same to PostgreSQL's regular expressions and to Python's (SQLite's REGEXP in Django);
    NUL is left out: PostgreSQL cannot store it, and forms and the dump parser always refused it."""
    conditions = []
    for name, one_line in fields.items():
        characters = CONTROLS.replace("\x00", "") + "\r\v\f" + ("\n" if one_line else "")
        conditions.append((f"{name}__regex", f"[{characters}]"))
    return Q.create(conditions, connector=Q.OR)


def clean(apps, schema_editor):
    from articles.importer import source_key
    from articles.models import content_hash

    Article = apps.get_model("articles", "Article")
    Caption = apps.get_model("articles", "Caption")
    dirty = {name: needs_cleaning(fields) for name, fields in TEXT_FIELDS.items()}
    photo_ids = set(apps.get_model("articles", "Photo").objects.filter(dirty["Photo"]).values_list("pk", flat=True))
    story_ids = sorted(
        set(Article.objects.filter(dirty["Article"]).values_list("pk", flat=True))
        | set(Caption.objects.filter(dirty["Caption"] | Q(photo__in=photo_ids)).values_list("article", flat=True))
        | set(
            apps.get_model("articles", "Correction")
            .objects.filter(dirty["Correction"])
            .values_list("article", flat=True)
        )
    )

    def imported_text(article):
        captions = sorted(article.captions.all(), key=lambda caption: caption.order)
        return content_hash(
            article.headline, [(caption.text, caption.photo.credit) for caption in captions], paragraphs(article.body)
        )

    # Imported stories that no editor changed, before their text is cleaned.
    untouched = set()
    for start in range(0, len(story_ids), BATCH_SIZE):
        stories = Article.objects.filter(pk__in=story_ids[start : start + BATCH_SIZE], source_key__isnull=False)
        for article in stories.prefetch_related("captions__photo"):
            if imported_text(article) == article.import_hash:
                untouched.add(article.pk)

    cleaned = 0
    for model_name, fields in TEXT_FIELDS.items():
        model = apps.get_model("articles", model_name)
        ids = list(model.objects.filter(dirty[model_name]).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH_SIZE):
            rows = list(model.objects.filter(pk__in=ids[start : start + BATCH_SIZE]).only(*fields))
            for row in rows:
                for name, one_line in fields.items():
                    setattr(row, name, clean_text(getattr(row, name), one_line=one_line))
            model.objects.bulk_update(rows, list(fields))
            cleaned += len(rows)
    if not cleaned:
        return

    now = timezone.now()
    for start in range(0, len(story_ids), BATCH_SIZE):
        batch = story_ids[start : start + BATCH_SIZE]
        Article.objects.filter(pk__in=batch).update(version=F("version") + 1, updated_at=now)
        stories = Article.objects.filter(pk__in=[pk for pk in batch if pk in untouched])
        for article in stories.prefetch_related("captions__photo"):
            article.import_hash = imported_text(article)
            key = source_key(article.headline)
            # Another story imported under the cleaned headline keeps its key: this one keeps its old one.
            if not Article.objects.filter(source_key=key).exclude(pk=article.pk).exists():
                article.source_key = key
            Article.objects.filter(pk=article.pk).update(import_hash=article.import_hash, source_key=article.source_key)
    # Written without the models' signals: readers' cached pages must go stale (README, Operations).
    from articles.pagecache import content_changed

    content_changed(everything=True, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0010_unify_line_breaks"),
    ]

    operations = [migrations.RunPython(clean, migrations.RunPython.noop)]
