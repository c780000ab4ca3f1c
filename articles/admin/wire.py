"""The wire drop folder's history (`manage.py ingest_watch`): what was imported, what failed and why.

Read-only: the watcher writes it; the dumps themselves are in the folder's done/ and failed/.
"""

from django.contrib import admin
from django.template.defaultfilters import truncatechars

from ..models import WireDrop


class RecordAdmin(admin.ModelAdmin):
    """The admin of a record the system writes and editors only read (a wire drop, a webhook delivery)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WireDrop)
class WireDropAdmin(RecordAdmin):
    list_display = [
        "name",
        "state",
        "stories_created",
        "stories_updated",
        "stories_unchanged",
        "conflicts",
        "why",
        "started_at",
        "finished_at",
    ]
    list_filter = ["state"]
    search_fields = ["name", "reason"]
    date_hierarchy = "started_at"
    fields = [
        "name",
        "state",
        ("stories_created", "stories_updated", "stories_unchanged", "conflicts"),
        "reason",
        "location",
        "watcher",
        ("started_at", "finished_at"),
    ]

    @admin.display(description="Why it failed", ordering="reason")
    def why(self, drop):
        return truncatechars(drop.reason, 120)
