import hashlib
import os
import secrets
import socket
import uuid
from datetime import timedelta

import reversion
from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Exists, F, JSONField, OuterRef, Prefetch, Q, StringAgg, Subquery, Value
from django.db.models.functions import Concat, JSONObject
from django.db.models.lookups import In
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from . import text
from .fields import LineField, ProseField
from .photos import renditions
from .photos.fields import PhotoImageField
from .search import SearchIndex


class SectionManager(models.Manager):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


# The first parts of public URLs that are not sections' (articles/urls.py matches them before `<section>/`): a
# section with one of these slugs would be shadowed by them, or shadow their pages.
RESERVED_SLUGS = frozenset({"api", "authors", "feed", "search", "topics"})


def not_reserved(slug):
    if slug in RESERVED_SLUGS:
        raise ValidationError(
            "“%(slug)s” is taken by the site's own pages (/%(slug)s/): choose another.", params={"slug": slug}
        )


class Section(models.Model):
    name = LineField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True, validators=[not_reserved])
    description = ProseField(blank=True)
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

    keyword = LineField(max_length=100, help_text="A word or phrase, matched case-insensitively as whole words.")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="routing_rules")
    weight = models.PositiveSmallIntegerField(default=1, help_text="Raise it for keywords that are decisive.")

    class Meta:
        ordering = ["section", "keyword"]
        constraints = [
            models.UniqueConstraint(fields=["keyword", "section"], name="unique_keyword_per_section"),
        ]

    def __str__(self):
        return f"{self.keyword} → {self.section}"


PUBLIC, EMBARGOED = "public", "embargoed"


def publication_state(status, published_at, at=None):
    """PUBLIC, EMBARGOED or None: what ArticleQuerySet.published() and embargoed() decide, for a story in hand
    (or its state before a change). Change the two together."""
    if status != Article.Status.PUBLISHED or published_at is None:
        return None
    return PUBLIC if published_at <= (at or timezone.now()) else EMBARGOED


class NotByKey(models.Func):
    """A story's id, which SQLite may not look the story up by (written `+id`): where a list of ids is checked
    against a listing, SQLite then walks the listing index in order instead of fetching and sorting every story
    on the list. Other databases get the id as it is."""

    template = "%(expressions)s"
    output_field = models.BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


class ArticleQuerySet(models.QuerySet):
    def published(self, at=None):
        """The one definition of what readers may see: published, and past any embargo (now, or at `at`)."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=at or timezone.now())

    def embargoed(self):
        """Published, to appear at a time still to come."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now())

    def withdrawn(self):
        """Stories taken down: their URLs answer 410 Gone with the reason."""
        return self.filter(status=Article.Status.WITHDRAWN)

    def in_section(self, section):
        return self.filter(section=section)

    def by_author(self, author):
        # The author's stories as a list to look up in (from byline_author_stories), not a join: a listing then
        # walks article_listing newest first, index-only. A join let SQLite read each story's row for its
        # status and time, which it keeps after the body, in the row's overflow pages (0.1-0.9 s a page).
        return self.filter(pk__in=Byline.objects.filter(author=author).values("article_id"))

    def on_topic(self, topic):
        """A topic's stories: a list of ids from the links' index (story_topic_stories), as by_author's, for a
        listing to walk against in its order. (A topic's page reads its links in listing order instead:
        listings.topic_page.)"""
        ids = StoryTopic.objects.filter(topic=topic).order_by().values("article_id")
        return self.filter(In(NotByKey(F("pk")), ids))

    def newest_first(self):
        return self.order_by("-published_at", "-pk")

    def with_topics(self):
        """Each story's topics, read with the story as one string (`topic_list`, None without any; Topic.listed()
        reads it): the story page needs no query of its own for them."""
        links = StoryTopic.objects.filter(article=OuterRef("pk")).order_by().values("article")
        pair = Concat("topic__slug", Value(UNIT), "topic__name", output_field=models.TextField())
        joined = StringAgg(pair, delimiter=Value(RECORD))
        return self.annotate(topic_list=Subquery(links.annotate(joined=joined).values("joined")))

    def with_lead_photo(self):
        """Each story's lead caption (or else its first) and its photo, read with the story as one JSON object:
        a listing needs no query for its captions, and Article.lead_caption makes the objects only when
        asked (a kept card never asks)."""
        lead = Caption.objects.filter(article=OuterRef("pk")).order_by("-is_lead", "order", "pk")
        return self.annotate(lead=Subquery(lead.values(json=caption_as_json())[:1], output_field=JSONField()))

    def for_ninjs(self):
        """What the API's ninjs (articles/api/ninjs.py) shows of each story, read for a whole page of stories in
        a constant number of queries: the section with the story, its topics as one string (with_topics()), then
        the captions with their photos, the bylines with their authors, and the corrections, one query each."""
        return (
            self.select_related("section")
            .with_topics()
            .prefetch_related(captions_with_photos(), bylines_with_authors(), "corrections")
        )


# What with_lead_photo() reads of a story's lead caption and its photo: what cards show of them.
CAPTION_FIELDS = ["id", "photo_id", "text", "order", "is_lead"]
PHOTO_FIELDS = ["id", "image", "credit", "alt_text", "focal_x", "focal_y", "width", "height", "renditions_key"]


