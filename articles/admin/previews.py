"""Previews: the staff preview of a story, and the signed links that show one revision to someone outside."""

from datetime import timedelta

import reversion
from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from newsroom.admin import BusyAwareAdmin, admin_form

from .. import history
from ..models import PreviewLink
from ..previews import preview_page, shared_preview_url
from ..workflow import link_is_live, may_change, may_revoke, preview_link_hours

PREVIEW_LIFETIMES = [(1, "1 hour"), (24, "1 day"), (72, "3 days"), (168, "1 week")]


class PreviewLinkForm(forms.Form):
    hours = forms.TypedChoiceField(label="Valid for", choices=PREVIEW_LIFETIMES, coerce=int, initial=24)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if longest := preview_link_hours(user):
            self.fields["hours"].choices = [(h, label) for h, label in PREVIEW_LIFETIMES if h <= longest]


def revision_for_preview(article, user):
    """The revision holding the story as it is now; recorded first if it was changed outside the admin."""
    version = history.version_at(article, article.version)
    if version is None:
        with reversion.create_revision():
            reversion.add_to_revision(article)
            reversion.set_user(user)
            reversion.set_comment("Recorded for a preview link.")
        version = history.version_at(article, article.version)
    return version.revision


class PreviewPages:
    """ArticleAdmin's preview pages: the story in the readers' template, its preview links."""

    def preview_view(self, request, object_id):
        """The story as it stands, in the readers' template, whatever its status."""
        article = self.get_article_or_404(request, object_id)
        return preview_page(request, article, preview=True)

    def preview_links_view(self, request, object_id):
        article = self.get_article_or_404(request, object_id)
        may_make = request.user.has_perm("articles.add_previewlink") and may_change(
            request.user, article
        )  # a link shows the story to anyone
        form = PreviewLinkForm(request.POST or None, user=request.user)
        if request.method == "POST":
            if "revoke" in request.POST:
                if not request.user.has_perm("articles.change_previewlink"):
                    raise PermissionDenied
                if not request.POST["revoke"].isdigit():
                    raise Http404("No such preview link.")
                link = get_object_or_404(PreviewLink, pk=request.POST["revoke"], article=article)
                if not may_revoke(request.user, link):
                    raise PermissionDenied("Only editors can revoke a preview link someone else made.")
                link.revoked_at = link.revoked_at or timezone.now()
                link.save(update_fields=["revoked_at"])
                made = f"{timezone.localtime(link.created_at):%Y-%m-%d %H:%M}"
                self.log_change(request, article, f"Revoked the preview link made {made}.")
                self.message_user(request, "The preview link was revoked.")
                return HttpResponseRedirect(request.path)
            if not may_make:
                raise PermissionDenied("Only editors can share a story that is published, scheduled or withdrawn.")
            if form.is_valid():
                link = PreviewLink.objects.create(
                    article=article,
                    revision=revision_for_preview(article, request.user),
                    created_by=request.user,
                    expires_at=timezone.now() + timedelta(hours=int(form.cleaned_data["hours"])),
                )
                until = f"{timezone.localtime(link.expires_at):%Y-%m-%d %H:%M}"
                self.log_change(request, article, f"Shared a preview link valid until {until}.")
                self.message_user(request, "Preview link created: copy it from the list below.")
                return HttpResponseRedirect(request.path)
        # A link's address is shown only to whoever may revoke it: handing on someone else's link to a story
        # one may not share would be sharing it.
        links = [
            (
                link,
                request.build_absolute_uri(shared_preview_url(link)) if may_revoke(request.user, link) else "",
                link_is_live(link),
                may_revoke(request.user, link),
            )
            for link in article.preview_links.select_related("created_by", "revision")
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview links: {article}",
            "opts": self.model._meta,
            "original": article,
            "object_id": article.pk,
            "form": form if may_make else None,
            "adminform": admin_form(form) if may_make else None,
            "links": links,
        }
        return TemplateResponse(request, "admin/articles/article/preview_links.html", context)

    def old_shared_preview_view(self, request, token):
        """Links made while they were served under the admin's URL: they live a week at most
        (PREVIEW_LIFETIMES), so this redirect can go a week after the release that moved them."""
        return HttpResponseRedirect(reverse("articles:shared-preview", kwargs={"token": token}))


@admin.register(PreviewLink)
class PreviewLinkAdmin(BusyAwareAdmin):
    list_display = ["article", "created_by", "created_at", "expires_at", "revoked_at"]
    list_select_related = ["article", "created_by"]
    readonly_fields = ["article", "revision", "created_by", "created_at", "expires_at"]

    def has_add_permission(self, request):
        return False  # made from a story's "Preview links" page

    def has_change_permission(self, request, obj=None):
        # Its only field is revoked_at: clearing it would bring a revoked link back.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_revoke(request.user, obj))
