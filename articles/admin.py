from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html

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


class ImageFilter(admin.SimpleListFilter):
    title = "image"
    parameter_name = "image"

    def lookups(self, request, model_admin):
        return [("missing", "Missing (caption waiting for its picture)"), ("present", "Uploaded")]

    def queryset(self, request, queryset):
        missing = Q(image="") | Q(image__isnull=True)
        if self.value() == "missing":
            return queryset.filter(missing)
        if self.value() == "present":
            return queryset.exclude(missing)
        return queryset


class AltTextFilter(admin.SimpleListFilter):
    title = "alt text"
    parameter_name = "alt_text"

    def lookups(self, request, model_admin):
        return [("missing", "Missing")]

    def queryset(self, request, queryset):
        if self.value() == "missing":
            return queryset.filter(alt_text="")
        return queryset


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["__str__", "credit", "has_image", "has_alt_text", "width", "height", "created_at"]
    list_filter = [ImageFilter, AltTextFilter]
    search_fields = ["credit", "alt_text", "captions__text"]
    fields = ["image", "preview", "alt_text", "credit", ("focal_x", "focal_y")]
    readonly_fields = ["preview"]

    class Media:
        css = {"all": ["articles/focal-point.css"]}
        js = ["articles/focal-point.js"]

    @admin.display(boolean=True, description="image")
    def has_image(self, photo):
        return bool(photo.image)

    @admin.display(boolean=True, description="alt text")
    def has_alt_text(self, photo):
        return bool(photo.alt_text.strip())

    @admin.display(description="focal point")
    def preview(self, photo):
        if not photo.image:
            return "No image yet."
        # focal-point.js puts the marker on the focal point and moves it (and the fields) on a click.
        return format_html(
            '<div class="focal-point" data-x="{}" data-y="{}"><img src="{}" alt="">'
            '<span class="focal-point-marker" hidden></span></div>'
            "<p>Click the picture on what crops must keep.</p>",
            photo.focal_x,
            photo.focal_y,
            photo.image.url,
        )
