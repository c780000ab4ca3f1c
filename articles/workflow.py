"""Who may move a story where, and what may be published. The admin's form, revert and recovery, bulk
actions, the import page and import_dump all ask here.

Reporters write drafts and send them to review; only holders of "can publish" (the Editors group)
publish, schedule, withdraw, or touch a story that readers can see or have seen. Whoever publishes,
the story must pass `publication_problems()`.
"""

from django.core.exceptions import PermissionDenied

from .models import Article

PUBLISH_PERMISSION = "articles.publish_article"
DESK_STATUSES = frozenset({Article.Status.DRAFT, Article.Status.REVIEW})


def can_publish(user):
    return user.has_perm(PUBLISH_PERMISSION)


def may_change(user, article):
    """Whether the user may edit this story at all (beyond the model permission)."""
    return can_publish(user) or article.status in DESK_STATUSES


def allowed_statuses(user):
    return list(Article.Status) if can_publish(user) else [s for s in Article.Status if s in DESK_STATUSES]


def check_status_change(user, before, after):
    """Raise PermissionDenied unless the user may move a story from status `before` (None: new) to `after`."""
    if before == after and after in DESK_STATUSES:
        return
    if can_publish(user):
        return
    if (before is None or before in DESK_STATUSES) and after in DESK_STATUSES:
        return
    raise PermissionDenied(
        f"Only editors can {'publish or withdraw' if after not in DESK_STATUSES else 'unpublish'} a story."
    )


def publication_problems(article, captions=None):
    """What stops the story, as it is about to be saved, from being public, as messages for the editor.

    Empty when nothing does, or when the story will not be public (a draft, a withdrawal). Every path that
    saves a story calls it on the story as it will be saved, so a rule added to PUBLICATION_RULES holds
    everywhere. `captions` are the captions it will be saved with (a form's, an import's), with their
    photos; None means the stored ones (prefetch "captions__photo" to check many stories in one query).
    """
    if article.status != Article.Status.PUBLISHED:  # scheduled stories too: nothing checks when they go live
        return []
    if captions is None:
        captions = stored_captions(article)
    return [problem for rule in PUBLICATION_RULES for problem in rule(article, captions)]


def stored_captions(article):
    if article.pk is None:
        return []
    if "captions" in getattr(article, "_prefetched_objects_cache", {}):
        return article.captions.all()
    return article.captions.select_related("photo")


def photos_have_alt_text(article, captions):
    for caption in captions:
        if caption.photo.needs_alt_text:
            yield (
                f"Photo “{caption.photo}” needs alt text before the story is published: describe the image for "
                "readers who cannot see it (the caption does not do that)."
            )


# Each rule takes the story and its captions as they will be saved and yields what stops publication.
PUBLICATION_RULES = [photos_have_alt_text]
