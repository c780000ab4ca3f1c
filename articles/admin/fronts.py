"""Fronts on the desk: editors arrange the home page and the section fronts, reporters suggest arrangements.

An arrangement is a lead story and top stories, in order (its slots), live from a time; the page shows its newest
live one (FrontQuerySet.live()). The slots are reordered by drag or by keyboard (static/articles/fronts.js);
who may approve or change what is `workflow.may_change_front()`, asked on every path that saves. Saves are
version-checked as stories' are: the second of two editors saving the same arrangement is shown what the first
changed, with their own arrangement kept in the form to save again.
"""

import copy

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BooleanField, Count, ExpressionWrapper, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timeuntil
from reversion.admin import VersionAdmin
from reversion.models import Version

from newsroom.admin import BusyAwareAdmin

from .. import history
from ..listings import live_arrangements
from ..models import EMBARGOED, PUBLIC, Article, Front, FrontSlot, Section, publication_state
from ..workflow import can_arrange, may_change_front
from .stories import CheckedAcrossTheStory, SwappableFormSet

# Between a story's headline and what readers see of it, in the story picker; fronts.js strips what follows it.
LABEL_SEPARATOR = " — "


def story_label(article):
    """A story as the slot picker shows it: its headline, and whether readers can see it on a front."""
    state = publication_state(article.status, article.published_at)
    if state == PUBLIC:
        shows = "published"
    elif state == EMBARGOED:
        shows = f"embargoed until {history.when(article.published_at)}: shows from then"
    elif article.status == Article.Status.WITHDRAWN:
        shows = "withdrawn: never shows"
    else:
        shows = f"{article.get_status_display().lower()}: shows only once published"
    return f"{article.headline}{LABEL_SEPARATOR}{shows}"


class StoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return story_label(obj)


class StoryPicker(AutocompleteSelect):
    """The admin's autocomplete, asking the fronts' story search (headlines, with each story's status)."""

    def get_url(self):
        return reverse(f"{self.admin_site.name}:articles_front_stories")


class StorySearch(AutocompleteJsonView):
    """Stories by words of their headline, newest first, labelled with what readers see of them: a slot may hold
    a draft or an embargoed story, which shows only once it is published (FrontSlotQuerySet.showing())."""

    def get_queryset(self):
        stories = Article.objects.order_by(F("published_at").desc(nulls_last=True), "-pk")
        for word in self.term.split():
            stories = stories.filter(headline__icontains=word)
        return stories

    def serialize_result(self, obj, to_field_name):
        return {"id": str(getattr(obj, to_field_name)), "text": story_label(obj)}

    def get(self, request, *args, **kwargs):
        # As AutocompleteJsonView.get(), without counting every match to say whether there are more (a second
        # scan of the whole archive at each keystroke): one row more than a page tells.
        self.term, self.model_admin, self.source_field, to_field_name = self.process_request(request)
        if not self.has_perm(request):
            raise PermissionDenied
        page = int(request.GET["page"]) if request.GET.get("page", "").isdigit() else 1
        start = (max(page, 1) - 1) * self.paginate_by
        found = list(self.get_queryset()[start : start + self.paginate_by + 1])
        return JsonResponse(
            {
                "results": [self.serialize_result(obj, to_field_name) for obj in found[: self.paginate_by]],
                "pagination": {"more": len(found) > self.paginate_by},
            }
        )


# The arrangements' states in the list: each page's live one, and the next to go live.


def next_arrangements(sections, at):
    """The ids of the arrangement that goes live next on each page (its earliest scheduled one), as a subquery:
    one small indexed query a page, as listings.live_arrangements() for the live ones."""
    parts = [
        Front.objects.filter(
            pk__in=Front.objects.scheduled(at).of_page(page).order_by("live_from", "pk").values("pk")[:1]
        )
        .order_by()
        .values("pk")
        for page in [None, *sections]
    ]
    return parts[0].union(*parts[1:], all=True)


def with_states(fronts, at):
    """Annotate each arrangement with whether it is its page's live one (as readers' pages decide it,
    listings.live_arrangements()), the next to go live, and its number of slots: one query for the whole list,
    whose subqueries for the live and the next are run once, not once a row."""
    sections = list(Section.objects.all())
    slots = FrontSlot.objects.filter(front=OuterRef("pk")).order_by().values("front").annotate(n=Count("pk"))
    return fronts.annotate(
        is_live=ExpressionWrapper(Q(pk__in=live_arrangements(sections, at)), output_field=BooleanField()),
        is_next=ExpressionWrapper(Q(pk__in=next_arrangements(sections, at)), output_field=BooleanField()),
        slot_count=Coalesce(Subquery(slots.values("n")[:1], output_field=IntegerField()), 0),
    )


