"""The public site's listings: story cards, the fronts (the home page's and each section's, as editors arrange
them), a section's, an author's and a topic's pages, a story's related stories, and the newest stories of every
section."""

from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain

from django.db import connection
from django.db.models import FETCH_PEERS, Count, Exists, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone

from . import pagecache
from .compiled import CompiledQuery
from .models import PUBLIC, Article, ArticleQuerySet, Byline, Front, FrontSlot, StoryTopic, publication_state
from .pagecache import sections_for

# A front's lead and its top stories (the home page's, a section page's), when its arrangement has fewer slots.
LEAD_AND_TOP = 5
STORIES_PER_SECTION_ON_HOME = 4
RELATED_STORIES = 4
# A story page's related stories are its section's newest but itself.
FRONT_SIZE = max(STORIES_PER_SECTION_ON_HOME, RELATED_STORIES + 1)

# What a card shows of a story (articles/includes/story_card.html, articles.jinja2.card_key), but its
# summary. The summary comes from the body, which PostgreSQL keeps out of line (TOAST, some 6 kB a story),
# and only a card being rendered needs it: most cards are kept already (articles.jinja2.story_card). So
# the body is left out, and the first card that reads it fetches it for the whole page's stories in one
# query (FETCH_PEERS).
CARD_FIELDS = [
    "headline",
    "slug",
    "section",
    "standfirst",
    "language",
    "published_at",
    "created_at",
    "updated_at",
    "version",
]


def card_stories(*fields):
    """Stories with what their cards show (and these other fields). Unordered: callers put them in their
    listing's order (an ORDER BY made PostgreSQL sort the whole rows)."""
    return Article.objects.only(*CARD_FIELDS, *fields).with_lead_photo().fetch_mode(FETCH_PEERS).order_by()


def as_cards(stories, sections):
    """Card stories (card_stories()), each given its section from the page's own list of sections.

    select_related and prefetch_related cost listings more Python time (an object per section per story, a
    queryset per story) than the database took to answer (docs/performance.md).
    """
    sections = {section.pk: section for section in sections}
    for story in stories:
        # A section created a moment ago may not be in the page's list yet: then the story fetches its own.
        story.section = sections.get(story.section_id) or story.section
    return stories


def listing_pages(stories):
    """One page of a listing in one query: the page's ids, skipped to over the listing index alone (index-only,
    so deep pages stay fast), then those stories by primary key (with the listing's filters repeated, SQLite
    scanned the whole section instead). `stories(published, owner)` narrows the published stories to the
    listing's (a section's).

    Compiled once per process (articles/compiled.py): Django took longer to build and compile it than the
    database takes to answer it (2-3 ms of CPU a request, 60-90% of an uncached section page's).
    """
    return CompiledQuery(
        lambda owner, now, page: card_stories().filter(
            pk__in=stories(Article.objects.published(at=now), owner).newest_first().values("pk")[page]
        ),
        int,
        datetime,
        slice,
    )


section_page = listing_pages(ArticleQuerySet.in_section)


def linked_pages(link, owner):
    """One page of an author's or a topic's stories in one query: the page's ids read from their links' own
    listing index (byline_author_listing, story_topic_listing: each link keeps its story's place, `listed_at`),
    then those stories by primary key, with their status for LinkedListing to check.

    Walking the whole archive's listing to find an owner's stories cost a topic of 1,000 stories among 100,000
    8-40 ms a page on PostgreSQL, and an author's last page 20-40 ms; from the links, any page of either is read
    from a few index pages (docs/performance.md). Compiled once per process, as listing_pages.
    """
    return CompiledQuery(
        lambda owner_pk, now, page: card_stories("status").filter(
            pk__in=link.objects.filter(**{owner: owner_pk, "listed_at__lte": now})
            .order_by("-listed_at", "-article")
            .values("article")[page]
        ),
        int,
        datetime,
        slice,
    )


author_page = linked_pages(Byline, "author")
topic_page = linked_pages(StoryTopic, "topic")


class Listing:
    """A section's, an author's or a topic's published stories, newest first, as cards, as the paginator slices
    them (one compiled query a page: `pages`). The paginator's count is set by the view."""

    pages = None

    def __init__(self, owner, now, sections):
        self.owner = owner
        self.now = now
        self.sections = sections

    def __getitem__(self, page):
        stories = self.pages(self.owner.pk, self.now, page)
        stories.sort(key=lambda story: (story.published_at, story.pk), reverse=True)  # newest_first()
        return as_cards(stories, self.sections)


class SectionListing(Listing):
    pages = section_page


