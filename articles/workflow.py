"""Who may move a story where. The admin's form, bulk actions and import page all ask here.

Reporters write drafts and send them to review; only holders of "can publish" (the Editors group)
publish, schedule, withdraw, or touch a story that readers can see or have seen.
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
