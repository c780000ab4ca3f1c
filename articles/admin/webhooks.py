"""Webhooks on the desk: editors (migration 0024's permissions) add subscribers, read their secrets, send a test
ping, resume a paused one, and read the delivery log; reporters see none of it. articles/webhooks.py sends."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.html import format_html

from newsroom.admin import BusyAwareAdmin

from .. import webhooks
from ..models import Delivery, Subscriber
from .wire import RecordAdmin


class SubscriberForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=Subscriber.Event.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="What the receiver is told of (docs/api.md, Webhooks).",
    )

    class Meta:
        model = Subscriber
        fields = ["name", "url", "events"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            webhooks.check_url(url)
        except webhooks.Refused as exc:
            raise ValidationError(str(exc)) from None
        return url

    def clean_events(self):
        chosen = set(self.cleaned_data["events"])
        return [event for event in Subscriber.Event.values if event in chosen]  # one order, whatever was posted


@admin.register(Subscriber)
class SubscriberAdmin(BusyAwareAdmin):
    form = SubscriberForm
    list_display = ["name", "url", "event_list", "state", "last_delivery"]
    list_filter = ["active"]
    search_fields = ["name", "url"]
    readonly_fields = ["secret_shown", "state", "failing_since", "created_by", "created_at"]
    actions = ["send_ping", "resume_selected", "new_secret"]

    def get_fields(self, request, obj=None):
        fields = ["name", "url", "events"]
        return fields if obj is None else [*fields, *self.readonly_fields]

    def get_queryset(self, request):
        latest = Delivery.objects.filter(subscriber=OuterRef("pk")).order_by("-created_at", "-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_status=Subquery(latest.values("status")[:1]),
                last_created=Subquery(latest.values("created_at")[:1]),
            )
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Events")
    def event_list(self, subscriber):
        return ", ".join(subscriber.events)

    @admin.display(description="State")
    def state(self, subscriber):
        if subscriber.active:
            return "Active"
        since = timezone.localtime(subscriber.paused_at).strftime("%Y-%m-%d %H:%M") if subscriber.paused_at else "?"
        return format_html("<strong>Paused</strong> since {}: {}", since, subscriber.paused_reason or "by an editor")

    @admin.display(description="Last delivery")
    def last_delivery(self, subscriber):
        if not getattr(subscriber, "last_status", None):
            return "—"
        status = Delivery.Status(subscriber.last_status).label
        return f"{status}, {timezone.localtime(subscriber.last_created):%Y-%m-%d %H:%M}"

    @admin.display(description="Secret")
    def secret_shown(self, subscriber):
        return format_html(
            "<code>{}</code><div class='help'>Give it to the receiver: it signs every delivery "
            "(X-Newsroom-Signature, docs/api.md, Webhooks). “New secret” replaces it.</div>",
            subscriber.secret,
        )

    @admin.action(description="Send a test ping", permissions=["change"])
    def send_ping(self, request, queryset):
        for subscriber in queryset:
            webhooks.ping(subscriber)
        self.message_user(request, f"A test ping is on its way to {len(queryset)} subscriber(s): see the log.")

    @admin.action(description="Resume selected subscribers", permissions=["change"])
    def resume_selected(self, request, queryset):
        for subscriber in queryset:
            webhooks.resume(subscriber)
        self.message_user(request, f"Resumed {len(queryset)} subscriber(s): the next changes are sent to them.")

    @admin.action(description="Give selected subscribers a new secret", permissions=["change"])
    def new_secret(self, request, queryset):
        for subscriber in queryset:
            Subscriber.objects.filter(pk=subscriber.pk).update(secret=Subscriber._meta.get_field("secret").default())
        self.message_user(
            request,
            "New secrets made: give them to the receivers; deliveries are signed with them from now on.",
            messages.WARNING,
        )


@admin.register(Delivery)
class DeliveryAdmin(RecordAdmin):
    list_display = ["created_at", "subscriber", "event", "story", "status", "response_code", "attempts", "tried_at"]
    list_filter = ["status", ("notice__event", admin.ChoicesFieldListFilter), "subscriber"]
    list_select_related = ["subscriber", "notice"]
    search_fields = ["notice__headline", "=notice__story_id", "=delivery_id"]
    date_hierarchy = "created_at"
    fields = [
        "subscriber",
        "event",
        "story",
        "delivery_id",
        "status",
        "attempts",
        "response_code",
        "error",
        "created_at",
        "last_attempt_at",
        "next_attempt_at",
        "payload_shown",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # The list reads no payloads (a story's ninjs each); a delivery's own page shows it.
        return queryset if request.resolver_match.url_name.endswith("_change") else queryset.defer("notice__payload")

    @admin.display(description="Event", ordering="notice__event")
    def event(self, delivery):
        return delivery.notice.get_event_display()

    @admin.display(description="Story")
    def story(self, delivery):
        notice = delivery.notice
        if notice.story_id is None:
            return "—"
        return f"{notice.headline} (id {notice.story_id})" if notice.headline else f"id {notice.story_id}"

    @admin.display(description="Last tried", ordering="last_attempt_at")
    def tried_at(self, delivery):
        return delivery.last_attempt_at

    @admin.display(description="Payload (as sent)")
    def payload_shown(self, delivery):
        try:
            shown = json.dumps(json.loads(delivery.notice.payload), indent=2, ensure_ascii=False)
        except ValueError:
            shown = delivery.notice.payload
        return format_html("<pre>{}</pre>", shown)
