"""Whole pages cached for anonymous readers, and what each process keeps, invalidated by *freshness*.

Every public page depends on a few scopes, each with a version in the database (models.Freshness), which
every process of a deployment reads: app servers, `import_dump` run from cron, a shell. A page is cached
under the versions of its scopes; a change that commits bumps the scopes it affects, so the next request
to any worker builds those pages afresh. The database, not the cache, holds the versions, so the default
set-up (each worker's own memory, no Redis) is as correct as several servers sharing Redis, and Redis
losing keys or going down never brings an old page back.

The scopes, and what bumps them (`scopes_for`, the one place that decides):
- "all": every page (the masthead lists the sections). A section changed; a change too large to name.
- "site": listings, feeds and search, and what each process keeps for them (the sections list, the
  newest stories of each section, Last-Modified, section counts, the next embargo's time). Any change
  to a story that readers can see or that is scheduled, before or after the change.
- "front:<section slug>": the story pages of a section, for their related stories (the section's newest).
  A change to a story among its section's newest, or one entering or leaving them.
- "story:<path>": one story's page. A change to that story, its captions, photos, corrections or bylines.
- "author:<slug>": an author's page and feeds, besides "site" (their stories). A change to the author (name,
  slug, bio, photo, links), which also goes stale on their stories' pages.
- "topic:<slug>": a topic's page and feeds, besides "site" (their stories). A change to the topic (name, slug,
  description, a merge), which also goes stale on its stories' pages.
- Fronts (the home page and section pages, arranged by editors: models.Front) are listings, under "site": a
  change to an approved arrangement or its slots, live or scheduled, before or after the change. A story on a
  front is a published story: any change to it bumps "site" already, however deep in the archive it is.
A draft that was not public and is not now changes nothing readers see: it bumps nothing; nor does a suggested
(unapproved) arrangement.

Some changes come without any save: an embargo lifts, a scheduled arrangement goes live, a pinned story's pin runs
out. No page or kept value is kept past the first of them (first_release()).

Mark public views in ``articles/urls.py``: ``path(..., cache_page_for_readers(View.as_view()))``;
PageCacheMiddleware answers them. What it will not cache, because the copy would be wrong for the next
reader: pages for anyone with a session (editors), non-GET requests, non-200 answers, and pages that set
a cookie, use a CSRF token or a CSP nonce.
If the cache cannot be reached, readers get pages built afresh; writes never need the cache.
"""

import hashlib
import logging
import os
import time
from collections import namedtuple
from urllib.parse import unquote

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import Resolver404, get_resolver, get_urlconf
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.functional import SimpleLazyObject
from django.utils.http import parse_http_date_safe

from .models import EMBARGOED, Article, Freshness, Front, FrontSlot, Section, publication_state, story_path

log = logging.getLogger("newsroom.cache")

ALL = "all"
SITE = "site"
# More stories than this in one change (a large import) make every page stale rather than each named.
MANY_STORIES = 200


def front_scope(section_slug):
    return f"front:{section_slug}"


def story_scope(path):
    # As request.path has it: reverse() gives an Arabic slug percent-encoded, the request decoded.
    return f"story:{unquote(path)}"


def listing_scopes(request, kwargs):
    return (ALL, SITE)


def story_page_scopes(request, kwargs):
    return (ALL, front_scope(kwargs["section"]), story_scope(request.path))


def author_scope(slug):
    return f"author:{slug}"


def author_page_scopes(request, kwargs):
    return (ALL, SITE, author_scope(kwargs["author"]))


def topic_scope(slug):
    return f"topic:{slug}"


def topic_page_scopes(request, kwargs):
    return (ALL, SITE, topic_scope(kwargs["topic"]))


# Reading.

# Changes this process made that have not committed yet. Only code inside the transaction that made them
# sees them (a page rendered in that transaction, a test's requests): it must not be served what was
# cached before them. Everyone else sees the versions bumped at commit.
_uncommitted = 0


