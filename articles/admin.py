from django.contrib import admin

from .models import Article, Caption, Photo, RoutingRule, Section


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 1


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "order", "is_default"]
    list_editable = ["order"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]
    inlines = [RoutingRuleInline]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["keyword", "section", "weight"]
    list_filter = ["section"]
    search_fields = ["keyword"]


class CaptionInline(admin.TabularInline):
    model = Caption
    extra = 0
    autocomplete_fields = ["photo"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["headline", "section", "status", "published_at", "updated_at"]
    list_filter = ["status", "section"]
    search_fields = ["headline", "body"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["headline"]}
    list_select_related = ["section"]
    inlines = [CaptionInline]


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["__str__", "credit", "width", "height", "created_at"]
    search_fields = ["credit", "alt_text", "captions__text"]