def caption_as_json():
    return JSONObject(
        **{f"caption_{name}": name for name in CAPTION_FIELDS},
        **{f"photo_{name}": f"photo__{name}" for name in PHOTO_FIELDS},
    )


def photo_in_json(row):
    """The photo's fields ({name: value}) in a JSON object of caption_as_json()."""
    return {name: row[f"photo_{name}"] for name in PHOTO_FIELDS}


def captions_with_photos():
    """A story's captions with their photos, in order, for prefetch_related() or prefetch_related_objects()."""
    return Prefetch("captions", queryset=Caption.objects.select_related("photo"))


def lead_of(captions):
    """The caption whose photo stands for the story: its lead, or else its first (captions in their order)."""
    return next((caption for caption in captions if caption.is_lead), captions[0] if captions else None)


class ArticleManager(models.Manager.from_queryset(ArticleQuerySet)):
    def get_queryset(self):
        # Stories are read without their search vectors: PostgreSQL's search reads them itself, and the
        # whole story's (some 8.7 KB, stored out of line) would make every page read it too.
        return super().get_queryset().defer("search_document", "search_rank")


class EditConflict(Exception):
    """The story was saved by someone else after this copy of it was read: saving it would lose their edit."""

    def __init__(self, article):
        super().__init__(f"{article.headline!r} (id {article.pk}) was changed since version {article.version} was read")
        self.article = article


@reversion.register(follow=["captions", "bylines", "story_topics"])
class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        REVIEW = "review", "In review"
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    headline = LineField(max_length=300)
    slug = models.SlugField(max_length=120, unique=True, allow_unicode=True)
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="articles")
    standfirst = ProseField(blank=True, help_text="Optional summary shown under the headline.")
    body = ProseField(help_text="Paragraphs separated by a blank line.")
    byline = LineField(max_length=200, blank=True)
    language = LineField(max_length=12, default="en", help_text="BCP 47 code, e.g. en or ar.")
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="A time in the future embargoes the story until then."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    withdrawn_reason = ProseField(blank=True, help_text="Shown to readers on the withdrawn story's page.")

    # What the importer needs to recognise a story it has seen before.
    source_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    source_file = models.CharField(max_length=255, blank=True, editable=False)
    import_hash = models.CharField(max_length=64, blank=True, editable=False)
    # SHA-256 of the dump file that last created or updated the story (see ImportedDump).
    source_digest = models.CharField(max_length=64, blank=True, editable=False, default="", db_default="")
    # PostgreSQL's search index (articles/search/postgresql.py), filled by triggers; on SQLite always NULL,
    # its index being an FTS5 table beside this one. Not in dumps or revisions: triggers fill them.
    search_document = SearchVectorField(null=True, editable=False, serialize=False)
    search_rank = SearchVectorField(null=True, editable=False, serialize=False)

    objects = ArticleManager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        base_manager_name = "objects"  # related stories (caption.article) are read without search vectors too
        permissions = [("publish_article", "Can publish, schedule and withdraw stories")]
        indexes = [
            # newest_first() orders by (-published_at, -pk): with -id in the index, PostgreSQL walks it in
            # order (index-only) even for deep pages, instead of sorting the whole section.
            models.Index(fields=["section", "status", "-published_at", "-id"], name="article_section_listing"),
            models.Index(fields=["status", "-published_at", "-id"], name="article_listing"),
            # The public site's Last-Modified is the newest edit of any story.
            models.Index(fields=["updated_at"], name="article_updated"),
            models.Index(fields=["source_digest"], name="article_source_digest"),
            SearchIndex(fields=["search_document"], name="articles_search_document_gin"),
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
        """Save; for a story read from the database, only if nobody saved it since (else EditConflict).

        `version` is the version this copy was read at (the admin sets it to the version its form was
        loaded with). The check is part of the UPDATE itself, so it holds across app servers.
        """
        self.updated_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at", "version"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return story_path(self.section.slug, self.published_at or self.created_at, self.slug)

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update, returning_fields):
        # Django's hook for the UPDATE of save(). A copy that was never read from the database
        # (a fixture or a reverted revision, saved raw) just bumps the version; a copy that was read
        # updates only the row still at its version, and bumps it in the same statement.
        version = self._meta.get_field("version")
        if self._state.adding:
            values = [(f, m, F("version") + 1 if f is version else v) for f, m, v in values]
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update, returning_fields)
        values = [(f, m, self.version + 1 if f is version else v) for f, m, v in values]
        results = super()._do_update(
            base_qs.filter(version=self.version), using, pk_val, values, update_fields, forced_update, returning_fields
        )
        if not results:
            raise EditConflict(self)
        self.version += 1
        return results

    @property
    def is_embargoed(self):
        return publication_state(self.status, self.published_at) == EMBARGOED

    @property
    def paragraphs(self):
        return text.paragraphs(self.body)

    @property
    def direction(self):
        return "rtl" if self.language.split("-")[0] in {"ar", "fa", "he", "ur"} else "ltr"

    @cached_property
    def summary(self):
        """The standfirst, or the first paragraph for listings and meta descriptions."""
        return self.standfirst or next(iter(self.paragraphs), "")

    @cached_property
    def lead_caption(self):
        if "lead" in self.__dict__:  # read with the story: ArticleQuerySet.with_lead_photo()
            return Caption.from_json(self, self.lead) if self.lead else None
        # all() is what prefetch_related(captions_with_photos()) read, when the story was read with it.
        return lead_of(list(self.captions.all()))

    def lead_photo_values(self):
        """The lead photo's PHOTO_FIELDS ({name: value}; {} if it has none), read from the JSON the story came
        with (ArticleQuerySet.with_lead_photo()) if it did, so that a kept card makes no objects."""
        if "lead" in self.__dict__:
            return photo_in_json(self.lead) if self.lead else {}
        photo = self.lead_caption.photo if self.lead_caption else None
        return {name: getattr(photo, name) for name in PHOTO_FIELDS} if photo else {}

    def content_hash(self):
        """Hash of the story's text as the importer compares it: changed here means an editor touched it."""
        return content_hash(
            self.headline,
            [(c.text, c.photo.credit) for c in sorted(self.captions.all(), key=lambda c: c.order)],
            self.paragraphs,
        )


