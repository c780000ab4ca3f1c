from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html_join

from .models import Article, Author, Section, Topic, bylines_with_authors
from .text import paragraphs, xml_safe
from .views import merged_topic

FEED_LENGTH = 30


class LatestStoriesFeed(Feed):
    """RSS 2.0: the newest published stories of the whole site."""

    def title(self):
        return f"{settings.SITE_NAME}: latest stories"

    def description(self):
        return f"The latest stories from {settings.SITE_NAME}."

    def link(self):
        return reverse("articles:index")

    def feed_url(self):
        return reverse("articles:feed")

    def items(self):
        return stories(Article.objects.published())

    def item_title(self, item):
        return item.headline

    def item_description(self, item):
        # Feed readers take an item's description (Atom: its summary) for HTML. The story's text goes in escaped,
        # in paragraphs, so that what was typed, "<script>" too, reaches readers as text.
        summary = paragraphs(xml_safe(item.summary))
        return format_html_join("", "<p>{}</p>", ((paragraph,) for paragraph in summary))

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        # Text stored before articles.text.clean_text existed may hold characters XML 1.0 cannot carry, on which
        # Django's feed writer fails: one such story would make every feed answer 500.
        feed.feed = xml_safe_values(feed.feed)
        feed.items = [xml_safe_values(values) for values in feed.items]
        return feed

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return max(item.updated_at, item.published_at)

    def item_author_name(self, item):
        # The story's authors; a wire story's byline (its agency's credit) as before.
        return ", ".join(byline.author.name for byline in item.bylines.all()) or item.byline or None

    def item_categories(self, item):
        return [item.section.name]


class LatestStoriesAtomFeed(LatestStoriesFeed):
    feed_type = Atom1Feed

    def subtitle(self):
        return self.description()

    def feed_url(self):
        return reverse("articles:atom")


class ListingFeed(LatestStoriesFeed):
    """RSS 2.0: the newest published stories of one section or author, found by the slug in the URL's `kwarg`;
    `url_name` is the feed's own URL."""

    model = kwarg = url_name = None

    def get_object(self, request, **kwargs):
        return get_object_or_404(self.model, slug=kwargs[self.kwarg])

    def title(self, owner):
        return f"{settings.SITE_NAME}: {owner.name}"

    def link(self, owner):
        return owner.get_absolute_url()

    def feed_url(self, owner):
        return reverse(self.url_name, kwargs={self.kwarg: owner.slug})


class ListingAtomFeed:
    """The Atom feed of a ListingFeed: `class SectionAtomFeed(ListingAtomFeed, SectionFeed)`."""

    feed_type = Atom1Feed

    def subtitle(self, owner):
        return self.description(owner)


class SectionFeed(ListingFeed):
    model, kwarg, url_name = Section, "section", "articles:section-feed"

    def description(self, section):
        return f"The latest {section.name} stories from {settings.SITE_NAME}."

    def items(self, section):
        return stories(Article.objects.published().in_section(section))


class SectionAtomFeed(ListingAtomFeed, SectionFeed):
    url_name = "articles:section-atom"


class AuthorFeed(ListingFeed):
    model, kwarg, url_name = Author, "author", "articles:author-feed"

    def description(self, author):
        return f"The latest stories by {author.name} from {settings.SITE_NAME}."

    def items(self, author):
        return stories(Article.objects.published().by_author(author))


class AuthorAtomFeed(ListingAtomFeed, AuthorFeed):
    url_name = "articles:author-atom"


class TopicFeed(ListingFeed):
    model, kwarg, url_name = Topic, "topic", "articles:topic-feed"

    def __call__(self, request, *args, **kwargs):
        if not Topic.objects.filter(slug=kwargs["topic"]).exists():
            return merged_topic(request, self.url_name, kwargs["topic"])
        return super().__call__(request, *args, **kwargs)

    def description(self, topic):
        return f"The latest stories on {topic.name} from {settings.SITE_NAME}."

    def items(self, topic):
        return stories(Article.objects.published().on_topic(topic))


class TopicAtomFeed(ListingAtomFeed, TopicFeed):
    url_name = "articles:topic-atom"


def stories(published):
    """A feed's items: the newest of these published stories, with what an item shows of their section and authors.

    Their ids first, over the listing index alone, as a listing page's (listings.listing_pages): read with their
    rows, SQLite read every story of a topic or an author to sort them (160 ms for a topic of 9,500 stories).
    """
    newest = published.newest_first().values("pk")[:FEED_LENGTH]
    return (
        Article.objects.filter(pk__in=newest)
        .select_related("section")
        .prefetch_related(bylines_with_authors())
        .newest_first()
    )


def xml_safe_values(values):
    """A feed's or an item's values (strings, lists of them, dates, enclosures) with their text safe for XML 1.0."""

    def safe(value):
        if isinstance(value, str):
            return xml_safe(value)
        if isinstance(value, list | tuple):
            return [safe(item) for item in value]
        return value

    return {key: safe(value) for key, value in values.items()}
