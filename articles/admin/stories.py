"""Stories on the desk: the story form and its captions, notes and redirects; sections and routing rules."""

import reversion
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.forms.utils import ErrorDict
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.views.decorators.cache import never_cache
from reversion.admin import VersionAdmin
from reversion.models import Version

from newsroom.admin import BUSY_MESSAGE, BusyAwareAdmin, admin_form, database_busy

from .. import history, merge
from ..fields import LineFormField, ProseFormField
from ..models import Article, Byline, Caption, Correction, EditConflict, Redirect, RoutingRule, Section, StoryTopic
from ..text import detect_language, paragraphs
from ..workflow import (
    allowed_statuses,
    can_publish,
    check_status_change,
    may_change,
    publication_problems,
)
from .importing import ImportPages
from .photos import thumbnail_html
from .previews import PreviewPages


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 1


@admin.register(Section)
class SectionAdmin(BusyAwareAdmin):
    list_display = ["name", "slug", "order", "is_default"]
    list_editable = ["order"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]
    inlines = [RoutingRuleInline]


@admin.register(RoutingRule)
class RoutingRuleAdmin(BusyAwareAdmin):
    list_display = ["keyword", "section", "weight"]
    list_editable = ["weight"]
    list_filter = ["section"]
    search_fields = ["keyword"]


class CheckedAcrossTheStory(forms.ModelForm):
    """An inline's form whose unique constraints are checked by its formset, across the story's rows as they will
    be saved: checking one row against the stored others would reject two rows swapping places."""

    def validate_unique(self):
        pass

    def validate_constraints(self):
        pass


class CaptionForm(CheckedAcrossTheStory):
    # CaptionFormSet checks order and lead.
    class Meta:
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "cols": 50})}


def caption_rows(captions):
    """Captions as merge.py compares them: one sorted row per caption."""
    return sorted([str(c.pk), str(c.photo_id), merge.text(c.text), str(c.order), bool(c.is_lead)] for c in captions)


