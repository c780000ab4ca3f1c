"""Topics: what stories are about. Editors manage and merge them; the story form picks them."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.template.response import TemplateResponse

from newsroom.admin import BusyAwareAdmin, admin_form

from ..models import Article, Topic, TopicRule
from ..pagecache import content_changed, story_states


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(
        Topic.objects.all(),
        label="Merge into",
        help_text="The topic that keeps the stories; the others' pages and feeds redirect to its own.",
    )

    def __init__(self, *args, merged, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = Topic.objects.exclude(pk__in=[topic.pk for topic in merged])


class TopicRuleInline(admin.TabularInline):
    model = TopicRule
    extra = 1
    fields = ["keyword"]
    verbose_name = "import keyword"
    verbose_name_plural = "Import keywords (an imported story that has one, as a whole word, gets this topic)"


@admin.register(Topic)
class TopicAdmin(BusyAwareAdmin):
    list_display = ["name", "slug", "stories"]
    ordering = ["name", "pk"]  # the count of stories groups the rows, which drops Meta.ordering
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "description"]
    inlines = [TopicRuleInline]
    actions = ["merge_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(story_count=Count("story_topics"))

    @admin.display(description="Stories (any status)", ordering="story_count")
    def stories(self, topic):
        return topic.story_count

    @admin.action(description="Merge selected topics into another", permissions=["change", "delete"])
    def merge_selected(self, request, queryset):
        """Confirm, then move the selected topics' stories to the chosen one and delete them; their addresses
        redirect to its own."""
        merged = list(queryset.order_by("name", "pk"))
        confirmed = "confirm" in request.POST
        form = MergeForm(request.POST if confirmed else None, merged=merged)
        if confirmed and form.is_valid():
            into = form.cleaned_data["into"]
            for topic in merged:
                stories = story_states(Article.objects.on_topic(topic))
                content_changed(stories, topics={topic.slug, into.slug})
                topic.merge_into(into)
                self.log_change(request, into, f"Merged “{topic}” ({topic.slug}) into it.")
            names = ", ".join(f"“{topic}”" for topic in merged)
            self.message_user(request, f"Merged {names} into “{into}”.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Merge {len(merged)} topic{'' if len(merged) == 1 else 's'}?",
            "opts": self.model._meta,
            "topics": merged,
            "form": form,
            "adminform": admin_form(form),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/articles/topic/merge_confirmation.html", context)