class LinkedListing(Listing):
    """An author's or a topic's stories, as their links list them (linked_pages), each checked by the rule for a
    story in hand: a link's copy of its story's place never shows a story readers may not see. (Asked in SQL,
    SQLite walked every published story's listing entry to check the page's twenty.)"""

    def __getitem__(self, page):
        stories = super().__getitem__(page)
        return [story for story in stories if publication_state(story.status, story.published_at, self.now) == PUBLIC]


class AuthorListing(LinkedListing):
    pages = author_page


class TopicListing(LinkedListing):
    pages = topic_page


# Candidates for a story's related stories on its topics: the newest published stories sharing one of them.
# Bounded, so a story on a topic of 50,000 stories costs its page as little as one on a topic of three.
SHARED_TOPIC_CANDIDATES = 100

# On PostgreSQL, the newest stories of each of a story's topics (by id: the links' index, story_topic_stories),
# this many a topic, are where its related stories are looked for.
NEWEST_ON_EACH_TOPIC = 25
NEWEST_ON_EACH_TOPIC_SQL = f"""
    SELECT near.article_id FROM {StoryTopic._meta.db_table} mine
    CROSS JOIN LATERAL (
        SELECT link.article_id FROM {StoryTopic._meta.db_table} link
        WHERE link.topic_id = mine.topic_id AND link.article_id <> mine.article_id
        ORDER BY link.article_id DESC LIMIT {NEWEST_ON_EACH_TOPIC}
    ) near
    WHERE mine.article_id = %s
"""


def sharing_a_topic(article):
    """A filter of stories: those sharing a topic with `article`.

    PostgreSQL, asked for the newest published stories sharing one, walked the listing probing each story's
    links, and when few share (20 topics a story among 2,000) read 20,000 stories to find 100: 0.4-2.8 s a story
    page at 100,000 stories. So there it looks among each topic's newest few instead, a LATERAL join Django
    cannot write (1.5-2.5 ms). SQLite, which has no LATERAL, answers the plain question in 2-7 ms.
    """
    if connection.vendor == "postgresql":
        return Q(pk__in=RawSQL(NEWEST_ON_EACH_TOPIC_SQL, (article,)))
    mine = StoryTopic.objects.filter(article=article).values("topic")
    return Exists(StoryTopic.objects.filter(article=OuterRef("pk"), topic__in=mine))


# A story's related stories on its topics: of the newest stories sharing a topic with it, those sharing the
# most, newest first. One query, compiled once per process (as listing_pages).
shared_topic_stories = CompiledQuery(
    lambda article, now: (
        card_stories()
        .filter(
            pk__in=Article.objects.published(at=now)
            .filter(sharing_a_topic(article))
            .exclude(pk=article)
            .newest_first()
            .values("pk")[:SHARED_TOPIC_CANDIDATES]
        )
        .alias(
            shared=Subquery(
                StoryTopic.objects.filter(
                    article=OuterRef("pk"), topic__in=StoryTopic.objects.filter(article=article).values("topic")
                )
                .order_by()
                .values("article")
                .annotate(n=Count("pk"))
                .values("n")
            )
        )
        .order_by("-shared", "-published_at", "-pk")[:RELATED_STORIES]
    ),
    int,
    datetime,
)


def related_stories(request, article, has_topics):
    """A story page's related stories: those sharing the most of its topics, newest first, then the newest of
    its section, none twice: at most one query (none for a story without topics)."""
    related = as_cards(shared_topic_stories(article.pk, timezone.now()), sections_for(request)) if has_topics else []
    seen = {article.pk, *(story.pk for story in related)}
    front = section_fronts(request).get(article.section_id, [])
    return (related + [story for story in front if story.pk not in seen])[:RELATED_STORIES]


def section_fronts(request):
    """The newest published stories of every section, as cards, newest first: the home page's groups and
    every story page's related stories. Kept per content version (articles/pagecache.py)."""

    def read():
        sections = sections_for(request)
        cards = as_cards(list(card_stories().filter(pk__in=latest_in_each(sections, FRONT_SIZE))), sections)
        fronts = {}
        for card in sorted(cards, key=lambda story: (story.published_at, story.pk), reverse=True):  # newest_first()
            fronts.setdefault(card.section_id, []).append(card)
        return fronts

    return pagecache.kept_until_release(request, "fronts", read)