def story_path(section_slug, when, slug):
    """A story's URL: its section, its publication day in the newsroom's time zone, its slug."""
    when = timezone.localtime(when)
    return reverse(
        "articles:detail",
        kwargs={
            "section": section_slug,
            "year": when.year,
            "month": f"{when.month:02d}",
            "day": f"{when.day:02d}",
            "slug": slug,
        },
    )


def content_hash(headline, captions, paragraphs):
    # ASCII separators (\x1d-\x1f) cannot occur in stored text: articles.text.clean_text removes them.
    captions = "\x1e".join(f"{text}\x1f{credit}" for text, credit in captions)
    payload = "\x1d".join([headline, captions, *paragraphs])
    return hashlib.sha256(payload.encode()).hexdigest()


class AuthorQuerySet(models.QuerySet):
    def with_published_stories(self):
        """Authors of at least one story readers can see (each found by its first: no author's whole list is read)."""
        return self.filter(Exists(Article.objects.published().filter(bylines__author=OuterRef("pk"))))


class Author(models.Model):
    """A writer: their bylines link to their page, which lists their published stories."""

    name = LineField(max_length=200)
    slug = models.SlugField(
        max_length=100, unique=True, help_text="Their page's address (letters a-z, digits, hyphens)."
    )
    bio = ProseField("short bio", blank=True, help_text="A few sentences, shown on their page.")
    photo = models.ForeignKey(
        "Photo",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="authors",
        help_text="A portrait, shown on their page; it needs alt text.",
    )

    objects = AuthorQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:author", kwargs={"author": self.slug})

    @property
    def paragraphs(self):
        return text.paragraphs(self.bio)

    def clean(self):
        if self.photo and self.photo.needs_alt_text:
            raise ValidationError({"photo": "This photo has no alt text yet: add it to the photo first."})


class AuthorLink(models.Model):
    """One of an author's pages elsewhere (their site, a social profile), listed on their page."""

    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="links")
    label = LineField(max_length=60, help_text="What readers see, e.g. “Website” or “Mastodon”.")
    url = models.URLField("URL", max_length=500)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self):
        return f"{self.label}: {self.url}"


def ListedAt():  # noqa: N802 -- a field, named as fields are
    """A story's place in listings as its links keep it: its publication time while it is published, else null.
    The database's triggers write it (migration 0026) whatever writes the link or the story; Django never
    decides it, and revisions leave it out."""
    return models.DateTimeField(null=True, editable=False, serialize=False)


@reversion.register()
class Byline(models.Model):
    """One author of one story, in the story's order of authors. Saved with the story's revisions."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="bylines")
    # Indexed with the story below: an author's page goes from the author to their stories.
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="bylines", db_index=False)
    order = models.PositiveSmallIntegerField(default=0)
    # The story's place in listings, kept by the database (migration 0026): its author's page reads it.
    listed_at = ListedAt()

    class Meta:
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["article", "author"], name="one_byline_per_author")]
        indexes = [
            models.Index(fields=["author", "article"], name="byline_author_stories"),
            models.Index(fields=["author", "-listed_at", "-article"], name="byline_author_listing"),
        ]

    def __str__(self):
        return f"{self.author} on {self.article}"


def bylines_with_authors():
    """A story's bylines with their authors, in order, for prefetch_related()."""
    return Prefetch("bylines", queryset=Byline.objects.select_related("author"))


class TopicQuerySet(models.QuerySet):
    def with_published_stories(self):
        """Topics of at least one story readers can see (each found by its first, as authors are)."""
        return self.filter(Exists(Article.objects.published().filter(story_topics__topic=OuterRef("pk"))))


# Separators of a story's topics in ArticleQuerySet.with_topics(): ASCII separators, which stored text never holds
# (articles.text.clean_text removes them, and slugs are letters, digits and hyphens).
UNIT, RECORD = "\x1f", "\x1e"


