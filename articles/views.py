from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_safe
from django.views.generic import ListView, TemplateView

from . import pagecache, search
from .compiled import CompiledQuery
from .filters import SearchFilter
from .jinja2 import photo_social_url
from .listings import AuthorListing, SectionListing, TopicListing, front_pages, read_fronts, related_stories
from .models import (
    Article,
    Author,
    AuthorLink,
    Byline,
    Caption,
    Correction,
    Front,
    FrontSlot,
    Photo,
    Redirect,
    Section,
    Topic,
    TopicRedirect,
    bylines_with_authors,
    captions_with_photos,
    lead_of,
)
from .pagecache import sections_for
from .photos import renditions
from .text import xml_safe

# Edits within this time of publication are part of publishing, not an update worth showing.
UPDATE_GRACE = timedelta(minutes=5)


def last_change(request, *args, **kwargs):
    """When anything a reader can see last changed, for Last-Modified and If-Modified-Since.

    Any story's edit counts, whatever its status, so that withdrawing or unpublishing one is a change;
    so does the newest publication time, because an embargo lifts without anyone saving anything.
    Every public request asks, so each process reads it once per content version (and embargo).
    """
    return pagecache.kept_until_release(request, "last-change", read_last_change)


def read_last_change():
    # Three indexed reads of one row each (article_updated, article_listing, the corrections' created_at).
    newest = [
        Article.objects.order_by("-updated_at").values_list("updated_at", flat=True),
        Article.objects.published().order_by("-published_at").values_list("published_at", flat=True),
        Correction.objects.order_by("-created_at").values_list("created_at", flat=True),
    ]
    return max(filter(None, (times.first() for times in newest)), default=None)


def last_front_change(request, *args, **kwargs):
    """last_change(), or later for a page with a front: when an approved arrangement was last saved, went live,
    or a pin in it ran out (the last two without a save)."""
    changed = pagecache.kept_until_release(request, "last-front-change", read_last_front_change)
    return max(filter(None, [last_change(request), changed]), default=None)


def read_last_front_change():
    now = timezone.now()
    live = Front.objects.live(now).order_by()
    times = live.values_list("updated_at").union(
        live.values_list("live_from"),
        FrontSlot.objects.pins().filter(pinned_until__lte=now).order_by().values_list("pinned_until"),
        all=True,
    )
    return next(iter(times.order_by("-updated_at")[:1]), (None,))[0]


# no-cache: browsers and proxies may keep a page but must ask again (and get a 304) before showing it,
# so a story withdrawn a minute ago is never shown from a cache.
conditional = method_decorator(
    [cache_control(no_cache=True), condition(last_modified_func=last_change)], name="dispatch"
)
front_conditional = method_decorator(
    [cache_control(no_cache=True), condition(last_modified_func=last_front_change)], name="dispatch"
)


# The queries every story page runs, compiled once per process (articles/compiled.py): Django took longer
# to build and compile each than the database takes to answer it (2-3 ms of CPU a request, 60-90% of an
# uncached story page's; prefetch_related() for the captions alone, 2 ms).
published_story = CompiledQuery(
    lambda slug, now: (
        Article.objects.published(at=now)
        .filter(slug=slug)
        # Few stories are ever corrected, and wire stories have no authors: knowing which saves the others a query.
        .annotate(
            corrected=Exists(Correction.objects.filter(article=OuterRef("pk"))),
            has_authors=Exists(Byline.objects.filter(article=OuterRef("pk"))),
        )
        .with_topics()
        .order_by()
    ),
    str,
    datetime,
)
# Its captions, with their photos, in their order: as a query of its own, compiled, this cost the story page
# less than reading them with the story (as JSON) or prefetch_related() did.
story_captions = CompiledQuery(lambda article: Caption.objects.filter(article=article).select_related("photo"), int)
# Its authors, in their order.
story_bylines = CompiledQuery(lambda article: Byline.objects.filter(article=article).select_related("author"), int)
# An author's page: the author with their portrait, and their links.
author_by_slug = CompiledQuery(lambda slug: Author.objects.filter(slug=slug).select_related("photo"), str)
author_links = CompiledQuery(lambda author: AuthorLink.objects.filter(author=author), int)
# A topic's page: the topic.
topic_by_slug = CompiledQuery(lambda slug: Topic.objects.filter(slug=slug), str)