def latest_in_each(sections, count, at=None):
    """The ids of the newest `count` published stories of every section, as a subquery: a UNION ALL of one
    small indexed query a section (a window function over every published story, ROW_NUMBER() OVER
    (PARTITION BY section), reads the whole archive: 0.4 s at 100,000 stories).

    SQLite takes no LIMIT in a part of a UNION: each part is the ids in its section's newest.
    """
    newest = Article.objects.published(at=at).newest_first().values("pk")
    parts = [Article.objects.filter(pk__in=newest.in_section(s)[:count]).order_by().values("pk") for s in sections]
    return parts[0].union(*parts[1:], all=True) if parts else Article.objects.none().values("pk")


# The fronts: the home page's and each section page's top stories, as their live arrangements (models.Front) say.


@dataclass
class Fronts:
    """What every front shows: the home page's lead and top stories, its section blocks below them, and each
    section page's lead and top stories ({section pk: cards}). Cards in order, the lead first."""

    home: list = field(default_factory=list)
    blocks: list = field(default_factory=list)  # [(section, cards)], in the sections' order
    sections: dict = field(default_factory=dict)


def front_pages(request):
    """Every front as readers see it now, kept per content version until the next change that comes by itself
    (an embargo lifting, an arrangement going live, a pin running out: pagecache.first_release())."""
    return pagecache.kept_until_release(request, "front-pages", lambda: read_fronts(sections_for(request)))


def read_fronts(sections, at=None, arrangement=None):
    """Every front at `at` (now by default), in two queries whatever the number of slots and stories: the slots
    of each page's live arrangement that may show, then their stories' cards with each section's newest.

    `arrangement` (a Front) stands in for its page's live arrangement, as if it were live: an editor's preview.
    """
    at = at or timezone.now()
    slots = list(
        FrontSlot.objects.showing(at)
        .filter(front__in=live_arrangements(sections, at, arrangement))
        .order_by("order", "pk")
        .values_list("front__section_id", "article_id")
    )
    # Enough of each section's newest to fill its page's front (at most twice LEAD_AND_TOP: the fill besides the
    # section's slots), and its block below the home page's front (the block, after the home page's fill and
    # slots). A block may come up short only if other sections' arrangements take its section's newest stories.
    home_slots = sum(1 for page, _ in slots if page is None)
    count = max(STORIES_PER_SECTION_ON_HOME + LEAD_AND_TOP + home_slots, 2 * LEAD_AND_TOP)
    in_each = latest_in_each(sections, count, at)
    cards = as_cards(list(card_stories().filter(Q(pk__in=in_each) | Q(pk__in=[pk for _, pk in slots]))), sections)
    by_pk = {card.pk: card for card in cards}
    slotted = {}
    for page, pk in slots:
        if pk in by_pk:  # a story deleted between the two queries: its change will be seen on the next request
            slotted.setdefault(page, []).append(by_pk[pk])
    newest = sorted(cards, key=lambda story: (story.published_at, story.pk), reverse=True)  # newest_first()
    fronts = Fronts(home=arranged(slotted.get(None, []), newest, LEAD_AND_TOP))
    shown = {card.pk for card in fronts.home}
    for section in sections:
        own = [card for card in newest if card.section_id == section.pk]
        fronts.sections[section.pk] = arranged(slotted.get(section.pk, []), own, LEAD_AND_TOP)
        block = arranged(slotted.get(section.pk, []), own, STORIES_PER_SECTION_ON_HOME, shown=shown, most=True)
        shown.update(card.pk for card in block)
        if block:
            fronts.blocks.append((section, block))
    return fronts


def arranged(slotted, newest, size, *, shown=(), most=False):
    """The one rule of what a front shows: its slots' stories in their order, then the newest stories, never one
    twice nor one of `shown` (already on the page), `size` stories unless the slots are more (or at `most` size).
    The slots are those that may show (FrontSlotQuerySet.showing()): a story withdrawn, embargoed or past its pin
    gives its place to the next."""
    front, seen = [], set(shown)
    for story in chain(slotted, newest):
        if story.pk in seen:
            continue
        if len(front) >= size and (most or story not in slotted):
            break
        front.append(story)
        seen.add(story.pk)
    return front


def live_arrangements(sections, at, arrangement=None):
    """The ids of the arrangement each front shows at `at` (its newest live one), as a subquery: one small
    indexed query a page (front_page_live_from), as latest_in_each."""
    parts = []
    for page in [None, *sections]:
        page_id = page.pk if page else None
        if arrangement is not None and arrangement.section_id == page_id:
            parts.append(Front.objects.filter(pk=arrangement.pk).values("pk"))
            continue
        newest = Front.objects.live(at).of_page(page).order_by("-live_from", "-pk").values("pk")[:1]
        parts.append(Front.objects.filter(pk__in=newest).order_by().values("pk"))
    return parts[0].union(*parts[1:], all=True)
