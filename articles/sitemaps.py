from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Article, Author, Section, Topic


class HomeSitemap(Sitemap):
    changefreq = "hourly"
    priority = 1.0

    def items(self):
        return ["articles:index"]

    def location(self, item):
        return reverse(item)


class SectionSitemap(Sitemap):
    changefreq = "hourly"
    priority = 0.8

    def items(self):
        return Section.objects.all()


class ArticleSitemap(Sitemap):
    priority = 0.6
    limit = 5000  # per sitemap file (the protocol allows 50,000): each page renders in a fraction of a second

    def items(self):
        # Only what the URL and <lastmod> need: sitemap pages list up to 50,000 stories.
        return (
            Article.objects.published()
            .select_related("section")
            .only("slug", "published_at", "created_at", "updated_at", "section__slug")
            .newest_first()
        )

    def lastmod(self, item):
        return max(item.updated_at, item.published_at)


class AuthorSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.5

    def items(self):
        # An author without a published story has a page, but nothing for search engines yet.
        return Author.objects.with_published_stories().only("slug").order_by("pk")


class TopicSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.5

    def items(self):
        # As authors: a topic without a published story has a page, but nothing for search engines yet.
        return Topic.objects.with_published_stories().only("slug").order_by("pk")


sitemaps = {
    "home": HomeSitemap,
    "sections": SectionSitemap,
    "authors": AuthorSitemap,
    "topics": TopicSitemap,
    "articles": ArticleSitemap,
}