# Versions this process read a moment ago, {scope: (version, when)}: under load a worker asks the database
# a few times a second, not on every request (a round trip cost PostgreSQL's cached pages a fifth of their
# speed). Other processes' changes are seen within FRESH_FOR seconds; this process's own at once.
FRESH_FOR = 0.25
_recent = {}


def read_versions(scopes):
    """{scope: version} from the database; 0 for a scope never bumped."""
    table = connection.ops.quote_name(Freshness._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT scope, version FROM {table} WHERE scope IN ({', '.join(['%s'] * len(scopes))})", scopes)
        found = dict(cursor.fetchall())
    return {scope: found.get(scope, 0) for scope in scopes}


def versions_for(request, scopes):
    """The versions of these scopes as this request first read them, as one string for cache keys.

    A request reads what its page needs in one query (and "all" and "site" with it, for what the
    process keeps), and every later question during the request is answered from that read.
    """
    known = request.__dict__.setdefault("_freshness", {})
    missing = [scope for scope in {ALL, SITE, *scopes} if scope not in known]
    if missing:
        now = time.monotonic()
        recent = {s: _recent[s][0] for s in missing if s in _recent and now - _recent[s][1] < FRESH_FOR}
        if unread := [scope for scope in missing if scope not in recent]:
            if len(_recent) > 10_000:  # one entry per story page read lately: forget them now and then
                _recent.clear()
            read = read_versions(unread)
            _recent.update((scope, (version, now)) for scope, version in read.items())
            recent |= read
        known.update(recent)
    token = ".".join(str(known[scope]) for scope in scopes)
    if _uncommitted and connection.in_atomic_block:
        return f"{token}~{os.getpid()}.{_uncommitted}"
    return token


def site_version(request):
    return versions_for(request, (ALL, SITE))


# Writing.

# A story as the scopes need it: before a change (read from the database) and after it.
StoryState = namedtuple("StoryState", ["pk", "status", "published_at", "section_id", "slug", "created_at"])


def story_states(articles):
    """The StoryStates of a queryset of stories, as the database has them now."""
    return [StoryState(*row) for row in articles.values_list(*StoryState._fields)]


# An arrangement of a front as the scopes need it, before and after a change.
FrontState = namedtuple("FrontState", ["pk", "section_id", "approved"])


def front_states(fronts):
    """The FrontStates of a queryset of arrangements, as the database has them now."""
    return [FrontState(*row) for row in fronts.values_list(*FrontState._fields)]


def content_changed(stories=(), *, everything=False, authors=(), topics=(), fronts=(), using=None):
    """Make readers' pages that show these stories (StoryStates, before and after the change), these
    authors and topics (slugs, before and after) and these arrangements of fronts (FrontStates, before and
    after) stale, on every process, once the change commits; with `everything`, every page.

    Every way of changing what readers see calls this: model signals (below) for saves and deletes, and
    code that writes without them (the importer). Until the commit, this process's own requests skip
    what it cached before (`_uncommitted`); other processes cannot see the change before it commits.
    """
    global _uncommitted
    _uncommitted += 1
    conn = transaction.get_connection(using)
    # One bump per transaction: join a change pending in this savepoint or an enclosing one (a savepoint
    # rolled back drops its callbacks, and must not take this change's with it).
    savepoints = set(conn.savepoint_ids)
    pending = next(
        (func for sids, func, _ in conn.run_on_commit if isinstance(func, PendingChange) and sids <= savepoints), None
    )
    if pending is not None and conn.in_atomic_block:
        pending.add(stories, everything, authors, topics, fronts)
        return
    pending = PendingChange(using)
    pending.add(stories, everything, authors, topics, fronts)
    transaction.on_commit(pending, using=using)  # at once, outside a transaction


def stories_changed(ids):
    """content_changed() for stories written without signals (the importer's bulk writes), by id, once
    written: a large import makes every page stale rather than reading back each story."""
    ids = list(ids)
    if len(ids) > MANY_STORIES:
        content_changed(everything=True)
    elif ids:
        content_changed(story_states(Article.objects.filter(pk__in=ids)))


class PendingChange:
    """What one transaction changed, bumped once it commits (one round trip for all its saves)."""

    def __init__(self, using):
        self.using = using
        self.stories = []
        self.everything = False
        self.authors = set()
        self.topics = set()
        self.fronts = []

    def add(self, stories, everything, authors, topics=(), fronts=()):
        self.stories.extend(stories)
        self.everything = self.everything or everything
        self.authors.update(authors)
        self.topics.update(topics)
        self.fronts.extend(fronts)

    def __call__(self):
        global _uncommitted
        try:
            bump(
                scopes_for(
                    self.stories,
                    everything=self.everything,
                    authors=self.authors,
                    topics=self.topics,
                    fronts=self.fronts,
                )
            )
            _recent.clear()  # this process sees its own change at once
        except Exception:  # noqa: BLE001 -- the change is committed: say so loudly, don't fail the request
            log.exception("could not invalidate readers' pages; they follow within DJANGO_PAGE_CACHE_SECONDS")
        _uncommitted = 0


def scopes_for(stories, *, everything=False, authors=(), topics=(), fronts=()):
    """The scopes whose pages show any of these story states, authors, topics or arrangements of fronts: the
    one rule of what a change invalidates."""
    if everything or len(stories) > MANY_STORIES:
        return {ALL}
    # An author's page shows them even without a published story (their bio): it is theirs to bump; a topic's too.
    scopes = {author_scope(slug) for slug in authors} | {topic_scope(slug) for slug in topics}
    # An approved arrangement is live, or will be (the next change that comes by itself): the fronts are
    # listings. A suggestion, before and after, shows nowhere.
    if any(front.approved for front in fronts):
        scopes.add(SITE)
    now = timezone.now()
    shown = [story for story in stories if publication_state(story.status, story.published_at, now)]
    if not shown:
        return scopes  # drafts, stories in review, withdrawn ones: no reader saw them before or sees them now
    scopes.add(SITE)
    slugs = dict(Section.objects.filter(pk__in={story.section_id for story in shown}).values_list("pk", "slug"))
    fronts = {}
    for story in shown:
        if publication_state(story.status, story.published_at, now) == EMBARGOED or story.section_id not in slugs:
            continue  # scheduled: only "site" (the next embargo's time) knows of it yet
        slug = slugs[story.section_id]
        scopes.add(story_scope(story_path(slug, story.published_at, story.slug)))
        if story.section_id not in fronts:
            fronts[story.section_id] = front_edge(story.section_id)
        edge = fronts[story.section_id]
        if edge is None or (story.published_at, story.pk) >= edge:
            scopes.add(front_scope(slug))
    return scopes


def front_edge(section_id):
    """(published_at, pk) of the oldest story on the section's front (the newest FRONT_SIZE), or None if the
    section has fewer: a story at or after it is on the front, or was until this change."""
    from .listings import FRONT_SIZE

    newest = Article.objects.published().filter(section_id=section_id).newest_first()
    return newest.values_list("published_at", "pk")[FRONT_SIZE - 1 : FRONT_SIZE].first()


def bump(scopes):
    """Give each scope a new version, in one statement. Versions are the clock (in nanoseconds, or one
    more than the last if that is later), so a database restored from a backup never repeats a version
    that pages were cached under since."""
    if not scopes:
        return
    table = connection.ops.quote_name(Freshness._meta.db_table)
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    rows = sorted(scopes)  # one order for every writer: no deadlock between two bumps
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, version) VALUES {', '.join(['(%s, %s)'] * len(rows))} "
            f"ON CONFLICT (scope) DO UPDATE SET version = {greatest}({table}.version + 1, excluded.version)",
            [value for scope in rows for value in (scope, time.time_ns())],
        )


