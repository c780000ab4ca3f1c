"""Authors: who writes the stories. Editors manage them; the story form picks them for its bylines."""

from django.contrib import admin
from django.db.models import Count

from newsroom.admin import BusyAwareAdmin

from ..models import Author, AuthorLink
from .photos import thumbnail_html


class AuthorLinkInline(admin.TabularInline):
    model = AuthorLink
    extra = 1
    fields = ["label", "url", "order"]


@admin.register(Author)
class AuthorAdmin(BusyAwareAdmin):
    list_display = ["name", "slug", "portrait", "stories"]
    ordering = ["name", "pk"]  # the count of stories groups the rows, which drops Meta.ordering
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["photo"]
    fields = ["name", "slug", "bio", "photo", "portrait"]
    readonly_fields = ["portrait"]
    list_select_related = ["photo"]
    inlines = [AuthorLinkInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(story_count=Count("bylines"))

    @admin.display(description="Portrait")
    def portrait(self, author):
        return thumbnail_html(author.photo)

    @admin.display(description="Stories (any status)", ordering="story_count")
    def stories(self, author):
        return author.story_count