class CaptionFormSet(forms.BaseInlineFormSet):
    """The story's captions. They carry (BASE in the management form) the captions as the editor loaded them.

    If someone else changed the captions meanwhile, they are compared as a whole, three ways: when this
    editor did not touch them, theirs are kept (`kept_theirs`); when both did, differently, the save is
    refused (`refused`) and the captions are shown again as they are now, to be changed again.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept_theirs = self.refused = False
        # Read now: validating the forms writes the submitted values into these same instances.
        self.theirs = caption_rows(self.get_queryset())

    @cached_property
    def management_form(self):
        form = super().management_form
        form.fields["BASE"] = forms.CharField(widget=forms.HiddenInput, required=False)
        if not self.is_bound:
            form.initial["BASE"] = merge.sign(self.theirs)
        return form

    def submitted_rows(self):
        rows = []
        for i, form in enumerate(self.forms):
            if (self.can_delete and form["DELETE"].data) or (i >= self.initial_form_count() and not form.has_changed()):
                continue
            row = [form["id"].data, form["photo"].data, form["text"].data, form["order"].data]
            rows.append([merge.text(value) for value in row] + [bool(form["is_lead"].data)])
        return sorted(rows)

    def full_clean(self):
        super().full_clean()
        base = merge.unsign(self.data.get(self.add_prefix("BASE"))) if self.is_bound else None
        if base is None:
            return
        theirs, mine = self.theirs, self.submitted_rows()
        if theirs == base or mine == theirs:
            return
        if mine == base:
            # Nothing of this form will be saved, so its copies of captions deleted meanwhile do not matter;
            # the story is saved with the stored captions, and they must pass the publication rules.
            self.kept_theirs = True
            self._errors = [ErrorDict() for _ in self._errors]
            self._non_form_errors = self.error_class(publication_problems(self.instance), renderer=self.renderer)
            return
        self.refused = True
        self._non_form_errors.append(
            format_html(
                "{} changed the captions while you were editing, and so did you: your caption changes were NOT "
                "saved. The captions below are as they are now; make your changes to them again.",
                history.last_editor(self.instance),
            )
        )

    def is_valid(self):
        return super().is_valid() or (self.kept_theirs and not self._non_form_errors)

    def clean(self):
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not self._should_delete_form(f)]
        if sum(bool(f.cleaned_data.get("is_lead")) for f in kept) > 1:
            raise ValidationError("Only one caption can be the lead.")
        # The publication rules need the story with the captions it is being saved with: the story form
        # is validated before this formset exists, so the check is here (the change form, revert, recover).
        captions = [f.instance for f in self.forms if f.instance.photo_id and not self._should_delete_form(f)]
        if problems := publication_problems(self.instance, captions):
            raise ValidationError(problems)

    def save(self, commit=True):
        if self.kept_theirs:
            self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
            return []
        return super().save(commit)

    def save_existing_objects(self, commit=True):
        # Captions are saved one at a time, so two that swap places (or the lead flag) would briefly
        # collide in the unique constraints: park the ones being changed out of the way first.
        moving = [f.instance.pk for f in self.initial_forms if f.instance.pk and f.has_changed()]
        if commit and moving:
            top = Caption.objects.filter(article=self.instance).aggregate(top=Max("order"))["top"] or 0
            for offset, pk in enumerate(moving, start=1):
                Caption.objects.filter(pk=pk).update(order=top + offset, is_lead=False)
        return super().save_existing_objects(commit)


class CaptionInline(admin.TabularInline):
    model = Caption
    form = CaptionForm
    formset = CaptionFormSet
    extra = 0
    autocomplete_fields = ["photo"]
    fields = ["photo", "photo_thumbnail", "photo_credit", "text", "order", "is_lead"]
    readonly_fields = ["photo_thumbnail", "photo_credit"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("photo")

    @admin.display(description="Thumbnail")
    def photo_thumbnail(self, caption):
        return thumbnail_html(caption.photo if caption.pk else None)

    @admin.display(description="Credit")
    def photo_credit(self, caption):
        return caption.photo.credit if caption.pk else ""


class SwappableFormSet(forms.BaseInlineFormSet):
    """Rows whose choices are unique in their parent (a story's authors, an arrangement's stories): two rows that
    swap their choices would briefly collide in the unique constraint, so the changed rows are removed first,
    then written again (an UPDATE that finds no row inserts it, under the same id). The formset refuses the
    same choice twice (BaseModelFormSet.validate_unique)."""

    def save_existing_objects(self, commit=True):
        changed = [
            f.instance.pk
            for f in self.initial_forms
            if f.instance.pk and f.has_changed() and not self._should_delete_form(f)
        ]
        if commit and changed:
            self.model.objects.filter(pk__in=changed).delete()
        return super().save_existing_objects(commit)


class BylineFormSet(SwappableFormSet):
    """The story's authors (one_byline_per_author)."""


class BylineInline(admin.TabularInline):
    """The story's authors, in order; a story without any shows its byline text (a wire story's agency)."""

    model = Byline
    form = CheckedAcrossTheStory
    formset = BylineFormSet
    extra = 0
    autocomplete_fields = ["author"]
    fields = ["author", "order"]
    verbose_name = "author"
    verbose_name_plural = "Authors (in the order readers see them; without any, the byline text shows)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class StoryTopicInline(admin.TabularInline):
    """The story's topics, picked by typing their names; the formset refuses the same topic twice."""

    model = StoryTopic
    form = CheckedAcrossTheStory
    extra = 0
    autocomplete_fields = ["topic"]
    fields = ["topic"]
    verbose_name = "topic"
    verbose_name_plural = "Topics (each links to its page, which lists its stories)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("topic")


class CorrectionInline(admin.StackedInline):
    """Editors append notes; the form never edits or removes one already published."""

    model = Correction
    extra = 0
    fields = ["kind", "text", "created_at"]
    readonly_fields = ["created_at"]
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False  # existing notes are shown read-only; new ones can still be added


class RedirectInline(admin.TabularInline):
    """Old URLs of the story (created automatically when its URL changes); an editor can remove one."""

    model = Redirect
    extra = 0
    fields = ["old_path", "created_at"]
    readonly_fields = ["old_path", "created_at"]
    verbose_name_plural = "Redirects to this story (old URLs answering 301)"

    def has_add_permission(self, request, obj=None):
        return False


