"""A story's change reaches the API at once in every process, as production runs it: gunicorn with several
workers, each caching answers in its own memory (no Redis), the change made by another process (a shell)."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.ninjs import assert_ninjs

from .production import free_port, gunicorn, http_get, shell, site_env

pytestmark = pytest.mark.production

WORKERS = 3
LIMIT = 1.5  # seconds: every worker shows a change within a second of it (tests/test_changes_reach_every_worker.py)
SEED = """
import json
from datetime import timedelta
from django.utils import timezone
from articles.models import Article, Section
story = Article.objects.create(headline="Harbour Flooded At Quellbury", slug="harbour-flooded-at-quellbury",
    section=Section.objects.get(slug="world"), body="A paragraph.", status="published",
    published_at=timezone.now() - timedelta(hours=1))
print(json.dumps(story.pk))
"""
EDIT = """
from articles.models import Article
story = Article.objects.get(slug="harbour-flooded-at-quellbury")
story.headline = "Quellbury Harbour Reopens"
story.save()
print(1)
"""
WITHDRAW = """
from articles.models import Article
story = Article.objects.get(slug="harbour-flooded-at-quellbury")
story.status, story.withdrawn_reason = "withdrawn", "Its source retracted."
story.save()
print(1)
"""


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_every_worker_serves_a_story_change_at_once(tmp_path, database):
    def burst(path):
        """As many requests at once as there are workers, so that each answers."""
        return list(pool.map(lambda _: http_get(port, path), range(WORKERS)))

    def until(path, shows, since):
        """Read `path` until every worker's answer shows(); when they did, in seconds after `since`."""
        while True:
            answers = burst(path)
            if all(shows(answer) for answer in answers):
                return time.time() - since
            assert time.time() - since < LIMIT + 5, [answer.text[:200] for answer in answers]
            time.sleep(0.05)

    def headline(answer):
        assert answer.headers["Content-Type"] == "application/json", answer
        data = json.loads(answer.body)
        story = data["items"][0] if "items" in data else data
        return assert_ninjs(story)["headlines"][0]["value"]

    port = free_port()
    with (
        site_env(database, tmp_path, DJANGO_PAGE_CACHE_SECONDS="300") as env,
        ThreadPoolExecutor(WORKERS) as pool,
    ):
        pk = shell(SEED, env)
        paths = [f"/api/v1/stories/{pk}/", "/api/v1/stories/"]
        with gunicorn(port, env, workers=WORKERS):
            for path in paths:
                for _ in range(4):  # every worker has it cached
                    assert [headline(a) for a in burst(path)] == ["Harbour Flooded At Quellbury"] * WORKERS
                assert burst(path)[0].headers["X-Page-Cache"] == "hit"

            shell(EDIT, env)
            edited = time.time()
            for path in paths:
                assert until(path, lambda a: headline(a) == "Quellbury Harbour Reopens", edited) < LIMIT, path

            shell(WITHDRAW, env)
            withdrawn = time.time()
            assert until(paths[0], lambda a: a.status == 410, withdrawn) < LIMIT
            assert until(paths[1], lambda a: json.loads(a.body)["items"] == [], withdrawn) < LIMIT
            tombstone = assert_ninjs(json.loads(http_get(port, paths[0]).body))
            assert tombstone["pubstatus"] == "canceled"
            assert tombstone["descriptions"][0]["value"] == "Its source retracted."