# The shared cache (Redis, or each process's memory), behind a circuit: a cache that fails or hangs is not
# asked again by this process for CACHE_PAUSE seconds, so readers get pages built afresh at full speed
# instead of each waiting for its own timeout.

CACHE_PAUSE = 10
_cache_paused_until = 0.0


def from_cache(method, *args, **kwargs):
    """cache.<method>(*args, **kwargs), or None while the cache is failing."""
    global _cache_paused_until
    if time.monotonic() < _cache_paused_until:
        return None
    try:
        return getattr(cache, method)(*args, **kwargs)
    except Exception:  # noqa: BLE001 -- the cache only saves work: without it, build the page
        _cache_paused_until = time.monotonic() + CACHE_PAUSE
        log.warning("cache unavailable: not asked again for %s s", CACHE_PAUSE, exc_info=True)
        return None


# The page cache.


def page_key(request, version):
    url = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
    return f"page:{version}:{url}"


def seconds_to_keep(request=None):
    """The page cache's lifetime, cut short when an embargo lifts before it ends."""
    seconds = settings.PAGE_CACHE_SECONDS
    release = next_release(request) if request is not None else first_release()
    if release is not None:
        seconds = min(seconds, max(int((release - timezone.now()).total_seconds()), 0))
    return seconds


def cacheable(request, response):
    """Whether this response may be served to the next reader as it is."""
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not getattr(request, "_csp_nonce", None)  # a LazyNonce is false until a template used it
    )


