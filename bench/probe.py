"""Run inside a child process against the benchmark database: find pages, count queries, time searches."""

import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from articles.models import Article, Author, Byline, Caption, ImportJob, Photo, Section  # noqa: E402
from bench.editorial import topic_models  # noqa: E402

PER_PAGE = 20
# Twenty queries a reader might type, across the frequency bands of the corpus's Zipf vocabulary
# (bench/corpus.py), with the share of the 100,000 stories each matches: a word in every story (the worst
# case; "said" rather than "the", which PostgreSQL drops as a stop word), common words, less common and
# rare ones, pairs, a quoted phrase, places and Arabic. Every query that matches more than 1,000 stories
# ranks the newest 1,000 (articles/search.py).
SEARCHES = [
    "said",  # 95%: every English story
    "government",  # 71%
    "police",  # 65%
    "election",  # 68% ("elections" too)
    '"security forces"',  # 55%, searched as both words
    "central bank",  # 39%
    "human rights",  # 37%
    "ceasefire",  # 27%
    "refugees",  # 27%
    "oil prices",  # 17%
    "Gaza",  # 11%
    "curfew",  # 8%
    "vaccine",  # 6%
    "drought harvest",  # 5%
    "الحكومة",  # 5%: Arabic ("the government"), in most Arabic stories
    "cholera",  # 1.3%
    "tugboat",  # 1.0%
    "pipeline blockade",  # 0.5%
    "locusts harvest",  # 0.3%
    "Kathmandu",  # 0.2%
]


def biggest_section():
    return Section.objects.annotate(n=Count("articles")).order_by("-n").first()


def busiest(owner, links, field, fewest=False):
    """The author (or topic) with the most stories (or, with `fewest`, the fewest: at least one), from their links to
    stories: the biggest (or smallest) listing of its kind."""
    found = links.objects.values(field).annotate(n=Count("pk")).order_by("n" if fewest else "-n", field).first()
    return owner.objects.get(pk=found[field]) if found else None


