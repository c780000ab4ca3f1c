from datetime import timedelta

from django.conf import settings
from django.db.models import Prefetch, Subquery
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_safe
from django.views.generic import ListView, TemplateView

from . import renditions, search
from .filters import SearchFilter
from .models import Article, Caption, Correction, Photo, Redirect, Section

STORIES_PER_SECTION_ON_HOME = 4
RELATED_STORIES = 4
# Edits within this time of publication are part of publishing, not an update worth showing.
UPDATE_GRACE = timedelta(minutes=5)


def last_change(request, *args, **kwargs):
    """When anything a reader can see last changed, for Last-Modified and If-Modified-Since.

    Any story's edit counts, whatever its status, so that withdrawing or unpublishing one is a change;
    so does the newest publication time, because an embargo lifts without anyone saving anything.
    """
    # One query (each scalar subquery walks an index to its newest row) rather than three: it runs on
    # every public request. Without any story there are no corrections either, so no row means no time.
    newest = (
        Article.objects.order_by("-updated_at")
        .annotate(
            published=Subquery(Article.objects.published().order_by("-published_at").values("published_at")[:1]),
            corrected=Subquery(Correction.objects.order_by("-created_at").values("created_at")[:1]),
        )
        .values_list("updated_at", "published", "corrected")
        .first()
    )
    return max((time for time in newest or () if time), default=None)


# no-cache: browsers and proxies may keep a page but must ask again (and get a 304) before showing it,
# so a story withdrawn a minute ago is never shown from a cache.
conditional = method_decorator(
    [cache_control(no_cache=True), condition(last_modified_func=last_change)], name="dispatch"
)


def with_lead_photos(queryset):
    return queryset.select_related("section").prefetch_related(
        Prefetch("captions", queryset=Caption.objects.select_related("photo"))
    )


class PublishedMixin:
    """Every public view starts from Article.objects.published()."""

    def get_queryset(self):
        return with_lead_photos(Article.objects.published()).newest_first()


class IdPaginationMixin:
    """Deep pages stay fast: the paginator counts and skips over ids alone, which the listing index covers
    (index-only), and only the page's stories are then read in full (bench/deep_pages.py measures it)."""

    def paginate_queryset(self, queryset, page_size):
        paginator, page, ids, is_paginated = super().paginate_queryset(queryset.values_list("pk", flat=True), page_size)
        ids = list(ids)
        # The ids come from the published() queryset; fetching them by primary key alone lets SQLite use
        # the key (with the listing's filters repeated, it scanned the whole section instead).
        stories = with_lead_photos(Article.objects.filter(pk__in=ids)).in_bulk()
        page.object_list = [stories[pk] for pk in ids]
        return paginator, page, page.object_list, is_paginated


@conditional
class IndexView(TemplateView):
    template_name = "articles/index.html"

    def get_context_data(self, **kwargs):
        sections = list(Section.objects.all())
        latest = with_lead_photos(latest_in_each(sections, STORIES_PER_SECTION_ON_HOME)).newest_first()
        by_section = {}
        for article in latest:
            by_section.setdefault(article.section_id, []).append(article)
        groups = [(section, by_section[section.pk]) for section in sections if section.pk in by_section]
        return super().get_context_data(sections=sections, groups=groups, **kwargs)


def latest_in_each(sections, count):
    """The newest `count` published stories of every section, as one query.

    A UNION ALL of one small indexed query per section: a window function over every published story
    (ROW_NUMBER() OVER (PARTITION BY section)) reads the whole archive, 0.4 s at 100,000 stories.
    """
    parts = [
        Article.objects.published().in_section(section).newest_first().values("pk")[:count].query.sql_with_params()
        for section in sections
    ]
    if not parts:
        return Article.objects.none()
    sql = " UNION ALL ".join(f"SELECT * FROM ({part}) AS section_{i}" for i, (part, _) in enumerate(parts))
    return Article.objects.filter(pk__in=RawSQL(sql, [param for _, params in parts for param in params]))


@conditional
class SectionView(IdPaginationMixin, PublishedMixin, ListView):
    template_name = "articles/section.html"
    paginate_by = 20

    def get_queryset(self):
        self.section = get_object_or_404(Section, slug=self.kwargs["section"])
        return super().get_queryset().in_section(self.section)

    def get_context_data(self, **kwargs):
        return super().get_context_data(section=self.section, **kwargs)


@conditional
class ArticleDetailView(PublishedMixin, TemplateView):
    """A published story at its one canonical URL; old URLs redirect, withdrawn stories are gone."""

    template_name = "articles/detail.html"

    def get(self, request, *args, **kwargs):
        requested = reverse("articles:detail", kwargs=kwargs)
        article = self.get_queryset().filter(slug=kwargs["slug"]).first()
        if article is None:
            return self.not_here(requested)
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
        return super().get_context_data(**(kwargs | story_context(self.request, self.article)))


def story_context(request, article):
    """What the story page shows besides the story: for readers, and for editors' previews of drafts."""
    published_at = article.published_at or timezone.now()  # a draft in preview is shown as if published now
    corrections = list(article.corrections.all())
    changes = [article.updated_at, *(correction.created_at for correction in corrections)]
    updated_at = max(changes) if max(changes) > published_at + UPDATE_GRACE else None
    related = (
        Article.objects.published()
        .in_section(article.section)
        .exclude(pk=article.pk)
        .select_related("section")
        .newest_first()[:RELATED_STORIES]
    )
    return {
        "article": article,
        "section": article.section,
        "corrections": corrections,
        "updated_at": updated_at,
        "related": related,
        "structured_data": structured_data(request, article, published_at, updated_at),
    }


def structured_data(request, article, published_at, updated_at):
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
        "mainEntityOfPage": request.build_absolute_uri(article.get_absolute_url()),
        "author": (
            {"@type": "Person", "name": article.byline}
            if article.byline
            else {"@type": "Organization", "name": settings.SITE_NAME}
        ),
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": request.build_absolute_uri("/")},
    }
    caption = article.lead_caption
    if caption and caption.photo.image:
        data["image"] = [request.build_absolute_uri(caption.photo.image.url)]
    return data


@conditional
class SearchView(ListView):
    """Full-text search of published stories, with filters; any query gets results or "no results"."""

    template_name = "articles/search.html"
    paginate_by = 10

    def get_queryset(self):
        self.query = self.request.GET.get("q", "").strip()
        self.filterset = SearchFilter(self.request.GET or None, queryset=Article.objects.published())
        return search.Results(self.filterset.qs, self.query, stories=with_lead_photos(Article.objects.all()))

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
    return render(request, "news-sitemap.xml", {"articles": articles}, content_type="application/xml; charset=utf-8")


@require_safe
def rendition(request, pk, key, filename):
    """A photo rendition that pages link to before it is known to be in storage: made here on first request
    (safely when several servers race), then redirected to storage.

    A rendition's name never changes meaning (see renditions.py), so browsers and CDNs may keep it for good.
    """
    photo = get_object_or_404(Photo, pk=pk)
    wanted = renditions.find(photo, key, filename)
    if wanted is None:
        raise Http404("No such rendition")
    data = renditions.ensure(photo, wanted)
    if data is None:
        response = redirect(photo.image.storage.url(wanted.name))
        patch_cache_control(response, public=True, max_age=24 * 3600)
    else:
        response = HttpResponse(data, content_type=wanted.mime_type)
        patch_cache_control(response, public=True, max_age=365 * 24 * 3600, immutable=True)
    return response