def cache_page_for_readers(view, scopes=listing_scopes):
    """Mark a public view as cached for anonymous readers, until one of its scopes changes.

    `scopes(request, kwargs)` names what the page shows (listing_scopes, story_page_scopes). The caching
    itself is PageCacheMiddleware's, which answers a hit before the rest of the stack runs."""
    view.page_scopes = scopes
    return view


class PageCacheMiddleware:
    """Serve anonymous readers a cached copy of a page marked with cache_page_for_readers.

    First in the stack but for the request log: a hit needs none of what building a page does (sessions,
    CSRF, authentication, messages, the lockout check, ETags), so it skips them all and is answered from the
    cache with the headers the page was first sent with (its Content-Security-Policy, security headers,
    ETag and Last-Modified, so If-None-Match and If-Modified-Since still get a 304). Only a request without a
    session cookie is surely anonymous: any other goes through the stack and is never cached.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        scopes = self.scopes(request)
        if scopes is None:
            return self.get_response(request)
        key = page_key(request, versions_for(request, scopes))
        cached = from_cache("get", key)
        if cached is not None:
            return self.hit(request, *cached)
        next_release(request)  # before the page reads anything: it is kept no longer than this
        response = self.get_response(request)
        seconds = seconds_to_keep(request)
        if cacheable(request, response) and seconds > 0:
            headers = {name: value for name, value in response.items() if name.lower() != "set-cookie"}
            from_cache("set", key, (response.content, headers), timeout=seconds)
            response["X-Page-Cache"] = "miss"
        return response

    @staticmethod
    def scopes(request):
        """The scopes of the page asked for, or None if it is not one to answer from the cache."""
        if (
            request.method not in ("GET", "HEAD")
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or not settings.PAGE_CACHE_SECONDS
        ):
            return None
        try:
            match = get_resolver(get_urlconf()).resolve(request.path_info)
        except Resolver404:
            return None
        scopes = getattr(match.func, "page_scopes", None)
        return scopes(request, match.kwargs) if scopes else None

    @staticmethod
    def hit(request, content, headers):
        response = HttpResponse(content, headers=headers)
        last_modified = headers.get("Last-Modified")
        response = get_conditional_response(
            request,
            etag=headers.get("ETag"),
            last_modified=last_modified and parse_http_date_safe(last_modified),
            response=response,
        )
        response["X-Page-Cache"] = "hit"
        return response


# Kept by each process per site version, besides whole pages: what every page or every page of a section needs.

COUNT_SECONDS = 3600

# What this process keeps: {name: (site version, kept until (or None), value)}.
_kept = {}


def kept(request, name, compute, until=None):
    """`compute()`, computed once per site version by this process and then kept, and shared by every
    request under that version; with `until` (a function of the value), only until that time.

    Any change that readers can see bumps the version in the database, which every process reads, so
    nothing kept can outlive the data it came from. Nothing may modify what this returns: other requests
    share it.
    """
    version = site_version(request)
    entry = _kept.get(name)
    if entry is None or entry[0] != version or (entry[1] is not None and timezone.now() >= entry[1]):
        value = compute()
        entry = _kept[name] = (version, until(value) if until else None, value)
    return entry[2]


def first_release():
    """When the next change that comes without a save is due, or None: an embargo lifting, an approved
    arrangement of a front going live, a pinned story giving its place up. Until then, nothing a reader can
    see changes without a save. One query (each part reads an index, or the few scheduled arrangements and
    pinned slots)."""
    now = timezone.now()
    embargoes = Article.objects.embargoed().order_by().values_list("published_at")
    schedules = Front.objects.scheduled(now).order_by().values_list("live_from")
    pins = FrontSlot.objects.pins().filter(pinned_until__gt=now).order_by().values_list("pinned_until")
    return next(iter(embargoes.union(schedules, pins, all=True).order_by("published_at")[:1]), (None,))[0]


def next_release(request):
    """first_release(), kept per site version until that time. A request keeps the one it read first: a page
    built from what was read before a release is never cached past it, however long the request took (read
    again at its end, the release would have passed and the next one come, or none)."""
    if "_next_release" not in request.__dict__:
        request._next_release = kept(request, "next-release", first_release, until=lambda release: release)
    return request._next_release


def kept_until_release(request, name, compute):
    """As kept(), for what depends on which stories are published: an embargo lifts without a save."""
    # The release first: an embargo that lifts while computing makes the value stale at once, never later.
    release = next_release(request)
    return kept(request, name, compute, until=lambda value: release)


def sections_for(request):
    """Every section, for the masthead; views take their section (and their stories' sections) from the
    same list instead of asking the database again."""
    return kept(request, "sections", lambda: list(Section.objects.all()))


def section_count(request, section):
    """How many published stories a section has, for its pages' "Page 3 of 1,361"."""
    return listing_count(request, section.pk, Article.objects.in_section(section))


def author_count(request, author):
    """How many published stories an author has, for their pages."""
    # Lazy: the author's queryset took longer to build than the cached count takes to read (as a topic's: 1.2 ms
    # of a 5 ms page), and a count is counted only once per site version.
    return listing_count(request, f"author-{author.pk}", SimpleLazyObject(lambda: Article.objects.by_author(author)))


def topic_count(request, topic):
    """How many published stories a topic has, for its pages."""
    return listing_count(request, f"topic-{topic.pk}", SimpleLazyObject(lambda: Article.objects.on_topic(topic)))


def listing_count(request, name, stories):
    """How many of `stories` (a listing's, whatever their status) are published, under `name`.

    Counted once per site version rather than on every request: on a section of 90,000 stories the
    count costs more than the rest of its page. Like a cached page, a count is not trusted past the
    listing's next embargo (a story appears without a save), and without the cache it is counted afresh.
    """
    key = f"count:{site_version(request)}:{name}"
    cached = from_cache("get", key)
    if cached is not None and (cached[1] is None or timezone.now() < cached[1]):
        return cached[0]
    # The next embargo first: one that lifts while counting makes the count stale at once, never later.
    release = stories.embargoed().order_by("published_at").values_list("published_at", flat=True).first()
    count = stories.published().count()
    from_cache("set", key, (count, release), timeout=COUNT_SECONDS)
    return count
