from django.contrib.sitemaps import views as sitemap_views
from django.urls import path, re_path

from . import feeds, previews, views
from .pagecache import author_page_scopes, cache_page_for_readers, story_page_scopes
from .sitemaps import sitemaps

app_name = "articles"

# Public pages, feeds and searches go through the page cache for anonymous readers (articles/pagecache.py):
# a change invalidates the pages that show it. Feed readers poll the feeds all day, and when news breaks
# many readers search for the same words; each query (and page, and filter) is its own entry.
urlpatterns = [
    path("", cache_page_for_readers(views.IndexView.as_view()), name="index"),
    path("photos/<int:pk>/<str:key>/<str:filename>", views.rendition, name="rendition"),
    # A token always holds a colon, so a section called "preview" keeps its feeds.
    re_path(r"^preview/(?P<token>[\w.-]+:[\w-]+)/$", previews.shared_preview, name="shared-preview"),
    # The desk's preview of an arrangement of a front (linked from the admin), never cached.
    path("preview/front/<int:pk>/", previews.front_preview, name="front-preview"),
    path("search/", cache_page_for_readers(views.SearchView.as_view()), name="search"),
    path("feed/", cache_page_for_readers(feeds.LatestStoriesFeed()), name="feed"),
    path("feed/atom/", cache_page_for_readers(feeds.LatestStoriesAtomFeed()), name="atom"),
    # Before the sections' patterns; no section may be called "authors" (models.RESERVED_SLUGS).
    path(
        "authors/<slug:author>/", cache_page_for_readers(views.AuthorView.as_view(), author_page_scopes), name="author"
    ),
    path(
        "authors/<slug:author>/feed/",
        cache_page_for_readers(feeds.AuthorFeed(), author_page_scopes),
        name="author-feed",
    ),
    path(
        "authors/<slug:author>/feed/atom/",
        cache_page_for_readers(feeds.AuthorAtomFeed(), author_page_scopes),
        name="author-atom",
    ),
    path("robots.txt", views.RobotsView.as_view(), name="robots"),
    path(
        "sitemap.xml",
        sitemap_views.index,
        {"sitemaps": sitemaps, "sitemap_url_name": "articles:sitemap"},
        name="sitemap-index",
    ),
    path("sitemap-<str:section>.xml", sitemap_views.sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("news-sitemap.xml", views.news_sitemap, name="news-sitemap"),
    path("<slug:section>/", cache_page_for_readers(views.SectionView.as_view()), name="section"),
    path("<slug:section>/feed/", cache_page_for_readers(feeds.SectionFeed()), name="section-feed"),
    path("<slug:section>/feed/atom/", cache_page_for_readers(feeds.SectionAtomFeed()), name="section-atom"),
    path(
        "<slug:section>/<int:year>/<str:month>/<str:day>/<str:slug>/",
        cache_page_for_readers(views.ArticleDetailView.as_view(), story_page_scopes),
        name="detail",
    ),
]