class Topic(models.Model):
    """A running story or a subject (“Energy”, “Gaza ceasefire”): several per story, each with its page."""

    name = LineField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, help_text="Its page's address (letters a-z, digits, hyphens).")
    description = ProseField(blank=True, help_text="A few sentences, shown on its page.")

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:topic", kwargs={"topic": self.slug})

    @property
    def paragraphs(self):
        return text.paragraphs(self.description)

    @staticmethod
    def listed(topic_list):
        """The topics (unsaved: a name and a slug) of a story's `topic_list` (ArticleQuerySet.with_topics()),
        by name."""
        pairs = (item.split(UNIT, 1) for item in (topic_list or "").split(RECORD) if item)
        return sorted((Topic(slug=slug, name=name) for slug, name in pairs), key=lambda topic: topic.name)

    @transaction.atomic
    def merge_into(self, other):
        """Move this topic's stories to `other` (a story on both keeps one link), then delete this topic; its
        address, and the addresses of topics merged into it before, redirect to `other`'s for good."""
        if other.pk == self.pk:
            raise ValueError("A topic cannot be merged into itself.")
        self.story_topics.filter(article__story_topics__topic=other).delete()
        self.story_topics.update(topic=other)
        self.redirects.update(topic=other)
        TopicRedirect.objects.filter(old_slug=other.slug).delete()  # its own address again
        TopicRedirect.objects.update_or_create(old_slug=self.slug, defaults={"topic": other, "old_id": self.pk})
        self.rules.exclude(keyword__in=other.rules.values("keyword")).update(topic=other)
        self.delete()


@reversion.register()
class StoryTopic(models.Model):
    """One topic of one story. Saved with the story's revisions."""

    # Indexed by one_link_per_topic (article, topic): a story's topics are read from that index alone.
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="story_topics", db_index=False)
    # Indexed with the story below: a topic's page goes from the topic to its stories.
    # Protected, as an author by their bylines: a topic with stories is merged into another, not deleted.
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="story_topics", db_index=False)
    # The story's place in listings, kept by the database (migration 0026): the topic's page reads it.
    listed_at = ListedAt()

    class Meta:
        ordering = ["topic__name", "pk"]
        verbose_name = "topic of a story"
        constraints = [models.UniqueConstraint(fields=["article", "topic"], name="one_link_per_topic")]
        indexes = [
            models.Index(fields=["topic", "article"], name="story_topic_stories"),
            models.Index(fields=["topic", "-listed_at", "-article"], name="story_topic_listing"),
        ]

    def __str__(self):
        return f"{self.topic} on {self.article}"

    def follow_merges(self):
        """A link restored from a revision (a revert, a recovered story) to a topic merged since goes to the
        topic it was merged into, which has its stories now."""
        if not Topic.objects.filter(pk=self.topic_id).exists():
            merged = TopicRedirect.objects.filter(old_id=self.topic_id).values_list("topic_id", flat=True).first()
            self.topic_id = merged or self.topic_id


class TopicRedirect(models.Model):
    """The address of a topic merged into another: /topics/<old_slug>/ and its feeds answer 301 to the topic's."""

    old_slug = models.SlugField(max_length=100, unique=True)
    # The merged topic's id: a story's revision from before the merge names it (StoryTopic.follow_merges).
    old_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="redirects")

    def __str__(self):
        return f"{self.old_slug} → {self.topic.slug}"


class TopicRule(models.Model):
    """A keyword that gives imported stories a topic, matched as a section's routing rules are (whole words,
    any case, in the headline, captions or body); a story may take several topics."""

    keyword = LineField(max_length=100, help_text="A word or phrase, matched case-insensitively as whole words.")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="rules")

    class Meta:
        ordering = ["topic", "keyword"]
        constraints = [models.UniqueConstraint(fields=["keyword", "topic"], name="unique_keyword_per_topic")]

    def __str__(self):
        return f"{self.keyword} → {self.topic}"


class FrontQuerySet(models.QuerySet):
    def live(self, at=None):
        """The arrangements in force (now, or at `at`): approved, and their time come. Each page's is its newest."""
        return self.filter(approved=True, live_from__lte=at or timezone.now())

    def scheduled(self, at=None):
        """Approved arrangements still to go live: when one does, its page changes without a save."""
        return self.filter(approved=True, live_from__gt=at or timezone.now())

    def of_page(self, section):
        """The arrangements of one front: a section's, or the home page's (section None)."""
        return self.filter(section__isnull=True) if section is None else self.filter(section=section)


@reversion.register(follow=["slots"])
class Front(models.Model):
    """An arrangement of a front page, the home page's (no section) or a section's: its lead story, then its
    top stories, in order (its slots); the rest of the page fills with the newest published stories.

    A page shows its newest live arrangement (FrontQuerySet.live()): scheduling the lunchtime front is
    saving an approved arrangement that goes live at noon. Reporters may save arrangements as suggestions
    (not approved); only holders of "arrange_front" approve them. Saved with revisions, as stories are.
    """

    section = models.ForeignKey(
        Section,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="fronts",
        help_text="The section front this arranges; leave it empty for the home page.",
    )
    title = LineField(max_length=100, blank=True, help_text="For the desk, e.g. “Lunchtime”.")
    live_from = models.DateTimeField(
        default=timezone.now, help_text="When this arrangement replaces the one before it on its page."
    )
    approved = models.BooleanField(
        default=False, help_text="Only approved arrangements go live; an unapproved one is a suggestion."
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic locking, as Article.version: two editors saving the same arrangement must not overwrite.
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)

    objects = FrontQuerySet.as_manager()

    class Meta:
        ordering = ["section__order", "section__name", "-live_from", "-pk"]
        indexes = [models.Index(fields=["section", "live_from"], name="front_page_live_from")]
        permissions = [("arrange_front", "Can approve an arrangement of a front page")]

    def __str__(self):
        page = self.section.name if self.section_id else "Home page"
        return f"{page}: {self.title}" if self.title else page

    def get_absolute_url(self):
        return self.section.get_absolute_url() if self.section_id else reverse("articles:index")