class FrontMixin:
    """A page with a front. `arrangement` (a Front) shows that arrangement as if it were live at `at`: the
    desk's preview of it (articles/previews.py); readers get the live one, now."""

    arrangement = None
    at = None

    def fronts(self):
        if self.arrangement is None:
            return front_pages(self.request)
        return read_fronts(sections_for(self.request), self.at, self.arrangement)

    def get_context_data(self, **kwargs):
        return super().get_context_data(preview=self.arrangement, preview_at=self.at, **kwargs)


@front_conditional
class IndexView(FrontMixin, TemplateView):
    """The home page: its lead and top stories, then a block for each section with what is not above."""

    template_name = "articles/index.html"

    def get_context_data(self, **kwargs):
        fronts = self.fronts()
        return super().get_context_data(front=fronts.home, groups=fronts.blocks, **kwargs)


@front_conditional
class SectionView(FrontMixin, ListView):
    """A section: page 1 is its front (lead and top stories), then its newest stories but those; later pages
    are its newest stories."""

    template_name = "articles/section.html"
    paginate_by = 20

    def get_queryset(self):
        slug = self.kwargs["section"]
        listed = next((s for s in sections_for(self.request) if s.slug == slug), None)
        # A section created a moment ago may not be in the page's list yet.
        self.section = listed or get_object_or_404(Section, slug=slug)
        return SectionListing(self.section, self.at or timezone.now(), sections_for(self.request))

    def get_paginator(self, listing, *args, **kwargs):
        paginator = super().get_paginator(listing, *args, **kwargs)
        # Paginator.count is a cached_property: setting it is what the paginator will use.
        paginator.count = pagecache.section_count(self.request, self.section)
        return paginator

    def get_context_data(self, **kwargs):
        context = super().get_context_data(section=self.section, **kwargs)
        front = []
        if context["page_obj"].number == 1:
            front = self.fronts().sections.get(self.section.pk, [])
            on_front = {story.pk for story in front}
            context["object_list"] = [story for story in context["object_list"] if story.pk not in on_front]
        return context | {"front": front}


@conditional
class AuthorView(ListView):
    """An author's page: who they are, and their published stories, newest first, paginated as a section's."""

    template_name = "articles/author.html"
    paginate_by = SectionView.paginate_by

    def get_queryset(self):
        self.author = next(iter(author_by_slug(self.kwargs["author"])), None)
        if self.author is None:
            raise Http404("No such author.")
        return AuthorListing(self.author, timezone.now(), sections_for(self.request))

    def get_paginator(self, listing, *args, **kwargs):
        paginator = super().get_paginator(listing, *args, **kwargs)
        paginator.count = pagecache.author_count(self.request, self.author)  # as SectionView's
        return paginator

    def get_context_data(self, **kwargs):
        url = self.request.build_absolute_uri(self.author.get_absolute_url())
        links = author_links(self.author.pk)
        return super().get_context_data(
            author=self.author,
            links=links,
            canonical_url=url,
            structured_data={
                "@context": "https://schema.org",
                "@type": "ProfilePage",
                "mainEntity": person(self.author, url, [link.url for link in links]),
            },
            **kwargs,
        )


def merged_topic(request, url_name, slug):
    """A topic merged into another answers at its old address (page or feed) with a 301 to the other's."""
    moved = TopicRedirect.objects.filter(old_slug=slug).select_related("topic").first()
    if moved is None:
        raise Http404("No such topic.")
    url = reverse(url_name, kwargs={"topic": moved.topic.slug})
    return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url, permanent=True)


