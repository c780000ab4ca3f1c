"""Whole-page cache for anonymous readers, invalidated site-wide by a content version.

A public page is cached under a key that contains the site's *content version*, a number kept in the
shared cache. Saving or deleting an Article, Caption, Photo, Correction or Section bumps the version
(signals below), so from that moment every app server sharing the cache builds fresh pages: nobody has
to work out which pages a change touches (a headline is on the index, its section, its own page and the feeds).
Pages cached under old versions are never asked for again and expire on their own.

Use it on public views in ``articles/urls.py``: ``path(..., cache_page_for_readers(View.as_view()))``.
What it will not cache, because the copy would be wrong for the next reader: pages for logged-in users
(staff preview drafts through the same views), non-GET requests, non-200 answers, and pages that set a
cookie, use a CSRF token or a CSP nonce. An embargo ending changes pages without any save, so a page is
never kept past the next embargoed story's publication time.

The same version keys what pages built afresh share: each process's list of sections (`sections_for`) and,
in the shared cache, each section's story count (`section_count`). The version is read once per request.

If the cache cannot be reached, readers get pages built afresh. Edits in the admin, though, fail while it
is down (bumping the version raises, and the admin's transaction rolls back): better an editor told to
retry than a withdrawn story served again from the cache when it comes back.
"""

import hashlib
import logging
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.utils import timezone

from .models import Article, Caption, Correction, Photo, Section

# What readers see of these models is on public pages; the importer's bulk writes send no signals,
# so import_dump bumps the version itself.
PUBLIC_MODELS = [Article, Caption, Photo, Correction, Section]

VERSION_KEY = "content-version"

log = logging.getLogger("newsroom.cache")


def content_version():
    version = cache.get(VERSION_KEY)
    if version is None:
        # Start from the clock, not from 1: if Redis loses the key, pages cached under the old numbers
        # must not come back to life.
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def request_version(request):
    """The content version as this request first saw it: the page cache, the sections list and the section
    counts all ask, and with Redis each asking is a round trip."""
    if not hasattr(request, "_content_version"):
        request._content_version = content_version()
    return request._content_version


def bump_content_version():
    """Make every cached public page stale, on every server sharing the cache."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet (or it was evicted): any new number will do
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)


def content_changed(using=None, **kwargs):
    """Bump the version now, and again once the change is committed.

    The bump now stops pages going stale for this process's own next request (and within tests, whose
    transactions never commit). The bump at commit is the one other servers rely on: between the two,
    another server may have rebuilt a page from the old rows and cached it under the newer version.
    One bump at commit per transaction is enough, however many rows it saved.
    """
    bump_content_version()
    connection = transaction.get_connection(using)
    if connection.in_atomic_block and any(func is bump_content_version for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(bump_content_version, using=using)


for model in PUBLIC_MODELS:
    post_save.connect(content_changed, sender=model, dispatch_uid=f"page-cache-save-{model.__name__}")
    post_delete.connect(content_changed, sender=model, dispatch_uid=f"page-cache-delete-{model.__name__}")


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


def _cacheable(request, response):
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not getattr(request, "_csp_nonce", None)  # a LazyNonce is false until a template used it
    )


def cache_page_for_readers(view):
    """Serve anonymous readers a cached copy of the page, until the content version changes."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or request.user.is_authenticated or not settings.PAGE_CACHE_SECONDS:
            return view(request, *args, **kwargs)
        try:
            key = page_key(request, request_version(request))
            cached = cache.get(key)
        except Exception:  # noqa: BLE001 -- the cache only saves work: without it, build the page
            log.warning("page cache unavailable", exc_info=True, extra={"path": request.path})
            return view(request, *args, **kwargs)
        if cached is not None:
            content, headers = cached
            response = HttpResponse(content, headers=headers)
            response["X-Page-Cache"] = "hit"
            return response

        response = view(request, *args, **kwargs)

        def store(response):
            seconds = seconds_to_keep(request)
            if _cacheable(request, response) and seconds > 0:
                headers = {name: value for name, value in response.items() if name.lower() != "set-cookie"}
                try:
                    cache.set(key, (response.content, headers), timeout=seconds)
                except Exception:  # noqa: BLE001 -- as above: the reader still gets the page
                    log.warning("page cache unavailable", exc_info=True, extra={"path": request.path})
            response["X-Page-Cache"] = "miss"

        if hasattr(response, "add_post_render_callback") and not response.is_rendered:
            response.add_post_render_callback(store)
        else:
            store(response)
        return response

    return wrapper


# Kept per content version, besides whole pages: what every page or every page of a section needs.

COUNT_SECONDS = 3600

# What this process keeps: {name: (content version, kept until (or None), value)}.
_kept = {}


def kept(request, name, compute, until=None):
    """`compute()`, computed once per content version by this process and then kept, and shared by every
    request under that version; with `until` (a function of the value), only until that time.

    Any change to what readers see bumps the version, so nothing kept can outlive the data it came from;
    each process computes each value once per change instead of on every request. Without the cache,
    each request computes its own. Nothing may modify what this returns: other requests share it.
    """
    try:
        version = request_version(request)
    except Exception:  # noqa: BLE001 -- the cache only saves work
        log.warning("cache unavailable", exc_info=True, extra={"path": request.path})
        version = None
    if version is None:
        own = request.__dict__.setdefault("_kept", {})
        if name not in own:
            own[name] = compute()
        return own[name]
    entry = _kept.get(name)
    if entry is None or entry[0] != version or (entry[1] is not None and timezone.now() >= entry[1]):
        value = compute()
        entry = _kept[name] = (version, until(value) if until else None, value)
    return entry[2]


def first_release():
    """When the next embargo lifts (None if no story is embargoed): until then, nothing a reader can see
    changes without a save."""
    return Article.objects.embargoed().order_by("published_at").values_list("published_at", flat=True).first()


def next_release(request):
    """first_release(), kept per content version until that time."""
    return kept(request, "next-release", first_release, until=lambda release: release)


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
    """How many published stories a section has, for its pages' "Page 3 of 1,361".

    Counted once per content version rather than on every request: on a section of 90,000 stories the
    count costs more than the rest of its page. Like a cached page, a count is not trusted past the
    section's next embargo (a story appears without a save), and without the cache it is counted afresh.
    """

    def count():
        return Article.objects.published().in_section(section).count()

    try:
        key = f"count:{request_version(request)}:{section.pk}"
        cached = cache.get(key)
    except Exception:  # noqa: BLE001 -- the cache only saves work
        log.warning("cache unavailable", exc_info=True, extra={"path": request.path})
        return count()
    if cached is not None and (cached[1] is None or timezone.now() < cached[1]):
        return cached[0]
    # The next embargo first: one that lifts while counting makes the count stale at once, never later.
    release = (
        Article.objects.embargoed().in_section(section).order_by("published_at").values_list("published_at", flat=True)
    ).first()
    stories = count()
    try:
        cache.set(key, (stories, release), timeout=COUNT_SECONDS)
    except Exception:  # noqa: BLE001
        log.warning("cache unavailable", exc_info=True, extra={"path": request.path})
    return stories
