"""The photo library: each photo, its thumbnail, focal point, credit and the stories it is in."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import Prefetch, Q
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from newsroom.admin import BusyAwareAdmin

from ..models import Caption, Photo
from ..photos import renditions
from ..photos.fields import StoredPhotoForm
from ..workflow import may_change_photo

THUMBNAIL_BOX = 80  # px: the square a thumbnail fits in (lists, the captions inline)
# What the desk sees of a picture just uploaded, until a worker has made its renditions (photos/tasks.py).
RENDITIONS_PENDING = "Being prepared…"


def smallest_rendition(photo, at_least=0):
    """The smallest rendition of the whole picture at least `at_least` px wide (else the largest), in the format
    every browser reads: what the desk looks at instead of the original, which may be 1600x2400."""
    fallback = renditions.renditions(photo, "full")
    fallback = [r for r in fallback if r.extension == fallback[-1].extension]
    return next((r for r in fallback if r.width >= at_least), fallback[-1])


def thumbnail_html(photo, box=THUMBNAIL_BOX):
    if photo is None or not photo.pk or not photo.image or not photo.width:
        return "—"
    if not renditions.ready(photo):
        return RENDITIONS_PENDING
    scale = min(box / photo.width, box / photo.height, 1)
    return format_html(
        '<img class="thumbnail" src="{}" width="{}" height="{}" alt="">',
        renditions.url(photo, smallest_rendition(photo)),
        max(1, round(photo.width * scale)),
        max(1, round(photo.height * scale)),
    )


def status_in_words(article):
    if article.is_embargoed:
        return "scheduled"
    return article.get_status_display().lower()


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
class PhotoAdmin(BusyAwareAdmin):
    form = StoredPhotoForm  # a full disk is a form error, not a 500 part-way through the save
    # What tells photos apart: the picture, the name it was uploaded under, and where it is used (for one still
    # waiting for its picture, the caption says what it will show).
    # The newest first (Photo.Meta.ordering).
    list_display = ["thumbnail", "name", "credit", "used_in", "has_alt_text"]
    list_display_links = ["thumbnail", "name"]
    list_filter = [ImageFilter, AltTextFilter]
    search_fields = ["credit", "alt_text", "captions__text"]
    fields = ["used_in", "image", "preview", "alt_text", "credit", ("focal_x", "focal_y")]
    readonly_fields = ["used_in", "preview"]

    class Media:
        css = {"all": ["articles/focal-point.css"]}
        js = ["articles/focal-point.js"]

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change_photo(request.user, obj))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        photo = self.get_object(request, unquote(object_id))
        if (
            photo is not None
            and request.method == "GET"
            and request.user.has_perm("articles.change_photo")
            and not self.has_change_permission(request, photo)
        ):
            self.message_user(
                request,
                "Only an editor can change this photo: it is in a story that is published, scheduled or withdrawn, "
                "where a new image, credit or alt text would show at once.",
                messages.WARNING,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_queryset(self, request):
        captions = Caption.objects.select_related("article").order_by("order", "pk")
        return super().get_queryset(request).prefetch_related(Prefetch("captions", queryset=captions))

    @admin.display(description="photo", ordering="original_name")
    def name(self, photo):
        if photo.image:
            size = f"{photo.width}×{photo.height}" if photo.width else "size unknown"
            name = photo.original_name or photo.image.name.rsplit("/", 1)[-1]
            return format_html("{} <small>({})</small>", name, size)
        caption = next(iter(photo.captions.all()), None)
        if caption is None:
            return "No image yet"
        return format_html("No image yet, for “{}”", Truncator(caption.text).words(12))

    @admin.display(description="used in")
    def used_in(self, photo):
        stories = [caption.article for caption in photo.captions.all()] if photo.pk else []
        if not stories:
            return "No story yet."
        return format_html_join(", ", "“{}” ({})", ((a, status_in_words(a)) for a in stories))

    @admin.display(boolean=True, description="alt text")
    def has_alt_text(self, photo):
        return bool(photo.alt_text.strip())

    @admin.display(description="focal point")
    def preview(self, photo):
        if not photo.pk or not photo.image or not photo.width:
            return "No image yet."
        if not renditions.ready(photo):
            return "The picture is being prepared: reload this page in a moment to click its focal point."
        shown = smallest_rendition(photo, at_least=640)  # focal-point.css shows it at most 32rem wide
        # focal-point.js puts the marker on the focal point and moves it (and the fields) on a click.
        return format_html(
            '<div class="focal-point" data-x="{}" data-y="{}"><img src="{}" width="{}" height="{}" alt="">'
            '<span class="focal-point-marker" hidden></span></div>'
            "<p>Click the picture on what crops must keep.</p>",
            photo.focal_x,
            photo.focal_y,
            renditions.url(photo, shown),
            shown.width,
            shown.height,
        )

    @admin.display(description="Thumbnail")
    def thumbnail(self, photo):
        return thumbnail_html(photo)