class FrontSlotQuerySet(models.QuerySet):
    def showing(self, at=None):
        """Slots whose story readers may see, not past their pin: the one rule of what a slot may show."""
        at = at or timezone.now()
        # Each slot's story looked up by its key (EXISTS), not every published story's id listed first.
        published = Article.objects.published(at=at).filter(pk=OuterRef("article_id"))
        return self.filter(Exists(published)).exclude(pinned_until__lte=at)

    def pins(self):
        """Pinned slots of approved arrangements: each pin's end changes a page without a save (the page cache's
        releases, and Last-Modified, read them)."""
        return self.filter(front__approved=True, pinned_until__isnull=False)


@reversion.register()
class FrontSlot(models.Model):
    """One story in an arrangement, in its order (the first is the lead).

    A slot shows its story only while readers may see it (Article.objects.published()) and, if pinned, until
    its pin runs out: otherwise its place falls to the next story, with nothing to run.
    """

    front = models.ForeignKey(Front, on_delete=models.CASCADE, related_name="slots")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="front_slots")
    order = models.PositiveSmallIntegerField(default=0)
    pinned_until = models.DateTimeField(
        null=True, blank=True, help_text="The story holds its place until then; after it, the place fills itself."
    )

    objects = FrontSlotQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["front", "article"], name="one_slot_per_story")]

    def __str__(self):
        return f"{self.article} on {self.front}"


class PhotoQuerySet(models.QuerySet):
    def in_published_stories(self):
        """Photos readers can see: those in at least one story of Article.objects.published()."""
        return self.filter(
            Exists(Caption.objects.filter(photo=OuterRef("pk"), article__in=Article.objects.published()))
        )


class Photo(models.Model):
    """An image asset. A wire caption can arrive before its picture, so the file is optional."""

    image = PhotoImageField(
        upload_to="photos/%Y/%m/",
        blank=True,
        width_field="width",
        height_field="height",
        help_text="JPEG, PNG, WebP or GIF. Location and camera details are removed; the picture is turned upright.",
    )
    # The image is stored under a random name (fields.stored_name); the name it was uploaded under, for editors.
    original_name = models.CharField(
        "uploaded as", max_length=255, blank=True, editable=False, default="", db_default=""
    )
    credit = LineField(max_length=200, blank=True, help_text='Agency and/or photographer, e.g. "Reuters".')
    alt_text = LineField(
        max_length=300,
        blank=True,
        help_text="Describes the image for readers who cannot see it; required before it appears in a published "
        "story. Not the caption.",
    )
    focal_x = models.FloatField(
        "focal point (across)",
        default=0.5,
        db_default=0.5,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="What crops must keep: 0 is the left edge, 0.5 the middle, 1 the right edge.",
    )
    focal_y = models.FloatField(
        "focal point (down)",
        default=0.5,
        db_default=0.5,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="0 is the top edge, 0.5 the middle, 1 the bottom edge.",
    )
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # The rendition set (renditions.rendition_key) that is completely in storage; pages link to it directly.
    renditions_key = models.CharField(max_length=40, blank=True, editable=False, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(focal_x__gte=0, focal_x__lte=1, focal_y__gte=0, focal_y__lte=1),
                name="photo_focal_point_inside",
            ),
        ]

    def __str__(self):
        # Photos waiting for their picture are told apart by number (in the captions' photo search, for one).
        name = (
            (self.original_name or self.image.name.rsplit("/", 1)[-1])
            if self.image
            else f"photo {self.pk}, no image yet"
        )
        return f"{name} ({self.credit})" if self.credit else name

    def save(self, *args, **kwargs):
        if self.image and not self.image._committed:  # a new upload: stored with its name (PhotoImageField.store)
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "original_name"}
        super().save(*args, **kwargs)
        if self.image and not renditions.ready(self):
            # Made by a worker, not in the editor's request (seconds for a camera's picture); until then pages
            # show the caption and credit alone. Enqueued on commit: a worker must find the photo as saved.
            from .photos.tasks import make_renditions

            pk = self.pk
            transaction.on_commit(lambda: make_renditions.enqueue(pk), using=self._state.db)

    def clean(self):
        from .workflow import photo_problems  # the publication rules, which need the models

        if problems := photo_problems(self):
            raise ValidationError({"alt_text": problems})

    @property
    def needs_alt_text(self):
        return bool(self.image) and not self.alt_text.strip()


@reversion.register()
class Caption(models.Model):
    """One photo's use in one article, with the caption written for that story."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="captions")
    photo = models.ForeignKey(Photo, on_delete=models.PROTECT, related_name="captions")
    text = ProseField(blank=True)
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

    @classmethod
    def from_json(cls, article, row):
        """The Caption, with its Photo, from the JSON object of ArticleQuerySet.with_lead_photo()."""
        db = article._state.db
        photo = from_values(Photo, db, photo_in_json(row))
        values = {name: row[f"caption_{name}"] for name in CAPTION_FIELDS} | {"article_id": article.pk}
        caption = from_values(cls, db, values)
        caption.is_lead = bool(caption.is_lead)  # SQLite's JSON has no booleans
        caption.photo = photo
        return caption


def from_values(model, db, values):
    """An instance as read from the database, from some of its fields' values ({attname: value}); from_db()
    wants them in the model's field order."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(db, names, [values[name] for name in names])