@conditional
class TopicView(ListView):
    """A topic's page: its description, and its published stories, newest first, paginated as a section's."""

    template_name = "articles/topic.html"
    paginate_by = SectionView.paginate_by

    def get(self, request, *args, **kwargs):
        self.topic = next(iter(topic_by_slug(kwargs["topic"])), None)
        if self.topic is None:
            return merged_topic(request, "articles:topic", kwargs["topic"])
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return TopicListing(self.topic, timezone.now(), sections_for(self.request))

    def get_paginator(self, listing, *args, **kwargs):
        paginator = super().get_paginator(listing, *args, **kwargs)
        paginator.count = pagecache.topic_count(self.request, self.topic)  # as SectionView's
        return paginator

    def get_context_data(self, **kwargs):
        url = self.request.build_absolute_uri(self.topic.get_absolute_url())
        return super().get_context_data(
            topic=self.topic,
            canonical_url=url,
            structured_data={
                "@context": "https://schema.org",
                "@type": "CollectionPage",
                "name": self.topic.name,
                "url": url,
                "about": {"@type": "Thing", "name": self.topic.name},
            },
            **kwargs,
        )


def person(author, url, links=()):
    """JSON-LD Person, for an author's page (with their links elsewhere) and the stories they wrote."""
    data = {"@type": "Person", "name": author.name, "url": url}
    if links:
        data["sameAs"] = list(links)
    return data


@conditional
class ArticleDetailView(TemplateView):
    """A published story at its one canonical URL; old URLs redirect, withdrawn stories are gone."""

    template_name = "articles/detail.html"

    def get(self, request, *args, **kwargs):
        requested = reverse("articles:detail", kwargs=kwargs)
        article = next(iter(published_story(kwargs["slug"], timezone.now())), None)
        if article is None:
            return self.not_here(requested)
        # From the page's list of sections; one created a moment ago may not be in it yet.
        listed = next((s for s in sections_for(request) if s.pk == article.section_id), None)
        article.section = listed or article.section
        if article.get_absolute_url() != requested:
            return redirect(article, permanent=True)
        self.article = article
        return super().get(request, *args, **kwargs)

    def not_here(self, requested):
        """A story that moved answers 301 to its new URL; a withdrawn one, 410; anything else, 404."""
        moved = Redirect.objects.filter(old_path=requested).select_related("article__section").first()
        if moved and Article.objects.published().filter(pk=moved.article_id).exists():
            return redirect(moved.article, permanent=True)
        withdrawn = Article.objects.withdrawn().filter(slug=self.kwargs["slug"]).first()
        if withdrawn is None and moved:
            withdrawn = Article.objects.withdrawn().filter(pk=moved.article_id).first()
        if withdrawn is not None:
            return render(self.request, "articles/gone.html", {"withdrawn": withdrawn}, status=410)
        raise Http404("No published story at this address.")

    def get_context_data(self, **kwargs):
        captions = story_captions(self.article.pk)
        bylines = story_bylines(self.article.pk) if self.article.has_authors else []
        topics = Topic.listed(self.article.topic_list)
        context = story_context(self.request, self.article, captions, bylines, topics)
        return super().get_context_data(**(kwargs | context))


def story_context(request, article, captions=None, bylines=None, topics=None):
    """What the story page shows besides the story: for readers, and for editors' previews of drafts.

    `captions`: the captions to show, with their photos, in order; by default the story's own (read now,
    unless prefetched). A preview of a revision passes the revision's. `bylines`: its authors', with their
    authors, in order; by default the story's own. `topics`: its topics, by name; by default the story's own.
    """
    published_at = article.published_at or timezone.now()  # a draft in preview is shown as if published now
    if captions is None and article.pk is not None:
        prefetch_related_objects([article], captions_with_photos())
        captions = article.captions.all()
    captions = list(captions or [])
    if bylines is None and article.pk is not None:
        prefetch_related_objects([article], bylines_with_authors())
        bylines = article.bylines.all()
    authors = [byline.author for byline in bylines or []]
    if topics is None:
        topics = Topic.objects.filter(story_topics__article=article.pk) if article.pk is not None else []
    topics = list(topics)
    lead = lead_of(captions)
    corrections = list(article.corrections.all()) if article.pk and getattr(article, "corrected", True) else []
    changes = [article.updated_at, *(correction.created_at for correction in corrections)]
    updated_at = max(changes) if max(changes) > published_at + UPDATE_GRACE else None
    related = related_stories(request, article, bool(topics) and article.pk is not None)
    url = request.build_absolute_uri(article.get_absolute_url())
    return {
        "article": article,
        "section": article.section,
        "captions": captions,
        "authors": authors,
        "topics": topics,
        "lead_caption": lead,
        "canonical_url": url,
        "corrections": corrections,
        "updated_at": updated_at,
        "related": related,
        "structured_data": structured_data(request, article, authors, topics, lead, url, published_at, updated_at),
    }


