"""Previews in the readers' templates: of a story (the desk's own, and shared links for people without an
account), and of an arrangement of a front before it goes live.

A shared link (PreviewLink) is a signed address on the public site, not under the admin's URL, which is secret
and may move. It shows the revision it was made for; it is never cached (by the page cache, which only wraps
the readers' pages, nor by any shared cache: the response is private and no-store) and never indexed.
"""

from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from . import history
from .models import Byline, Front, PreviewLink
from .views import IndexView, SectionView, story_context
from .workflow import link_is_live

PREVIEW_SALT = "articles.preview-link"


def shared_preview_url(link):
    # The expiry is signed into the link as well as stored, so a link cannot outlive it even if edited.
    token = signing.Signer(salt=PREVIEW_SALT).sign_object({"link": link.pk, "until": link.expires_at.timestamp()})
    return reverse("articles:shared-preview", kwargs={"token": token})


def preview_page(request, article, captions=None, bylines=None, **context):
    """The story page as readers would see it, never indexed nor passed on as a referrer.

    `captions` and `bylines` are a revision's (unsaved); None shows the story's stored ones. This is the one
    place a preview hands them to the story page.
    """
    if captions is not None:
        captions = sorted(captions, key=lambda caption: (caption.order, caption.pk))
    if bylines is not None:
        bylines = sorted(bylines, key=lambda byline: (byline.order, byline.pk))
    page = story_context(request, article, captions, bylines) | context
    return unlisted(TemplateResponse(request, "articles/detail.html", page))


def unlisted(response):
    """Never indexed, and the preview's address never passed on as a referrer."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
def shared_preview(request, token):
    """The revision a preview link was made for, to anyone holding a live link; 410 once it is not."""
    try:
        signed = signing.Signer(salt=PREVIEW_SALT).unsign_object(token)
    except signing.BadSignature:
        raise Http404("No such preview.") from None
    link = PreviewLink.objects.select_related("article", "revision", "created_by").filter(pk=signed["link"]).first()
    if link is None or not link_is_live(link) or timezone.now().timestamp() >= signed["until"]:
        return unlisted(TemplateResponse(request, "articles/preview_gone.html", {"link": link}, status=410))
    version = link.revision.version_set.get_for_object(link.article).first()
    if version is None:
        raise Http404("No such preview.")
    article, captions = history.revision_state(version)
    bylines = history.revision_state(version, Byline)[1]
    return preview_page(request, article, captions, bylines, preview=link)


@never_cache
def front_preview(request, pk):
    """An arrangement of a front through its page's own template and view, as if it were live: as readers will
    see it when it goes live (at its live_from), or now if that has passed. For staff who may see arrangements;
    never cached (the page cache only wraps readers' pages; private, no-store) nor indexed."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not (request.user.is_staff and request.user.has_perm("articles.view_front")):
        raise PermissionDenied
    front = get_object_or_404(Front.objects.select_related("section"), pk=pk)
    at = max(front.live_from, timezone.now())
    if front.section_id:
        response = SectionView.as_view(arrangement=front, at=at)(request, section=front.section.slug)
    else:
        response = IndexView.as_view(arrangement=front, at=at)(request)
    return unlisted(response)