# Registered so that recovering a deleted story can restore them (history.record_before_delete); Article
# does not follow them, so an ordinary revision only holds those saved with it.
@reversion.register()
class Correction(models.Model):
    """A note appended to a published story; readers see it under the story, newest first."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", "Correction"
        CLARIFICATION = "clarification", "Clarification"
        UPDATE = "update", "Update"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="corrections")
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.CORRECTION)
    text = ProseField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:60]}"


@reversion.register()  # as Correction
class Redirect(models.Model):
    """An old URL of a story (before a slug, section or date change) that answers 301 to its current URL."""

    old_path = models.CharField(max_length=500, unique=True)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="redirects")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.old_path} → {self.article}"


class PreviewLink(models.Model):
    """A signed link that shows one revision of a story to someone without an account, until it expires.

    It dies when it expires, when an editor revokes it, and when the story is withdrawn or deleted.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="preview_links")
    revision = models.ForeignKey("reversion.Revision", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Preview of {self.article} until {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self):
        return (
            self.revoked_at is None
            and timezone.now() < self.expires_at
            and self.article.status != Article.Status.WITHDRAWN
        )


class ImportedDump(models.Model):
    """A dump file that an import run read whole, every story of it created or updated by that run.

    Re-importing the byte-identical file is then one query: if all its stories still carry its digest,
    nothing can have changed at the source, and the file is skipped instead of parsed again.
    """

    digest = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    stories = models.PositiveIntegerField()
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self):
        return f"{self.name} ({self.stories} stories)"


class WireDrop(models.Model):
    """A dump that landed in the wire drop folder (`manage.py ingest_watch`, articles/wire.py) and what became of
    it: the folder's history, which the admin shows. `watcher` is the host-pid that claimed it."""

    class State(models.TextChoices):
        IMPORTING = "importing", "Importing"
        IMPORTED = "imported", "Imported"
        FAILED = "failed", "Failed"
        INTERRUPTED = "interrupted", "Interrupted, back in the folder"

    name = models.CharField(max_length=255, help_text="The file's name in the drop folder.")
    state = models.CharField(max_length=12, choices=State, default=State.IMPORTING)
    stories_created = models.PositiveIntegerField(default=0)
    stories_updated = models.PositiveIntegerField(default=0)
    stories_unchanged = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0, help_text="Stories an editor changed: kept the editor's.")
    reason = models.TextField(blank=True, help_text="Why it failed: file:line and the problem.")
    location = models.CharField(max_length=1024, blank=True, help_text="Where the file is now.")
    watcher = models.CharField(max_length=255)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["-started_at"], name="articles_wiredrop_started")]

    def __str__(self):
        return f"{self.name} ({self.get_state_display().lower()})"


class Freshness(models.Model):
    """How often what readers see under one scope has changed: the page cache's invalidation, shared by
    every process that uses the database (app servers, import_dump, shells), with or without Redis.

    A scope is "all" (every page), "site" (listings, feeds, search), "front:<section slug>" (the section's
    newest stories, on its story pages) or "story:<path>" (one story's page); articles/pagecache.py says which
    change bumps which. Cached pages are keyed by their scopes' versions, so a bump makes them stale
    everywhere at once.
    """

    scope = models.CharField(max_length=520, primary_key=True)
    version = models.BigIntegerField()

    def __str__(self):
        return f"{self.scope} @ {self.version}"