def structured_data(request, article, authors, topics, lead, url, published_at, updated_at):
    """JSON-LD NewsArticle, for search engines."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.headline[:110],
        "description": article.summary[:300],
        "inLanguage": article.language,
        "datePublished": published_at.isoformat(),
        "dateModified": (updated_at or published_at).isoformat(),
        "articleSection": article.section.name,
        "mainEntityOfPage": url,
        "author": (
            [person(author, request.build_absolute_uri(author.get_absolute_url())) for author in authors]
            if authors
            else {"@type": "Person", "name": article.byline}
            if article.byline
            else {"@type": "Organization", "name": settings.SITE_NAME}
        ),
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": request.build_absolute_uri("/")},
    }
    if topics:
        data["keywords"] = [topic.name for topic in topics]
    # The share rendition, as og:image: originals are not public (docs/photos.md).
    social_image = photo_social_url(request, lead.photo if lead else None)
    if social_image:
        data["image"] = [social_image]
    return data


@conditional
class SearchView(ListView):
    """Full-text search of published stories, with filters; any query gets results or "no results"."""

    template_name = "articles/search.html"
    paginate_by = 10

    def get_queryset(self):
        self.query = self.request.GET.get("q", "").strip()
        self.filterset = SearchFilter(self.request.GET or None, queryset=Article.objects.published())
        # Search cards show no photo: the stories without their captions.
        return search.Results(self.filterset.qs, self.query, stories=Article.objects.select_related("section"))

    def paginate_queryset(self, queryset, page_size):
        # Out-of-range or malformed page numbers show the nearest page rather than an error.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        params = self.request.GET.copy()
        params.pop("page", None)
        return super().get_context_data(
            query=self.query,
            more_results=self.object_list.more,
            filter=self.filterset,
            query_string=f"{params.urlencode()}&" if params else "",
            **kwargs,
        )


class RobotsView(TemplateView):
    template_name = "robots.txt"
    content_type = "text/plain; charset=utf-8"


def news_sitemap(request):
    """Google News sitemap: the stories of the last 48 hours."""
    since = timezone.now() - timedelta(hours=48)
    articles = (
        Article.objects.published().filter(published_at__gte=since).select_related("section").newest_first()[:1000]
    )
    # Without what XML 1.0 cannot carry (text stored before articles.text.clean_text existed), so that one story
    # cannot make the sitemap unreadable.
    sitemap = xml_safe(render_to_string("news-sitemap.xml", {"articles": articles}, request))
    return HttpResponse(sitemap, content_type="application/xml; charset=utf-8")


@require_safe
def rendition(request, pk, key, filename):
    """A photo rendition by its photo and name, redirected to storage: for links made before pages linked
    straight to storage. Never makes one (no request processes an image): one not made yet is a 404.

    Only for photos readers can see (in a published story), or for staff, who see drafts in the admin and in
    previews: a draft's photo is nobody else's business, even to someone who has its URL.
    """
    photo = get_object_or_404(Photo, pk=pk)
    wanted = renditions.find(photo, key, filename)
    if wanted is None:
        raise Http404("No such rendition")
    public = Photo.objects.in_published_stories().filter(pk=photo.pk).exists()
    if not public and not (request.user.is_authenticated and request.user.is_staff):
        raise Http404("No such rendition")
    if not photo.image.storage.exists(wanted.name):
        raise Http404("This rendition is not made yet")
    response = redirect(photo.image.storage.url(wanted.name))
    patch_cache_control(response, max_age=24 * 3600, **({"public": True} if public else {"private": True}))
    return response