def owner_pages():
    """The busiest author's page 1 and last page (which SQLite finds by walking the whole listing), the page of
    the author with the fewest stories (bench/editorial.py: an occasional writer's five) and, once the project
    has topics, the busiest topic's page."""
    pages = {}
    author = busiest(Author, Byline, "author")
    if author:
        pages["author"] = author.get_absolute_url()
        last = max(1, -(-Article.objects.published().by_author(author).count() // PER_PAGE))
        pages[f"author page {last}"] = f"{author.get_absolute_url()}?page={last}"
        pages["author, fewest stories"] = busiest(Author, Byline, "author", fewest=True).get_absolute_url()
    topics = topic_models()
    if topics:
        topic = busiest(topics.topic, topics.link, topics.topic_field)
        if topic:
            pages["topic"] = topic.get_absolute_url()
    return pages


def urls():
    """The pages measured, by name. The deep pages of the biggest section, page 500 (or the last, if sooner) and
    the last, are each skipped to over the listing index and must stay about as fast as page 1. The home page
    is the arranged front's when the corpus has one (bench/editorial.py)."""
    section = biggest_section()
    stories = Article.objects.published().in_section(section).count()
    last = max(1, -(-stories // PER_PAGE))
    article = Article.objects.published().newest_first().select_related("section")[PER_PAGE // 2]
    return {
        "home": reverse("articles:index"),
        "section": section.get_absolute_url(),
        **{
            f"section page {page}": f"{section.get_absolute_url()}?page={page}"
            for page in sorted({min(500, last), last})
        },
        "article": article.get_absolute_url(),
        **owner_pages(),
        **api_urls(article),
        "feed": reverse("articles:feed"),
        # Last: a slow page leaves requests queued in gunicorn after wrk stops, which would slow the next page.
        "search": reverse("articles:search") + "?q=ceasefire+negotiations",
    }


def api_urls(article):
    """The API's story (the article page's story) and its listing's first and last pages: the last asked for by the
    cursor its previous page's `next` link carries (100,000 stories deep at N=100,000), walked to over the listing
    index as the first is."""
    from articles.api.views import PAGE_SIZE, make_cursor

    stories = Article.objects.published().newest_first()
    total = stories.count()
    pages = {"api story": reverse("api:story", kwargs={"pk": article.pk}), "api listing": reverse("api:stories")}
    if total > PAGE_SIZE:
        last = -(-total // PAGE_SIZE)
        before_last_page = stories[(last - 1) * PAGE_SIZE - 1]
        cursor = make_cursor(before_last_page.published_at, before_last_page.pk)
        pages[f"api listing page {last}"] = f"{reverse('api:stories')}?cursor={cursor}"
    return pages


def busy_desk_paths(stories=1000):
    """The home page's path, then the pages of the newest `stories` published stories (the busy desk)."""
    articles = Article.objects.published().newest_first().select_related("section")[:stories]
    return [reverse("articles:index"), *(article.get_absolute_url() for article in articles)]


def section_and_stories(stories=1000):
    """The biggest section's page, then the newest `stories` published stories' pages (bench/queue.py's readers)."""
    return [biggest_section().get_absolute_url(), *busy_desk_paths(stories)[1:]]


def last_import_job():
    """The newest import job's phases in seconds: waiting for a worker after Confirm, reading the dump, then
    writing it (with the page cache's bump and, after a large import, ANALYZE)."""
    job = ImportJob.objects.latest("pk")
    return {
        "waiting": (job.started_at - job.confirmed_at).total_seconds(),
        "reading": (job.writing_at - job.started_at).total_seconds(),
        "writing": (job.finished_at - job.writing_at).total_seconds(),
    }


def story_with(paragraphs):
    """A published story with this many paragraphs and as many captioned photos."""
    now = timezone.now()
    article = Article.objects.create(
        headline=f"Bench story with {paragraphs} paragraphs",
        slug=f"bench-{paragraphs}-{now.timestamp():.0f}",
        section=biggest_section(),
        body="\n\n".join(f"Paragraph {n}." for n in range(paragraphs)),
        status=Article.Status.PUBLISHED,
        published_at=now,
    )
    for n in range(paragraphs):
        photo = Photo.objects.create(credit="Reuters", alt_text=f"Photo {n}")
        Caption.objects.create(article=article, photo=photo, text=f"Caption {n}.", order=n, is_lead=n == 0)
    return article


def query_counts():
    client = Client(HTTP_HOST="127.0.0.1")
    pages = urls()
    small, large = story_with(3), story_with(60)
    pages |= {
        "article, 3 paragraphs and photos": small.get_absolute_url(),
        "article, 60 paragraphs and photos": large.get_absolute_url(),
    }
    counts = {}
    try:
        for name, path in pages.items():
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            counts[name] = len(queries)
    finally:
        for article in (small, large):
            photos = list(Photo.objects.filter(captions__article=article))
            article.delete()
            for photo in photos:
                photo.delete()
    return counts


@override_settings(PAGE_CACHE_SECONDS=0)  # searches go through the page cache too: time the search itself
def search_latency():
    """p50/p95 in ms of the search page for twenty typical queries (each run twice: the second is timed)."""
    client = Client(HTTP_HOST="127.0.0.1")
    timings = []
    for query in SEARCHES:
        client.get(reverse("articles:search"), {"q": query})
        started = time.perf_counter()
        response = client.get(reverse("articles:search"), {"q": query})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (query, response.status_code)
        assert response.headers.get("X-Page-Cache") != "hit", "timed a page from the page cache"
    timings.sort()
    return {"p50_ms": statistics.median(timings), "p95_ms": timings[int(len(timings) * 0.95) - 1]}


@override_settings(PAGE_CACHE_SECONDS=0, ROOT_URLCONF="bench.urls")  # bench.urls: the trivial view too
def cpu_per_page(requests=100, rounds=3):
    """CPU milliseconds per request of each uncached page (but search and the feed, which readers get from the
    page cache) and of the trivial view, in process through the whole middleware stack: the best of a few
    rounds. On a shared machine wrk's figures move with the neighbours' load; this process's own CPU time
    moves far less, so it says where a page stands against the trivial view when req/s cannot."""
    client = Client(HTTP_HOST="127.0.0.1")
    pages = {"trivial view": "/__bench__/trivial/"} | {
        name: path for name, path in urls().items() if name not in ("feed", "search")
    }
    for path in pages.values():
        for _ in range(5):  # warm: compiled queries, kept cards, the process's per-version values
            assert client.get(path).status_code == 200, path
    best = {}
    for _ in range(rounds):
        for name, path in pages.items():
            started = time.process_time()
            for _ in range(requests):
                client.get(path)
            best[name] = min(best.get(name, float("inf")), (time.process_time() - started) / requests * 1000)
    return best