def this_machine():
    """Where process ids mean the same processes: the host name, and on Linux the process id namespace (two
    containers may share a host name, not their processes)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}/{namespace}"


def worker_name(pid=None):
    """How a job names the worker process running it: where, and its process id."""
    return f"{this_machine()}:{pid or os.getpid()}"


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """An editor sees every import; a reporter, their own."""
        from .workflow import can_publish  # workflow imports the models

        return self if can_publish(user) else self.filter(user=user)

    def running(self):
        return self.filter(state__in=ImportJob.RUNNING)

    def claim(self, pk, attempt, worker):
        """The job, now running in this worker, if this attempt is still the one queued (None if not: it was
        cancelled, retried under a newer attempt, or another worker took it)."""
        now = timezone.now()
        for queued, running in ImportJob.CLAIMS.items():
            fields = {"state": running, "worker": worker, "heartbeat_at": now, "error": "", "retryable": False}
            fields |= {"writing_at": None, "finished_at": None, "stories_read": 0, "bytes_read": 0}
            if self.filter(pk=pk, attempt=attempt, state=queued).update(**fields, started_at=now):
                return self.select_related("user", "section").get(pk=pk)
        return None

    def lost(self):
        """The running jobs whose worker is gone (killed, its machine restarted): their import's transaction was
        rolled back with the worker, so nothing was written (articles/tasks.py sends them again)."""
        return [job for job in self.running() if job.worker_is_gone()]


class ImportJob(models.Model):
    """A dump uploaded through the admin's Import page: its dry run, then its import, each run by a worker
    (articles/tasks.py), with progress, the report, and why it failed if it did.

    `attempt` counts the times the job was sent to the queue: a task runs only the attempt it was sent for,
    so a retried or cancelled job is never run twice at once.
    """

    class State(models.TextChoices):
        DRY_RUN_QUEUED = "dry-run-queued", "dry run queued"
        DRY_RUN_RUNNING = "dry-run-running", "dry run running"
        AWAITING_CONFIRMATION = "awaiting", "awaiting confirmation"
        IMPORT_QUEUED = "import-queued", "import queued"
        IMPORT_RUNNING = "import-running", "import running"
        DONE = "done", "done"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    CLAIMS = {State.DRY_RUN_QUEUED: State.DRY_RUN_RUNNING, State.IMPORT_QUEUED: State.IMPORT_RUNNING}
    RUNNING = list(CLAIMS.values())
    ACTIVE = [*CLAIMS, *RUNNING]  # a worker has it, or will
    UNFINISHED = [*ACTIVE, State.AWAITING_CONFIRMATION]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField("file", max_length=255, help_text="The name the dump was uploaded under.")
    file = models.CharField(max_length=255, help_text="Where the upload is kept, in the imports storage.")
    size = models.BigIntegerField(default=0)
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    stories_status = models.CharField(max_length=10, choices=Article.Status, default=Article.Status.DRAFT)
    skip_invalid = models.BooleanField(default=False)

    state = models.CharField(max_length=24, choices=State, default=State.DRY_RUN_QUEUED)
    attempt = models.PositiveIntegerField(default=1)
    task_id = models.CharField(max_length=64, blank=True, help_text="The queued task's result id.")
    cancel_requested = models.BooleanField(default=False)
    stories_read = models.PositiveIntegerField(default=0)
    stories_total = models.PositiveIntegerField(null=True, blank=True, help_text="Known once the dry run is done.")
    bytes_read = models.BigIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)  # Outcome's counts and lines (articles/tasks.py)
    error = models.TextField(blank=True)
    retryable = models.BooleanField(default=False)
    times_lost = models.PositiveSmallIntegerField(
        default=0,
        db_default=0,
        help_text="How many times a worker stopped while running it (each time it was sent again).",
    )

    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    writing_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(
        max_length=255, blank=True, help_text="Where the worker running it is, and its process id."
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "-created_at"], name="articles_importjob_state")]

    def __str__(self):
        return f"Import of {self.name}"

    def get_absolute_url(self):
        return reverse("admin:articles_importjob_change", args=[self.pk])

    @property
    def dry_run(self):
        return self.confirmed_at is None

    @property
    def active(self):
        return self.state in self.ACTIVE

    def worker_is_gone(self):
        """On this machine, whether the worker's process has exited; elsewhere, whether it has stopped beating
        (its heartbeat, sent by a thread even while the import writes, is older than IMPORT_JOB_STALE_SECONDS)."""
        host, _, pid = self.worker.rpartition(":")
        if host == this_machine() and pid.isdigit():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                pass
            return False
        stale = timezone.now() - timedelta(seconds=settings.IMPORT_JOB_STALE_SECONDS)
        return self.heartbeat_at is None or self.heartbeat_at < stale

    def progress(self):
        """Stories read of the total (the dry run estimates it from the share of the file read), a rate and
        the time left: None before the first batch."""
        if not self.started_at or not self.stories_read:
            return None
        total = self.stories_total
        if total is None and self.bytes_read and self.size:
            total = max(round(self.stories_read * self.size / self.bytes_read), self.stories_read)
        elapsed = max(((self.finished_at or timezone.now()) - self.started_at).total_seconds(), 0.001)
        rate = self.stories_read / elapsed
        left = (total - self.stories_read) / rate if total and rate else None
        return {
            "read": self.stories_read,
            "total": total,
            "estimated": self.stories_total is None,
            "percent": min(100, round(100 * self.stories_read / total)) if total else None,
            "rate": round(rate),
            "seconds_left": round(left) if left is not None else None,
        }


def default_rate_limit():
    return settings.API_RATE_LIMIT


def hash_api_key(key):
    """What is stored of a key: its SHA-256. Keys are 256 random bits, so a fast hash is as safe as a slow one."""
    return hashlib.sha256(key.encode()).hexdigest()


class APIKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def issue(self, *, name, rate_limit=None, created_by=None):
        """A new key for a partner: (the APIKey, the full key), which is not stored."""
        api_key = self.model(name=name, rate_limit=rate_limit or default_rate_limit(), created_by=created_by)
        key = api_key.new_key()
        api_key.save()
        return api_key, key

    def revoke(self):
        """Revoke these keys at once, on every process (the access check asks the row on each request)."""
        return self.active().update(revoked_at=timezone.now())


class APIKey(models.Model):
    """A partner's key to the read API (articles/api/access.py checks it and counts its requests)."""

    # Keys read nr_<prefix>_<secret>: the prefix finds the row, the whole key's hash must match it.
    KEY_START = "nr_"

    name = models.CharField(max_length=200, help_text="Who the key is for: the partner, app or tool.")
    prefix = models.CharField(max_length=12, unique=True, editable=False, help_text="Not secret: recognises the key.")
    hashed = models.CharField(max_length=64, editable=False)
    rate_limit = models.PositiveIntegerField(
        "requests per minute",
        default=default_rate_limit,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text="More in a minute are answered 429 with Retry-After; bursts up to this many are allowed.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    last_used_at = models.DateTimeField("last used", null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField("revoked", null=True, blank=True, editable=False)
    # The key's rate clock, in microseconds since the epoch (GCRA): each request moves it 60/rate_limit s past
    # max(it, now); a request that would move it more than a minute past now is refused. One number per key,
    # moved by one UPDATE, so every process and app server shares the limit without Redis.
    rate_clock = models.BigIntegerField(default=0, db_default=0, editable=False)

    objects = APIKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(rate_limit__gte=1), name="articles_apikey_rate_limit")]

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    def get_absolute_url(self):
        return reverse("admin:articles_apikey_change", args=[self.pk])

    @property
    def revoked(self):
        return self.revoked_at is not None

    def new_key(self):
        """Give this (unsaved) row a new random key and return it: only its hash is kept, so the full key exists
        here and on the one page that shows it to the editor who made it."""
        self.prefix = secrets.token_hex(6)
        key = f"{self.KEY_START}{self.prefix}_{secrets.token_urlsafe(32)}"
        self.hashed = hash_api_key(key)
        return key


