"""API keys: editors issue a key to a partner, see it once, and revoke it; reporters never see keys.

Only a key's hash is stored (models.APIKey), so the page shown right after the key is made is the only place it
ever appears: it is rendered in answer to the form's POST, never stored, redirected to or sent in a message (the
messages framework would keep it in a cookie). Revoking takes effect on every process at the partner's next
request (articles/api/access.py); a revoked key can only be looked at, never edited back into use.
"""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from newsroom.admin import BusyAwareAdmin

from ..models import APIKey

DETAILS = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at"]


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "In use"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.active()
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(APIKey)
class APIKeyAdmin(BusyAwareAdmin):
    list_display = ["prefix", "name", "rate_limit", "created_at", "created_by", "last_used_at", "revoked_at"]
    list_display_links = ["prefix", "name"]
    list_filter = [StatusFilter]
    list_select_related = ["created_by"]
    search_fields = ["name", "prefix"]
    actions = ["revoke_selected"]
    view_on_site = False

    def get_fields(self, request, obj=None):
        return ["name", "rate_limit"] if obj is None else ["name", "rate_limit", *DETAILS]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else DETAILS

    def has_change_permission(self, request, obj=None):
        # A revoked key stays revoked: its page is for reading only.
        return super().has_change_permission(request, obj) and not (obj is not None and obj.revoked)

    def add_view(self, request, form_url="", extra_context=None):
        # One way out of the form: to the page that shows the new key.
        extra_context = {**(extra_context or {}), "show_save_and_add_another": False, "show_save_and_continue": False}
        return super().add_view(request, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            # Only what the editor changed: the row's rate clock and last use move with every request.
            obj.save(update_fields=form.changed_data)
            return
        obj.created_by = request.user
        request.issued_key = obj.new_key()
        obj.save()

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "title": f"The key for {obj.name}",
            "opts": self.opts,
            "original": obj,
            "key": request.issued_key,
        }
        response = TemplateResponse(request, "admin/articles/apikey/issued.html", context)
        add_never_cache_headers(response)
        response["Cache-Control"] += ", no-store"
        return response

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_selected(self, request, queryset):
        """Confirm, then revoke at once: the partner's next request is refused, on every app server."""
        keys = list(queryset.active().order_by("name", "pk"))
        if not keys:
            self.message_user(request, "The selected keys were already revoked.", messages.WARNING)
            return None
        if "confirm" in request.POST:
            queryset.filter(pk__in=[key.pk for key in keys]).revoke()
            for key in keys:
                self.log_change(request, key, "Revoked.")
            names = ", ".join(str(key) for key in keys)
            self.message_user(request, f"Revoked: {names}. Requests with these keys are refused.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Revoke {len(keys)} API key{'' if len(keys) == 1 else 's'}?",
            "opts": self.opts,
            "keys": keys,
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/articles/apikey/revoke_confirmation.html", context)
