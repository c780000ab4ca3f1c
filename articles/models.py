import hashlib
import json

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property


class SectionManager(models.Manager):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Section(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0, help_text="Lower numbers come first in menus.")
    is_default = models.BooleanField(
        default=False, help_text="Where imported stories go when no routing rule matches. Only one section can be it."
    )

    objects = SectionManager()

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_section"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:section", kwargs={"section": self.slug})

    def natural_key(self):
        return (self.slug,)


class RoutingRule(models.Model):
    """A keyword that sends imported stories to a section.

    A match in the headline weighs more than one in the caption or body; the section with the
    highest total wins, so "Iran ... in Moscow" still lands in Middle East.
    """

    keyword = models.CharField(max_length=100, help_text="A word or phrase, matched case-insensitively as whole words.")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="routing_rules")
    weight = models.PositiveSmallIntegerField(default=1, help_text="Raise it for keywords that are decisive.")

    class Meta:
        ordering = ["section", "keyword"]
        constraints = [
            models.UniqueConstraint(fields=["keyword", "section"], name="unique_keyword_per_section"),
        ]

    def __str__(self):
        return f"{self.keyword} → {self.section}"


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """The one definition of what readers may see: published, and past any embargo."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())

    def embargoed(self):
        return self.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now())

    def withdrawn(self):
        """Stories taken down: their URLs answer 410 Gone with the reason."""
        return self.filter(status=Article.Status.WITHDRAWN)

    def in_section(self, section):
        return self.filter(section=section)

    def newest_first(self):
        return self.order_by("-published_at", "-pk")


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        REVIEW = "review", "In review"
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    headline = models.CharField(max_length=300)
    slug = models.SlugField(max_length=120, unique=True, allow_unicode=True)
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="articles")
    standfirst = models.TextField(blank=True, help_text="Optional summary shown under the headline.")
    body = models.TextField(help_text="Paragraphs separated by a blank line.")
    byline = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=12, default="en", help_text="BCP 47 code, e.g. en or ar.")
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="A time in the future embargoes the story until then."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    withdrawn_reason = models.TextField(blank=True, help_text="Shown to readers on the withdrawn story's page.")

    # What the importer needs to recognise a story it has seen before.
    source_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    source_file = models.CharField(max_length=255, blank=True, editable=False)
    import_hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        indexes = [
            # newest_first() orders by (-published_at, -pk): with -id in the index, PostgreSQL walks it in
            # order (index-only) even for deep pages, instead of sorting the whole section.
            models.Index(fields=["section", "status", "-published_at", "-id"], name="article_section_listing"),
            models.Index(fields=["status", "-published_at", "-id"], name="article_listing"),
            # The public site's Last-Modified is the newest edit of any story.
            models.Index(fields=["updated_at"], name="article_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="published_article_has_time",
            ),
            models.CheckConstraint(condition=~Q(headline=""), name="article_has_headline"),
        ]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        self.updated_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        when = timezone.localtime(self.published_at or self.created_at)
        return reverse(
            "articles:detail",
            kwargs={
                "section": self.section.slug,
                "year": when.year,
                "month": f"{when.month:02d}",
                "day": f"{when.day:02d}",
                "slug": self.slug,
            },
        )

    @property
    def paragraphs(self):
        return [p for p in self.body.split("\n\n") if p.strip()]

    @property
    def direction(self):
        return "rtl" if self.language.split("-")[0] in {"ar", "fa", "he", "ur"} else "ltr"

    @cached_property
    def summary(self):
        """The standfirst, or the first paragraph for listings and meta descriptions."""
        return self.standfirst or next(iter(self.paragraphs), "")

    @cached_property
    def lead_caption(self):
        # Iterating over all() uses prefetch_related("captions__photo") when the view asked for it.
        captions = list(self.captions.all())
        return next((c for c in captions if c.is_lead), captions[0] if captions else None)

    def content_hash(self):
        """Hash of the story's text as the importer compares it: changed here means an editor touched it."""
        return content_hash(
            self.headline,
            [(c.text, c.photo.credit) for c in sorted(self.captions.all(), key=lambda c: c.order)],
            self.paragraphs,
        )


def content_hash(headline, captions, paragraphs):
    payload = json.dumps([headline, [list(c) for c in captions], list(paragraphs)], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class Photo(models.Model):
    """An image asset. A wire caption can arrive before its picture, so the file is optional."""

    image = models.ImageField(upload_to="photos/%Y/%m/", blank=True, width_field="width", height_field="height")
    credit = models.CharField(max_length=200, blank=True, help_text='Agency and/or photographer, e.g. "Reuters".')
    alt_text = models.CharField(max_length=300, blank=True, help_text="Describes the image for screen readers.")
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        name = self.image.name.rsplit("/", 1)[-1] if self.image else "no image yet"
        return f"{name} ({self.credit})" if self.credit else name


class Caption(models.Model):
    """One photo's use in one article, with the caption written for that story."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="captions")
    photo = models.ForeignKey(Photo, on_delete=models.PROTECT, related_name="captions")
    text = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    is_lead = models.BooleanField(default=False)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["article", "order"], name="unique_caption_order"),
            models.UniqueConstraint(fields=["article"], condition=Q(is_lead=True), name="one_lead_caption"),
        ]

    def __str__(self):
        return self.text[:80] or str(self.photo)


class Correction(models.Model):
    """A note appended to a published story; readers see it under the story, newest first."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", "Correction"
        CLARIFICATION = "clarification", "Clarification"
        UPDATE = "update", "Update"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="corrections")
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.CORRECTION)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:60]}"


class Redirect(models.Model):
    """An old URL of a story (before a slug, section or date change) that answers 301 to its current URL."""

    old_path = models.CharField(max_length=500, unique=True)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="redirects")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.old_path} → {self.article}"