# Webhooks: subscribers told when stories change (articles/webhooks.py says which change fires which event).


def new_webhook_secret():
    return secrets.token_urlsafe(32)  # 256 bits


class Subscriber(models.Model):
    """A partner's receiver of webhooks: a URL POSTed a story's ninjs when one of its events happens."""

    class Event(models.TextChoices):
        PUBLISHED = "published", "Published"
        UPDATED = "updated", "Updated"
        CORRECTED = "corrected", "Corrected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        DELETED = "deleted", "Deleted"

    name = LineField(max_length=100, help_text="Who receives it, e.g. “Partner app”.")
    url = models.URLField("URL", max_length=500, help_text="Where deliveries are POSTed: https:// to a public address.")
    # Kept readable (the HMAC needs it) and shown to editors, who give it to the receiver; "New secret" replaces it.
    secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    events = models.JSONField(default=list, help_text="What the receiver is told of.")
    active = models.BooleanField(default=True, help_text="Paused subscribers are sent nothing.")
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    paused_reason = models.TextField(blank=True, editable=False)
    # The first failure since the last delivery that succeeded: a day of failures pauses the subscriber.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "webhook subscriber"

    def __str__(self):
        return self.name

    def wants(self, event):
        return self.active and event in self.events


class Announcement(models.Model):
    """What subscribers were last told of a story (or, before it was ever public, what it is now): each change
    is announced by comparing the story with this, so a no-op save, a task run twice or two workers racing
    announce nothing more. Not a foreign key: a deleted story's record stays, and says it was deleted."""

    class State(models.TextChoices):
        HIDDEN = "hidden", "Not public"  # a draft, in review, or never announced
        SCHEDULED = "scheduled", "Scheduled"
        PUBLIC = "public", "Public"
        WITHDRAWN = "withdrawn", "Withdrawn"
        DELETED = "deleted", "Deleted"

    story_id = models.BigIntegerField(primary_key=True)
    state = models.CharField(max_length=10, choices=State, default=State.HIDDEN)
    release_at = models.DateTimeField(null=True, blank=True)  # a scheduled story's embargo
    digest = models.CharField(max_length=64, blank=True)  # of its ninjs, as last announced ("": not known)
    corrections = models.PositiveIntegerField(default=0)
    sequence = models.PositiveIntegerField(default=0)  # the number of events announced: each a change
    farewell = models.TextField(blank=True)  # a story being deleted: its tombstone, read before it went
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["state", "release_at"], name="announcement_release")]

    def __str__(self):
        return f"story {self.story_id}: {self.state}"


class Notice(models.Model):
    """One change to a story as subscribers are told of it (or an editor's test ping): its event and the body
    sent, kept once however many subscribers it goes to."""

    PING = "ping"
    EVENTS = [*Subscriber.Event.choices, (PING, "Test ping")]

    event = models.CharField(max_length=10, choices=EVENTS)
    story_id = models.BigIntegerField(null=True, blank=True)
    headline = models.CharField(max_length=300, blank=True)  # for the log, the story being possibly gone
    change = models.PositiveIntegerField(null=True, blank=True)  # the story's Announcement.sequence
    payload = models.TextField()  # the body, as sent on every attempt to every subscriber
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One notice per change, whatever runs twice (pings have neither, and are never the same).
            models.UniqueConstraint(fields=["story_id", "change"], name="notice_once_per_change"),
        ]

    def __str__(self):
        story = f" of story {self.story_id}" if self.story_id else ""
        return f"{self.get_event_display()}{story}"


class Delivery(models.Model):
    """One notice sent (or being sent) to one subscriber: the log editors read in the admin."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"  # an attempt under way, claimed by one worker
        DELIVERED = "delivered", "Delivered"
        RETRYING = "retrying", "Failed, will retry"
        GAVE_UP = "gave_up", "Gave up"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            # At most once per change per subscriber, whatever runs twice.
            models.UniqueConstraint(fields=["subscriber", "notice"], name="delivery_once_per_change"),
        ]
        indexes = [
            models.Index(fields=["subscriber", "-created_at"], name="delivery_log"),
            models.Index(fields=["status", "last_attempt_at"], name="delivery_status"),
        ]

    def __str__(self):
        return f"{self.notice} → {self.subscriber}"