def state_label(front, at=None):
    """Whether readers see this arrangement: live now, next, scheduled, past, or a suggestion (never)."""
    at = at or timezone.now()
    if not front.approved:
        return "Suggestion: not approved, never shows"
    if front.is_live:
        return "Live now"
    if front.live_from > at:
        # The list shows the time beside this; how soon it comes is what an editor checks.
        soon = f"in {timeuntil(front.live_from, at)}"
        return f"Next: goes live {soon}" if front.is_next else f"Scheduled: goes live {soon}"
    return "Past: replaced by a newer arrangement"


class PageFilter(admin.SimpleListFilter):
    title = "page"
    parameter_name = "page"
    HOME = "home"

    def lookups(self, request, model_admin):
        return [(self.HOME, "Home page"), *((str(s.pk), s.name) for s in Section.objects.all())]

    def queryset(self, request, queryset):
        if self.value() == self.HOME:
            return queryset.of_page(None)
        if self.value():
            return queryset.filter(section_id=self.value())
        return queryset


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("live", "Live now"),
            ("scheduled", "Scheduled"),
            ("past", "Past"),
            ("suggestion", "Suggestions"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "live":
                return queryset.filter(is_live=True)
            case "scheduled":
                return queryset.scheduled(now)
            case "past":
                return queryset.live(now).filter(is_live=False)
            case "suggestion":
                return queryset.filter(approved=False)
        return queryset


class FrontForm(forms.ModelForm):
    """The arrangement's fields, the version it was loaded at, and who may approve it.

    FrontAdmin.get_form sets `user` and `stored` (the arrangement as stored before this request, which for a
    revert is not the reverted instance).
    """

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    user = None
    stored = None

    class Meta:
        model = Front
        fields = ["section", "title", "live_from", "approved"]

    @cached_property
    def changed_data(self):
        return [name for name in super().changed_data if name != "loaded_version"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.stored is not None:
            self.fields["loaded_version"].initial = self.stored.version
        if "section" in self.fields:  # not in the read-only view of an arrangement the user may not change
            self.fields["section"].empty_label = "Home page"
        if "approved" in self.fields and not can_arrange(self.user):
            # Not a disabled field: a forged "approved" must be refused, not silently dropped.
            approved = self.fields["approved"]
            approved.widget.attrs["disabled"] = True
            approved.help_text = (
                "Only editors approve arrangements: yours is saved as a suggestion for them to approve."
            )

    def clean(self):
        cleaned = super().clean()
        if not may_change_front(self.user, self.stored or Front(), cleaned.get("approved")):
            raise ValidationError(
                "Only editors can approve an arrangement or change an approved one: untick “approved” to save "
                "yours as a suggestion. Nothing was saved.",
                code="permission",
            )
        if self.stored is not None and cleaned.get("loaded_version") != self.stored.version:
            self.refuse_stale()
        return cleaned

    def refuse_stale(self):
        """Someone saved this arrangement since the form was loaded: show what they changed, keep this editor's
        arrangement in the form, and let a second save, made knowingly, replace theirs."""
        read = self.cleaned_data.get("loaded_version")
        loaded = history.version_at(self.stored, read) if read else None
        latest = history.version_at(self.stored, self.stored.version)
        who = (latest.revision.user.get_username() if latest and latest.revision.user else None) or "someone else"
        if latest and loaded:
            fields, slots, _ = history.front_changes(latest, loaded)
            changed = [format_html("<b>{}</b>: {}", c.label, c.html) for c in fields] + slots
        else:
            changed = ["(their changes were made outside the desk's history)"]
        self.data = self.data.copy()
        self.data[self.add_prefix("loaded_version")] = str(self.stored.version)
        raise ValidationError(
            format_html(
                "This arrangement was saved by {} while you were editing it, so your changes were NOT saved. "
                "What they changed:<ul>{}</ul>Your arrangement is below as you left it: save it again to "
                "replace theirs, or open the arrangement again to start from theirs.",
                who,
                format_html_join("", "<li>{}</li>", ((line,) for line in changed)),
            ),
            code="stale",
        )


class SlotForm(CheckedAcrossTheStory):
    class Meta:
        labels = {"order": "Position", "article": "Story"}


class SlotFormSet(SwappableFormSet):
    """The arrangement's stories (one_slot_per_story)."""

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        if self.is_bound:
            self.data = self.vanished_rows_as_new(self.data)

    def vanished_rows_as_new(self, data):
        """The submitted rows, those of slots deleted since the form was loaded (by another editor's save, or with
        their story) turned into new rows: the editor's arrangement is kept whole, to be saved again, instead of
        failing on an id no longer there (an error Django would only put on the row's hidden field)."""
        try:
            initial = int(data[f"{self.prefix}-INITIAL_FORMS"])
            total = int(data[f"{self.prefix}-TOTAL_FORMS"])
        except (KeyError, ValueError):
            return data  # the management form's own error says so
        stored = {str(pk) for pk in self.get_queryset().values_list("pk", flat=True)}
        vanished = [i for i in range(initial) if data.get(f"{self.prefix}-{i}-id") not in stored]
        if not vanished:
            return data
        rows = [i for i in range(initial) if i not in vanished] + vanished + list(range(initial, total))
        fields = {
            i: {
                key.removeprefix(f"{self.prefix}-{i}-"): data.getlist(key)
                for key in data
                if key.startswith(f"{self.prefix}-{i}-")
            }
            for i in rows
        }
        renumbered = data.copy()
        for i in rows:
            for name in fields[i]:
                del renumbered[f"{self.prefix}-{i}-{name}"]
        for index, i in enumerate(rows):
            for name, values in fields[i].items():
                renumbered.setlist(f"{self.prefix}-{index}-{name}", values)
            if i in vanished:
                renumbered[f"{self.prefix}-{index}-id"] = ""
        renumbered[f"{self.prefix}-INITIAL_FORMS"] = str(initial - len(vanished))
        return renumbered


class FrontSlotInline(admin.TabularInline):
    """The stories of the arrangement in order: the first is the lead."""

    model = FrontSlot
    form = SlotForm
    formset = SlotFormSet
    extra = 0
    fields = ["article", "readers_see", "pinned_until", "order"]
    readonly_fields = ["readers_see"]
    verbose_name = "story"
    verbose_name_plural = "Stories (the first is the lead; the rest of the page fills itself with the newest)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("article")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "article":  # without the admin's add/change/view icons: the row has little room
            return self.formfield_for_foreignkey(db_field, request, **kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "article":
            return StoryChoiceField(
                Article.objects.all(),
                widget=StoryPicker(db_field, self.admin_site),
                label="Story",
                help_text="Type words of its headline.",
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Readers see it")
    def readers_see(self, slot):
        if not slot.pk:
            return "—"
        shown = slot.pinned_until is None or slot.pinned_until > timezone.now()
        label = story_label(slot.article).rpartition(LABEL_SEPARATOR)[2].capitalize()
        return label if shown else f"{label}; its pin ran out, so the page fills its place itself"

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or may_change_front(request.user, obj))

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and (obj is None or may_change_front(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or may_change_front(request.user, obj))


@admin.register(Front)
class FrontAdmin(BusyAwareAdmin, VersionAdmin):
    form = FrontForm
    # What readers see of each arrangement comes right after its name: on a phone the later columns scroll.
    list_display = ["page", "title", "state", "live", "approval", "slots"]
    list_display_links = ["page", "title"]
    list_filter = [PageFilter, StateFilter]
    list_select_related = ["section"]
    search_fields = ["title"]
    fields = ["section", "title", "live_from", "approved", "readers_see", "loaded_version"]
    readonly_fields = ["readers_see"]
    inlines = [FrontSlotInline]
    change_list_template = "admin/articles/front/change_list.html"
    change_form_template = "admin/articles/front/change_form.html"
    object_history_template = "admin/articles/front/object_history.html"
    history_latest_first = True

    class Media:
        css = {"all": ["articles/fronts.css"]}
        js = ["articles/fronts.js"]

    def get_queryset(self, request):
        return with_states(super().get_queryset(request), timezone.now())

    # Columns.

    @admin.display(description="Page", ordering="section__order")
    def page(self, front):
        return front.section.name if front.section_id else "Home page"

    @admin.display(description="Live from", ordering="live_from")
    def live(self, front):
        return history.when(front.live_from)

    @admin.display(description="Approved", ordering="approved")
    def approval(self, front):
        return "Approved" if front.approved else "Suggestion"

    @admin.display(description="Readers see it")
    def state(self, front):
        label = state_label(front)
        if label == "Live now" or label.startswith("Next"):
            return format_html("<strong>{}</strong>", label)
        return label

    @admin.display(description="Stories", ordering="slot_count")
    def slots(self, front):
        return front.slot_count

    @admin.display(description="Readers see it")
    def readers_see(self, front):
        if front.pk is None:
            return "—"
        return state_label(with_states(Front.objects.filter(pk=front.pk), timezone.now()).get())

    # Permissions: the model permissions, plus the workflow's.

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change_front(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_change_front(request.user, obj))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # A copy: the form writes the submitted values into `obj` itself.
        stored = copy.copy(getattr(request, "front_stored", obj))
        return type(form.__name__, (form,), {"user": request.user, "stored": stored})

    # Saving: with the version the form was loaded at in the UPDATE's WHERE clause.

    def save_model(self, request, obj, form, change):
        if change:
            stored = form.stored
            # A revert has written the old version into the row already (in this transaction): claim it as it is.
            expected = obj.version if getattr(request, "restoring", False) else stored.version
            claimed = Front.objects.filter(pk=obj.pk, version=expected).update(version=stored.version + 1)
            if not claimed:
                raise ArrangementConflict(obj)
            obj.version = stored.version + 1
        super().save_model(request, obj, form, change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {"preview_url": preview_url(object_id), **(extra_context or {})}
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ArrangementConflict:
            # Someone saved between this form's validation and its UPDATE: the transaction was rolled back;
            # running the view again shows the conflict in the form.
            return super().changeform_view(request, object_id, form_url, extra_context)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        stored = Front.objects.filter(pk=unquote(object_id)).first()
        # Asked of the arrangement as it is, before the revert loads an old version (perhaps approved) into it.
        if stored and not self.has_change_permission(request, stored):
            raise PermissionDenied
        request.front_stored = stored
        request.restoring = True
        return super().revision_view(request, object_id, version_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"can_recover": self.has_delete_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def recoverlist_view(self, request, extra_context=None):
        if not self.has_delete_permission(request):
            raise PermissionDenied  # undeleting is for those who may delete, as for stories
        return super().recoverlist_view(request, extra_context)

    def recover_view(self, request, version_id, extra_context=None):
        if not self.has_delete_permission(request):
            raise PermissionDenied
        return super().recover_view(request, version_id, extra_context)

    # Extra pages: the story search for slots, readable changes.

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("stories/", view(StorySearch.as_view(admin_site=self.admin_site)), name="articles_front_stories"),
            path(
                "<path:object_id>/history/<int:version_id>/changes/",
                view(self.changes_view),
                name="articles_front_changes",
            ),
        ] + super().get_urls()

    def changes_view(self, request, object_id, version_id):
        """What one saved version of the arrangement changed, compared with the version before it."""
        front = get_object_or_404(Front.objects.select_related("section"), pk=unquote(object_id))
        if not self.has_view_or_change_permission(request, front):
            raise PermissionDenied
        versions = list(Version.objects.get_for_object(front).select_related("revision__user"))
        index = next((i for i, v in enumerate(versions) if v.pk == version_id), None)
        if index is None:
            raise Http404("No such version.")
        version = versions[index]
        previous = versions[index + 1] if index + 1 < len(versions) else None
        fields, slots, arrangement = history.front_changes(version, previous)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Changes to {front}",
            "opts": self.model._meta,
            "original": front,
            "object_id": front.pk,
            "version": version,
            "previous": previous,
            "changes": fields,
            "slot_changes": slots,
            "arrangement": arrangement,
            "revert_url": reverse("admin:articles_front_revision", args=[front.pk, version.pk]),
            "can_revert": self.has_change_permission(request, front),
        }
        return TemplateResponse(request, "admin/articles/front/changes.html", context)


class ArrangementConflict(Exception):
    """The arrangement was saved by someone else after this copy of it was read."""


def preview_url(object_id):
    """The arrangement in the readers' template (the public side's preview view), if the site has one."""
    if object_id is None:
        return None
    try:
        return reverse("articles:front-preview", args=[unquote(object_id)])
    except NoReverseMatch:
        return None
