"""Who may move a story where, who may change what readers see, and what may be published. The admin's
form and inlines, revert and recovery, bulk actions, the photo admin, preview links, the import page and
import_dump all ask here.

Reporters write drafts and send them to review; only holders of "can publish" (the Editors group)
publish, schedule, withdraw, or touch a story that readers can see, will see (scheduled) or have seen
(withdrawn): `may_change()` is that one rule, and every path that can change such a story, a photo in it
or a link to it asks it. Whoever publishes, the story must pass `publication_problems()`.

Fronts likewise: holders of "arrange_front" (the Editors group) approve arrangements and change or delete
approved ones; anyone else with the model permissions saves suggestions only (`may_change_front()`).
"""

from django.core.exceptions import PermissionDenied

from .models import Article

PUBLISH_PERMISSION = "articles.publish_article"
ARRANGE_PERMISSION = "articles.arrange_front"
DESK_STATUSES = frozenset({Article.Status.DRAFT, Article.Status.REVIEW})
REPORTER_PREVIEW_LINK_HOURS = 24


def can_publish(user):
    return user.has_perm(PUBLISH_PERMISSION)


def may_change(user, article):
    """Whether the user may change this story or anything of it readers could see (beyond the model permission).

    Editors may change any story; anyone else only drafts and stories in review, never one that is published,
    scheduled (published with a future time) or withdrawn. The story's text, its captions and corrections, a
    revert or recovery, a bulk action, an import, a photo it uses and a preview link to it all come here.
    """
    return can_publish(user) or article.status in DESK_STATUSES


def can_arrange(user):
    return user.has_perm(ARRANGE_PERMISSION)


def may_change_front(user, front, approved=None):
    """Whether the user may change or delete this arrangement of a front, and save it `approved` (None: as stored).

    An approved arrangement is, or will be, what readers see on the page: only editors ("arrange_front")
    approve one, change one or delete one. Anyone else may change a suggestion, and keep it a suggestion.
    `front` is the arrangement as stored (before the form's values), so a forged "approved" is judged by both.
    """
    if can_arrange(user):
        return True
    return not front.approved and not approved


def may_change_photo(user, photo):
    """A photo's image, credit and alt text show in every story that uses it: whoever may change them all."""
    if can_publish(user) or photo.pk is None:
        return True
    return all(may_change(user, caption.article) for caption in photo.captions.select_related("article"))


def may_revoke(user, link):
    """Editors revoke any preview link; anyone else only the links they made."""
    return can_publish(user) or (link.created_by_id is not None and link.created_by_id == user.pk)


def preview_link_hours(user):
    """The longest a preview link this user makes may live: editors choose; others' links live a day at most."""
    return None if can_publish(user) else REPORTER_PREVIEW_LINK_HOURS


def link_is_live(link):
    """A link lives only while its maker may still change the story: a reporter's link to a draft dies when an
    editor schedules or publishes it, so it can never show an embargoed story early."""
    return link.is_active and link.created_by is not None and may_change(link.created_by, link.article)


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


def photo_problems(photo):
    """What stops a photo, as it is about to be saved, from staying in the published (and scheduled) stories that
    use it: publication_problems() of each, with this photo in place of the stored one."""
    if photo.pk is None:
        return []
    problems = []
    stories = Article.objects.filter(status=Article.Status.PUBLISHED, captions__photo=photo).distinct()
    for article in stories.prefetch_related("captions__photo"):
        captions = article.captions.all()
        for caption in captions:
            if caption.photo_id == photo.pk:
                caption.photo = photo
        problems += [
            f"“{article.headline}” is published: {problem}" for problem in publication_problems(article, captions)
        ]
    return problems


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
