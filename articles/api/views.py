"""The read API: published stories in ninjs (ninjs.py), as plain Django views.

Plain views rather than Django REST framework or django-ninja: the ninjs is a dict built by hand either way
(neither library knows ninjs), and plain views go through what the HTML pages already have (the page cache
and its invalidation, ETags and 304s from ConditionalGetMiddleware, Last-Modified), at the speed of a page.

Everything starts from Article.objects.published(): drafts, stories in review and embargoed stories answer
404 exactly as a story that never existed. A withdrawn story answers 410 Gone with its tombstone.
"""

import hashlib
import json
from datetime import datetime, time, timedelta
from functools import wraps
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import http_date, urlencode
from django.views.decorators.http import condition

from .. import pagecache, search
from ..compiled import CompiledQuery
from ..models import Article, Author, Redirect, Section, Topic
from ..pagecache import sections_for
from ..views import last_change
from . import ninjs, openapi

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
LISTING_PARAMETERS = {"section", "topic", "author", "since", "until", "updated_since", "q", "cursor", "page_size"}
SCHEMA_FILE = Path(__file__).parent / "schemas" / "ninjs-schema_2.2.json"
CURSOR_SALT = "articles.api.cursor"


class ApiError(Exception):
    """A request the API answers with a JSON error: its status, what is wrong, and the parameter at fault."""

    def __init__(self, status, message, parameter=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameter = parameter


def json_response(data, status=200):
    """JSON in UTF-8, Arabic as it is (not \\u-escaped). no-cache, as the pages: a client may keep an answer but
    must ask again (and get a 304) before using it, so a withdrawn story is never served from its cache."""
    response = JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    patch_cache_control(response, no_cache=True)
    return response


def error_response(status, message, parameter=None):
    error = {"status": status, "message": message}
    if parameter:
        error["parameter"] = parameter
    return json_response({"error": error}, status=status)


def api_view(view):
    """A read-only API view: GET and HEAD only, and ApiError answered as JSON."""

    @wraps(view)
    def answer(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = error_response(405, f"{request.method} is not allowed: the API is read-only.")
            response["Allow"] = "GET, HEAD"
            return response
        try:
            return view(request, *args, **kwargs)
        except ApiError as error:
            return error_response(error.status, error.message, error.parameter)

    return answer


@api_view
def index(request):
    """Where everything is."""

    def link(name):
        return request.build_absolute_uri(reverse(f"api:{name}"))

    return json_response(
        {
            "version": "v1",
            "format": ninjs.STANDARD,
            "links": {
                "stories": link("stories"),
                "lookup": link("lookup"),
                "openapi": link("openapi"),
                "docs": link("docs"),
                "ninjs_schema": link("ninjs-schema"),
            },
        }
    )


@api_view
def story(request, pk):
    """A published story by id; a withdrawn one's tombstone (410); anything else 404."""
    if not published_story(pk, timezone.now()):
        return gone(request, Article.objects.withdrawn().filter(pk=pk).first())
    return story_response(request, pk)


def story_response(request, pk):
    encoded = encoded_stories(request, [pk]).get(pk)
    if encoded is None:  # deleted a moment ago
        raise ApiError(404, "No published story here.")
    text, changed_at, digest = encoded
    response = json_text_response(text, etag=digest)
    response["Last-Modified"] = http_date(changed_at.timestamp())
    return response


# Each story's ninjs, encoded, as this process made it for this site version (pagecache.kept()): encoding a story
# costs more than reading it (one with ten authors and twenty topics, 1.5 ms), and a listing is twenty of them.
# Any change to what a story's ninjs shows (the story, its captions, photos, corrections, authors, topics, section)
# bumps "site", as it does for the page cache (pagecache.scopes_for), and with it the version: nothing kept is
# used past it. At most this many a process.
KEPT_STORIES = 2000


def encoded_stories(request, ids):
    """{id: (its ninjs as JSON in UTF-8 bytes, when it last changed, a digest of it)} of these published stories, made
    for those this process has not kept under the current site version (with for_ninjs(): four queries, whatever
    their number)."""
    # A memo of this version's stories, filled as they are asked for (and dropped with the version).
    kept = pagecache.kept(request, f"api-stories {ninjs.absolute(request, '/')}", dict)
    found = {pk: kept[pk] for pk in ids if pk in kept}
    if missing := [pk for pk in ids if pk not in found]:
        made = {}
        for article in Article.objects.for_ninjs().filter(pk__in=missing):
            # Kept as bytes: encoding an answer's text to UTF-8 on every request was a fifth of a listing's CPU
            # (Arabic stories more, having no ASCII fast path).
            text = encode(ninjs.story(article, request)).encode()
            made[article.pk] = (text, ninjs.changed_at(article), hashlib.md5(text).hexdigest())
        if len(kept) > KEPT_STORIES:
            kept.clear()
        kept.update(made)
        found |= made
    return found


def encode(data):
    return json.dumps(data, ensure_ascii=False, cls=DjangoJSONEncoder)


def json_text_response(text, etag=None):
    """json_response() of JSON already encoded; `etag` (a digest of what it shows) saves ConditionalGetMiddleware
    hashing the whole text."""
    response = HttpResponse(text, content_type="application/json")
    patch_cache_control(response, no_cache=True)
    if etag:
        response["ETag"] = f'"{etag}"'
    return response


def gone(request, withdrawn):
    """The tombstone of a withdrawn story, with 410 Gone, as its page answers; else the same 404 for a draft, a
    story in review or under embargo as for one that never existed."""
    if withdrawn is None:
        raise ApiError(404, "No published story here.")
    return json_response(ninjs.tombstone(withdrawn, request), status=410)


@api_view
def lookup(request):
    """A story by its public URL (absolute, or its path), as its page would answer: an old URL that redirects
    finds the story it redirects to; a withdrawn story's URL, its tombstone (410)."""
    url = one(request.GET, "url")
    if not url:
        raise ApiError(400, "Give a story's public URL or path, e.g. ?url=/world/2026/12/03/floods/.", "url")
    try:
        match = resolve("/" + unquote(urlsplit(url).path).lstrip("/"))
    except Resolver404:
        match = None
    if match is None or match.view_name != "articles:detail":
        raise ApiError(404, "No story at this URL.")
    slug = match.kwargs["slug"]
    stories = Article.objects.published().values_list("pk", flat=True)
    # As the story page: a published story with this slug is the one (its page redirects any other URL to it).
    pk = stories.filter(slug=slug).first()
    moved = None
    if pk is None:
        moved = Redirect.objects.filter(old_path=reverse("articles:detail", kwargs=match.kwargs)).first()
        pk = moved and stories.filter(pk=moved.article_id).first()
    if pk is None:
        withdrawn = Article.objects.withdrawn()
        return gone(
            request, withdrawn.filter(slug=slug).first() or (moved and withdrawn.filter(pk=moved.article_id).first())
        )
    response = story_response(request, pk)
    response["Content-Location"] = reverse("api:story", kwargs={"pk": pk})
    return response


@api_view
@condition(last_modified_func=last_change)
def stories(request):
    """Published stories, newest first (id breaking ties), filtered, a page at a time by cursor."""
    query = request.GET
    unknown = sorted(set(query) - LISTING_PARAMETERS)
    if unknown:
        raise ApiError(
            400, f"Unknown parameter; the listing takes {', '.join(sorted(LISTING_PARAMETERS))}.", unknown[0]
        )
    size = page_size(query)
    cursor = read_cursor(token) if (token := one(query, "cursor")) else None
    # After a cursor, the stories published by its story's time (before now: it was listed).
    at = min(timezone.now(), cursor[0]) if cursor else timezone.now()
    if set(query) <= {"cursor", "page_size"}:  # the whole listing, as most clients poll it: compiled
        rows = stories_after(at, *cursor, slice(0, size + 1)) if cursor else newest_stories(at, slice(0, size + 1))
    else:
        found = filtered(request, Article.objects.published(at=at))
        if cursor:
            found = after(found, *cursor)
        # The page's ids from the listing index alone, then those stories' ninjs.
        rows = list(found.newest_first().values_list("pk", "published_at")[: size + 1])
    page = rows[:size]
    encoded = encoded_stories(request, [pk for pk, _ in page])
    following = None
    if len(rows) > size:
        params = {name: value for name, value in query.items() if name != "cursor"}
        params["cursor"] = make_cursor(*page[-1][::-1])
        following = request.build_absolute_uri(f"{request.path}?{urlencode(params)}")
    shown = [encoded[pk] for pk, _ in page if pk in encoded]  # but one deleted a moment ago
    text = b'{"items": [%b], "page_size": %d, "next": %b}' % (
        b", ".join(story[0] for story in shown),
        size,
        encode(following).encode(),
    )
    # The ETag from the stories' digests, kept with them, rather than from the page (a third of its CPU).
    etag = hashlib.md5(" ".join([*(story[2] for story in shown), str(size), str(following)]).encode())
    return json_text_response(text, etag=etag.hexdigest())


def after(stories, published_at, pk):
    """The stories after (older than) the one at (published_at, pk) in the listing's order, among `stories`, which
    are published at or before `published_at` (Article.objects.published(at=published_at)): the one bound the
    listing index is walked from. With a second (published() now), SQLite walked from the one it picked, now's."""
    return stories.filter(Q(published_at__lt=published_at) | Q(published_at=published_at, pk__lt=pk))


# Whether a story is published (its id, or nothing), compiled as the listing's pages below.
published_story = CompiledQuery(
    lambda pk, now: Article.objects.published(at=now).filter(pk=pk).values_list("pk", flat=True), int, datetime
)
# The whole listing's pages, the first and those after a cursor, as (id, published_at), compiled once per process
# (articles/compiled.py): building the query took longer than the database took to answer it.
newest_stories = CompiledQuery(
    lambda now, page: Article.objects.published(at=now).newest_first().values_list("pk", "published_at")[page],
    datetime,
    slice,
)
stories_after = CompiledQuery(
    lambda at, published_at, pk, page: (
        after(Article.objects.published(at=at), published_at, pk).newest_first().values_list("pk", "published_at")[page]
    ),
    datetime,
    datetime,
    int,
    slice,
)


def filtered(request, found):
    """The listing's stories narrowed by its filters, each checked: a bad value is an ApiError naming it."""
    query = request.GET
    if slug := one(query, "section"):
        section = next((s for s in sections_for(request) if s.slug == slug), None)
        if section is None:
            section = Section.objects.filter(slug=slug).first()  # created a moment ago
        if section is None:
            raise ApiError(400, f"No section “{slug}”.", "section")
        found = found.in_section(section)
    if slug := one(query, "topic"):
        topic = Topic.objects.filter(slug=slug).first()
        if topic is None:
            raise ApiError(400, f"No topic “{slug}”.", "topic")
        found = found.on_topic(topic)
    if slug := one(query, "author"):
        author = Author.objects.filter(slug=slug).first()
        if author is None:
            raise ApiError(400, f"No author “{slug}”.", "author")
        found = found.by_author(author)
    since, until = moment(query, "since"), moment(query, "until", end_of_day=True)
    if since and until and since > until:
        raise ApiError(400, "since is after until.", "since")
    if since:
        found = found.filter(published_at__gte=since)
    if until:
        found = found.filter(published_at__lt=until)
    if updated := moment(query, "updated_since"):
        found = found.filter(updated_at__gte=updated)
    if words := one(query, "q"):
        # The site's search (articles/search): its newest matches (at most SEARCH_RANKED_MATCHES), with the
        # filters above, listed newest first like the rest of the listing.
        results = search.Results(found, words)
        found = found.filter(pk__in=[pk for pk, _ in results.newest()[: results.limit]])
    return found


def one(query, name):
    """A parameter given once (or not at all: None)."""
    values = query.getlist(name)
    if len(values) > 1:
        raise ApiError(400, "Give this parameter once.", name)
    return values[0].strip() if values else None


def moment(query, name, end_of_day=False):
    """A date (2026-12-03, the whole day in the newsroom's time zone) or a date-time (2026-12-03T09:30:00Z;
    without an offset, in the newsroom's time zone), or None. `end_of_day`: a date means the end of that day."""
    value = one(query, name)
    if not value:
        return None
    try:
        # A date first: Python reads one as a date-time too (its midnight).
        day = parse_date(value)
        when = None if day else parse_datetime(value)
    except ValueError:
        when = day = None
    if day is not None:
        when = datetime.combine(day + timedelta(days=1) if end_of_day else day, time())
    if when is None:
        raise ApiError(
            400,
            f"“{value}” is not a date or a date-time (ISO 8601: 2026-12-03 or 2026-12-03T09:30:00Z; "
            "write a + in an offset as %2B).",
            name,
        )
    return timezone.make_aware(when) if timezone.is_naive(when) else when


def page_size(query):
    value = one(query, "page_size")
    if value is None:
        return PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise ApiError(400, f"“{value}” is not a number from 1 to {MAX_PAGE_SIZE}.", "page_size")
    return int(value)


def make_cursor(published_at, pk):
    """An opaque, signed token of where a page ended: the last story's (published_at, id)."""
    return signing.dumps([published_at.isoformat(), pk], salt=CURSOR_SALT, compress=True)


def read_cursor(token):
    try:
        published_at, pk = signing.loads(token, salt=CURSOR_SALT)
        published_at = datetime.fromisoformat(published_at)
        if not isinstance(pk, int):
            raise ValueError(pk)
    except (signing.BadSignature, ValueError, TypeError):
        raise ApiError(400, "Not a cursor this API gave (use the listing's `next` link as it is).", "cursor") from None
    return published_at, pk


@api_view
def openapi_document(request):
    return json_response(openapi.document(request))


@api_view
def docs(request):
    """The OpenAPI document as a page of the site."""
    return render(request, "api/docs.html", {"api": openapi.document(request)})


@api_view
def ninjs_schema(request):
    """The IPTC ninjs 2.2 schema the stories follow, as the OpenAPI document refers to it."""
    response = HttpResponse(SCHEMA_FILE.read_bytes(), content_type="application/schema+json")
    patch_cache_control(response, public=True, max_age=24 * 3600)
    return response


@api_view
def not_found(request, *args, **kwargs):
    """A JSON 404 for any other address under /api/v1/; one missing its trailing slash is sent to it, as
    CommonMiddleware does for the site (this catch-all would stop it)."""
    try:
        slashed = resolve(f"{request.path_info}/").url_name != "not-found"
    except Resolver404:
        slashed = False
    if slashed and not request.path_info.endswith("/"):
        query = request.META.get("QUERY_STRING")
        return redirect(f"{request.path}/{'?' + query if query else ''}", permanent=True)
    raise ApiError(404, "No such endpoint: see the index at " + request.build_absolute_uri(reverse("api:index")))