class EmbargoedFilter(admin.SimpleListFilter):
    title = "embargo"
    parameter_name = "embargoed"

    def lookups(self, request, model_admin):
        return [("yes", "Scheduled (embargoed)"), ("no", "Not scheduled")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.embargoed()
        if self.value() == "no":
            return queryset.exclude(pk__in=Article.objects.embargoed().values("pk"))
        return queryset


class MissingImageFilter(admin.SimpleListFilter):
    title = "lead image"
    parameter_name = "image"

    def lookups(self, request, model_admin):
        return [("missing", "Missing image"), ("present", "Has an image")]

    def queryset(self, request, queryset):
        missing = Q(lead_image__isnull=True) | Q(lead_image="")
        if self.value() == "missing":
            return queryset.filter(missing)
        if self.value() == "present":
            return queryset.exclude(missing)
        return queryset


class ImportSourceFilter(admin.SimpleListFilter):
    title = "import source"
    parameter_name = "source"
    WRITTEN_HERE = "__admin__"

    def lookups(self, request, model_admin):
        files = Article.objects.exclude(source_file="").order_by("source_file").values_list("source_file", flat=True)
        return [(self.WRITTEN_HERE, "Written in the admin"), *((name, name) for name in files.distinct())]

    def queryset(self, request, queryset):
        if self.value() == self.WRITTEN_HERE:
            return queryset.filter(source_file="")
        if self.value():
            return queryset.filter(source_file=self.value())
        return queryset


class ArticleForm(forms.ModelForm):
    """The story form, with the version it was loaded at and the workflow rules.

    ArticleAdmin.get_form sets `user` and `status_before` (the story's status before this request
    touched it, which for a revert is not the reverted instance's). `base` is the story as the editor
    loaded it, signed: a save made after someone else's is merged three ways against it (merge.py).
    """

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    base = forms.CharField(widget=forms.HiddenInput, required=False)
    language = LineFormField(
        max_length=Article._meta.get_field("language").max_length,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "from the text"}),
        help_text="BCP 47 code, e.g. en or ar. Leave it empty to have it detected from the text.",
    )
    user = None
    status_before = None

    class Meta:
        model = Article
        widgets = {
            "headline": forms.TextInput(attrs={"size": 90}),
            "standfirst": forms.Textarea(attrs={"rows": 3, "cols": 90}),
            "body": forms.Textarea(attrs={"rows": 20, "cols": 90}),
            "withdrawn_reason": forms.Textarea(attrs={"rows": 2, "cols": 90}),
        }
        fields = [
            "headline",
            "slug",
            "section",
            "standfirst",
            "body",
            "byline",
            "language",
            "status",
            "published_at",
            "withdrawn_reason",
        ]

    # The version and the snapshot the form was loaded with are bookkeeping, not an editor's changes.
    BOOKKEEPING = {"loaded_version", "base"}

    @cached_property
    def changed_data(self):
        return [name for name in super().changed_data if name not in self.BOOKKEEPING]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.merged = None  # after a save merged with someone else's: (who, labels of their fields kept)
        self.conflicts, self.conflict_by = {}, ""
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.version
            self.fields["base"].initial = merge.sign({"fields": self.story_text(self.instance)})
        self.base_state = merge.unsign(self.data.get(self.add_prefix("base"))) if self.is_bound else None
        if self.base_state and self.base_state.get("conflicts"):
            self.ask(self.base_state["conflicts"], self.base_state["by"])

    def editable(self):
        # Not self.Meta.fields: the admin's subclass lists every field of its fieldsets there.
        return [name for name in self.fields if name in ArticleForm.Meta.fields]

    def story_text(self, article):
        return {name: merge.text(getattr(article, name)) for name in self.editable()}

    def ask(self, conflicts, who):
        """Offer, for each field both editors changed, a choice between their version and this editor's."""
        for name in [name for name in self.fields if name.startswith("resolve_")]:
            del self.fields[name]
        self.conflicts, self.conflict_by = conflicts, who
        for name in conflicts:
            self.fields[f"resolve_{name}"] = forms.ChoiceField(
                label=f"Keep which {self.fields[name].label.lower()}?",
                widget=forms.RadioSelect,
                choices=[("theirs", f"{who}'s (shown above)"), ("mine", "Yours (as in the form below)")],
                error_messages={"required": f"Choose whose {self.fields[name].label.lower()} to keep."},
            )

    def conflict_rows(self):
        """What the conflict panel of the change form shows: each field both changed, both versions, a choice."""
        return [
            {
                "label": self.fields[name].label,
                "theirs": theirs,
                "mine": mine,
                "diff": history.word_diff(theirs, mine),
                "choice": self[f"resolve_{name}"],
            }
            for name, (theirs, mine) in self.conflicts.items()
        ]

    def clean_language(self):
        # Left empty (as a new story's form starts): the same detection as imported stories get.
        if language := self.cleaned_data["language"]:
            return language
        return detect_language(self.cleaned_data.get("headline", ""), paragraphs(self.cleaned_data.get("body", "")))

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            for name in self.conflicts:
                if cleaned.get(f"resolve_{name}") == "theirs":
                    cleaned[name] = getattr(self.instance, name)
            if cleaned.get("loaded_version") != self.instance.version:
                self.merge_stale(cleaned)
        status = cleaned.get("status")
        if status:
            try:
                check_status_change(self.user, self.status_before, status)
            except PermissionDenied as exc:
                self.add_error("status", str(exc))
        if status == Article.Status.PUBLISHED and not cleaned.get("published_at"):
            cleaned["published_at"] = timezone.now()
        if status == Article.Status.WITHDRAWN and not cleaned.get("withdrawn_reason"):
            self.add_error("withdrawn_reason", "Tell readers why the story was withdrawn.")
        return cleaned

    def merge_stale(self, cleaned):
        """Someone saved since this form was loaded: keep what they changed and this editor did not.

        Fields both changed differently are refused, with both versions and a choice. Either way the
        form now holds the merged story and is based on theirs, so saving it again loses nothing of theirs.
        """
        base = self.base_text(cleaned.get("loaded_version"))
        mine = {name: cleaned[name] for name in self.editable() if name in cleaned}
        theirs = {name: getattr(self.instance, name) for name in mine}
        result = merge.three_way(base, theirs, mine)
        cleaned.update(result.values)
        cleaned["loaded_version"] = self.instance.version  # the UPDATE still refuses a third save meanwhile
        who = history.last_editor(self.instance)
        conflicts = {name: [merge.text(theirs[name]), merge.text(mine[name])] for name in result.conflicts}
        self.data = self.data.copy()
        for name in result.theirs_taken:
            self.show(name, theirs[name])
        for name in [key for key in self.data if key.startswith("resolve_")]:
            del self.data[name]
        self.data[self.add_prefix("loaded_version")] = str(self.instance.version)
        state = {"fields": self.story_text(self.instance), "conflicts": conflicts, "by": who}
        self.data[self.add_prefix("base")] = merge.sign(state)
        if not result.conflicts:
            self.merged = (who, self.merged_labels(result))
            return
        self.ask(conflicts, who)
        changed = [
            (self.fields[name].label, history.word_diff(base.get(name, ""), merge.text(theirs[name])))
            for name in theirs
            if base.get(name, "") != merge.text(theirs[name])
        ]
        raise ValidationError(
            format_html(
                "This story was saved by {} while you were editing it, so your changes were NOT saved yet. "
                "What they changed:<ul>{}</ul>{}Both of you changed {}: choose below whose version to keep "
                "(or edit the field), then save again.",
                who,
                format_html_join("", "<li><b>{}</b>: {}</li>", changed),
                format_html("Their changes to {} are already in the form. ", ", ".join(self.merged_labels(result)))
                if result.theirs_taken
                else "",
                ", ".join(self.fields[name].label.lower() for name in result.conflicts),
            ),
            code="stale",
        )

    def merged_labels(self, result):
        return [self.fields[name].label.lower() for name in result.theirs_taken]

    def base_text(self, read_version):
        """The story as this editor loaded it: signed into the form, else from the history; {} if unknown."""
        if self.base_state:
            return self.base_state["fields"]
        then = history.version_at(self.instance, read_version) if read_version else None
        return self.story_text(then._object_version.object) if then else {}

    def show(self, name, value):
        """Put a value into the form's data as its widget would have submitted it, so the form shows it."""
        bound = self[name]
        widget = getattr(bound.field.widget, "widget", bound.field.widget)  # inside the admin's related wrapper
        context = widget.get_context(bound.html_name, bound.field.prepare_value(value), {})["widget"]
        for part in context.get("subwidgets") or [context]:
            shown = part["value"]
            if isinstance(shown, list):
                shown = shown[0] if shown else ""
            self.data[part["name"]] = "" if shown is None else shown


@admin.register(Article)
class ArticleAdmin(ImportPages, PreviewPages, BusyAwareAdmin, VersionAdmin):
    form = ArticleForm
    # Few, narrow columns beside the headline, so that it reads as one, at 1280 px with the sidebars open; when the
    # story was last changed is on its change form and its history.
    list_display = ["headline", "section", "status_label", "published", "lead_photo"]
    list_filter = ["status", EmbargoedFilter, "section", MissingImageFilter, ImportSourceFilter]
    search_fields = ["headline", "body"]
    date_hierarchy = "published_at"
    ordering = [F("published_at").desc(nulls_first=True), "-created_at"]  # unscheduled drafts on top, both DBs
    prepopulated_fields = {"slug": ["headline"]}
    list_select_related = ["section"]
    readonly_fields = ["visibility", "source_file", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["headline", "slug", "section", "standfirst", "body", "byline", "language"]}),
        (
            "Workflow",
            {"fields": ["visibility", "status", "published_at", "withdrawn_reason", "loaded_version", "base"]},
        ),
        ("Origin", {"fields": ["source_file", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [BylineInline, StoryTopicInline, CaptionInline, CorrectionInline, RedirectInline]
    actions = ["publish_selected", "withdraw_selected", "move_to_section"]
    change_list_template = "admin/articles/article/change_list.html"
    change_form_template = "admin/articles/article/change_form.html"
    object_history_template = "reversion/articles/article/object_history.html"
    history_latest_first = True

    class Media:
        css = {"all": ["articles/edit-conflict.css"]}

    def get_queryset(self, request):
        lead = Caption.objects.filter(article=OuterRef("pk")).order_by("-is_lead", "order", "pk")
        stories = super().get_queryset(request).with_lead_photo()  # the column's thumbnail: no query per row
        return stories.annotate(lead_image=Subquery(lead.values("photo__image")[:1]))  # MissingImageFilter's

    # Columns.

    @admin.display(description="Status", ordering="status")
    def status_label(self, article):
        if article.is_embargoed:
            when = timezone.localtime(article.published_at).strftime("%Y-%m-%d %H:%M")
            return format_html('<strong class="scheduled">Scheduled for {}</strong>', when)
        return article.get_status_display()

    @admin.display(description="Published", ordering="published_at")
    def published(self, article):
        return timezone.localtime(article.published_at).strftime("%Y-%m-%d %H:%M") if article.published_at else "—"

    @admin.display(description="Lead photo")
    def lead_photo(self, article):
        if not article.lead_image:
            return format_html('<strong class="missing-image">{}</strong>', "⚠ Missing image")
        return thumbnail_html(article.lead_caption.photo)

    @admin.display(description="Readers see it")
    def visibility(self, article):
        now = timezone.now()
        if article.is_embargoed:
            when = timezone.localtime(article.published_at).strftime("%Y-%m-%d %H:%M")
            return f"Not yet: scheduled, goes live by itself at {when} (in {timesince(now, article.published_at)})."
        if article.status == Article.Status.PUBLISHED:
            return "Yes, since " + timezone.localtime(article.published_at).strftime("%Y-%m-%d %H:%M") + "."
        if article.status == Article.Status.WITHDRAWN:
            return "No: withdrawn (its page says 410 Gone, with the reason)."
        return f"No: {article.get_status_display().lower()}."

    # Permissions: the model permissions, plus the workflow's.

    def has_publish_permission(self, request):
        return can_publish(request.user)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_change(request.user, obj))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        status_before = getattr(request, "status_before", obj.status if obj else None)
        return type(form.__name__, (form,), {"user": request.user, "status_before": status_before})

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            kwargs["choices"] = [(s.value, s.label) for s in allowed_statuses(request.user)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    # Saving: only what changed, and with the version the form was loaded at in the UPDATE's WHERE clause.

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
        # A change is saved by save_related(): the first hook that sees the captions and notes too, which an
        # edit may be limited to.

    def save_related(self, request, form, formsets, change):
        if change:
            # A revert or a recovery loads the old version into the form, so there it is unchanged but not a no-op.
            restoring = getattr(request, "restoring", False)
            if not restoring and not form.has_changed() and not any(formset.has_changed() for formset in formsets):
                raise NothingToSave(form.instance)
            form.instance.version = form.cleaned_data["loaded_version"]
            super().save_model(request, form.instance, form, change)
        super().save_related(request, form, formsets, change)
        # CaptionFormSet refused this already; without the captions inline (no permission to see them) the
        # stored captions are the ones saved, and only now is the story as saved in the database.
        if problems := publication_problems(form.instance):
            raise PermissionDenied(" ".join(problems))  # rolls back the save (changeform_view is atomic)
        who, merged = form.merged or (None, [])
        if any(getattr(formset, "kept_theirs", False) for formset in formsets):
            who, merged = who or history.last_editor(form.instance), [*merged, "the captions"]
        if merged:
            self.message_user(request, f"Merged with {who}'s changes to {', '.join(merged)}.")

    def get_inline_formsets(self, request, formsets, inline_instances, obj=None):
        # Captions someone else changed meanwhile are shown as they are now, not as this editor's stale copy.
        stale = [f for f in formsets if isinstance(f, CaptionFormSet) and (f.kept_theirs or f.refused)]
        formsets = [self.fresh_captions(f) if f in stale else f for f in formsets]
        return super().get_inline_formsets(request, formsets, inline_instances, obj)

    def fresh_captions(self, formset):
        fresh = type(formset)(instance=formset.instance, prefix=formset.prefix, queryset=formset.queryset.all())
        fresh._errors, fresh._non_form_errors = [], formset.non_form_errors()
        return fresh

    def delete_model(self, request, obj):
        history.record_before_delete([obj], request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        history.record_before_delete(queryset.prefetch_related(*history.RECOVERED_WITH_STORY), request.user)
        super().delete_queryset(request, queryset)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except EditConflict:
            # Someone saved between this form's validation and its UPDATE: the transaction was rolled
            # back; running the view again shows the conflict in the form like any other.
            return super().changeform_view(request, object_id, form_url, extra_context)
        except NothingToSave as unchanged:
            # No revision, no new version, no log entry: to the importer the story is still as it left it.
            self.message_user(request, f"No changes to save in “{unchanged.article}”.")
            if "_continue" in request.POST:
                return HttpResponseRedirect(request.get_full_path())
            return self.response_post_save_change(request, unchanged.article)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        current = Article.objects.filter(pk=unquote(object_id)).first()
        # Asked of the story as it is, before the revert loads an old version (perhaps a draft) into it.
        if current and not self.has_change_permission(request, current):
            raise PermissionDenied
        request.status_before = current.status if current else None
        request.restoring = True
        return super().revision_view(request, object_id, version_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        # Not VersionAdmin's, which wraps the whole list in one revision: a bulk action would then put
        # every story in a single revision, and reverting one story to it would revert them all.
        # The actions record a revision per story instead.
        extra_context = {"can_recover": self.has_delete_permission(request), **(extra_context or {})}
        return admin.ModelAdmin.changelist_view(self, request, extra_context)

    def recoverlist_view(self, request, extra_context=None):
        if not self.has_delete_permission(request):
            raise PermissionDenied  # undeleting is for those who may delete
        return super().recoverlist_view(request, extra_context)

    def recover_view(self, request, version_id, extra_context=None):
        if not self.has_delete_permission(request):
            raise PermissionDenied
        request.status_before = None
        request.restoring = True
        return super().recover_view(request, version_id, extra_context)

    # Bulk actions, each with a confirmation page.

    @admin.action(description="Publish selected stories", permissions=["publish"])
    def publish_selected(self, request, queryset):
        def publish(article, data):
            article.status = Article.Status.PUBLISHED
            article.published_at = article.published_at or timezone.now()
            return "Published."

        return self.confirm_action(request, queryset, "publish_selected", "Publish", forms.Form, publish)

    @admin.action(description="Withdraw selected stories", permissions=["publish"])
    def withdraw_selected(self, request, queryset):
        def withdraw(article, data):
            article.status = Article.Status.WITHDRAWN
            article.withdrawn_reason = data["reason"]
            return f"Withdrawn: {data['reason']}"

        return self.confirm_action(request, queryset, "withdraw_selected", "Withdraw", WithdrawForm, withdraw)

    @admin.action(description="Move selected stories to a section", permissions=["change"])
    def move_to_section(self, request, queryset):
        def move(article, data):
            article.section = data["section"]
            return f"Moved to {data['section']}."

        return self.confirm_action(request, queryset, "move_to_section", "Move", MoveForm, move)

    def confirm_action(self, request, queryset, action, verb, form_class, apply):
        """Show what the action will do; on confirmation apply it story by story, each save version-checked."""
        confirmed = "confirm" in request.POST
        form = form_class(request.POST if confirmed else None)
        articles = list(queryset.select_related("section").prefetch_related("captions__photo"))
        refused = [a for a in articles if not self.has_change_permission(request, a)]
        if refused:
            self.message_user(
                request,
                f"{verb}: you may not change {', '.join(map(str, refused))}; nothing was changed.",
                messages.ERROR,
            )
            return None
        if confirmed and form.is_valid():
            done, conflicts, unpublishable, waiting = 0, [], [], []
            for article in articles:
                message = apply(article, form.cleaned_data)
                # Whatever the action, a story it leaves public must pass the publication rules.
                if problems := publication_problems(article):
                    unpublishable.append(f"“{article}”: {' '.join(problems)}")
                    continue
                try:
                    with reversion.create_revision():
                        reversion.set_user(request.user)
                        article.save()
                        self.log_change(request, article, message)
                except EditConflict:
                    conflicts.append(str(article))
                    continue
                except OperationalError as exc:  # each story is saved on its own: say which ones were not
                    if not database_busy(exc):
                        raise
                    waiting = articles[articles.index(article) :]
                    break
                done += 1
            self.message_user(request, f"{verb}: {done} {'story' if done == 1 else 'stories'} done.")
            if waiting:
                self.message_user(
                    request, f"{BUSY_MESSAGE} Not changed yet: {', '.join(map(str, waiting))}.", messages.ERROR
                )
            for refusal in unpublishable:
                self.message_user(request, f"Not changed, because it cannot be published: {refusal}", messages.ERROR)
            if conflicts:
                self.message_user(
                    request,
                    f"Not changed, because someone saved them meanwhile: {', '.join(conflicts)}.",
                    messages.WARNING,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb} {len(articles)} {'story' if len(articles) == 1 else 'stories'}?",
            "opts": self.model._meta,
            "articles": articles,
            "form": form,
            "adminform": admin_form(form),
            "action": action,
            "verb": verb,
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/articles/article/action_confirmation.html", context)

    # Extra pages: preview, preview links, readable changes, import.

    def get_urls(self):
        prefix = f"{self.model._meta.app_label}_{self.model._meta.model_name}"
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name=f"{prefix}_import"),
            path(
                "preview/<str:token>/", never_cache(self.old_shared_preview_view), name=f"{prefix}_old_shared_preview"
            ),
            path("<path:object_id>/preview/", view(self.preview_view), name=f"{prefix}_preview"),
            path("<path:object_id>/preview-links/", view(self.preview_links_view), name=f"{prefix}_preview_links"),
            path(
                "<path:object_id>/history/<int:version_id>/changes/",
                view(self.changes_view),
                name=f"{prefix}_changes",
            ),
        ] + super().get_urls()

    def get_article_or_404(self, request, object_id):
        article = get_object_or_404(Article.objects.select_related("section"), pk=unquote(object_id))
        if not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        return article

    def changes_view(self, request, object_id, version_id):
        """What one saved version changed, compared with the version before it."""
        article = self.get_article_or_404(request, object_id)
        versions = list(Version.objects.get_for_object(article).select_related("revision__user"))
        index = next((i for i, v in enumerate(versions) if v.pk == version_id), None)
        if index is None:
            raise Http404("No such version.")
        version = versions[index]
        after = history.revision_fields(version)
        previous = versions[index + 1] if index + 1 < len(versions) else None
        before = history.revision_fields(previous) if previous else {}
        context = {
            **self.admin_site.each_context(request),
            "title": f"Changes to {article}",
            "opts": self.model._meta,
            "original": article,
            "object_id": article.pk,
            "version": version,
            "previous": previous,
            "changes": history.changes(before, after),
            "revert_url": reverse("admin:articles_article_revision", args=[article.pk, version.pk]),
            "can_revert": self.has_change_permission(request, article),
        }
        return TemplateResponse(request, "admin/articles/article/changes.html", context)


class NothingToSave(Exception):
    """The change form came back as it was sent, captions and notes included."""

    def __init__(self, article):
        super().__init__(f"{article} is unchanged")
        self.article = article


class WithdrawForm(forms.Form):
    reason = ProseFormField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Shown to readers on the story's page.")


class MoveForm(forms.Form):
    section = forms.ModelChoiceField(Section.objects.all())
