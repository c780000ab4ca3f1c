"""`make bench` keeps working: the whole benchmark runs at a tiny N (imports, queries, gunicorn and wrk, search,
the admin's import through the queue)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

ROOT = Path(__file__).parent.parent


def test_benchmark_runs_end_to_end_at_a_tiny_size(tmp_path):
    report = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.run", "--tiny", "--json", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "targets met" in run.stdout
    results = json.loads(report.read_text())
    figures = {row["figure"] for row in results["table"]}
    for page in ["home", "section", "article", "author", "author, fewest stories", "search", "feed"]:
        assert f"pages, sqlite, N=50: {page} (uncached)" in figures
    for page in ["home", "article", "author"]:
        assert f"pages, sqlite, N=50: {page} (cached)" in figures
    assert results["sqlite"]["50"]["import"]["stories_per_s"] > 0
    # The desk's part of the corpus (bench/editorial.py): ten bylines a story from a pool of 300 writers, an
    # occasional writer on five stories, and an arranged home front, a lead and eight slots. Topics are counted
    # once the project has them.
    editorial = results["sqlite"]["50"]["editorial"]
    assert editorial["bylines"] == 50 * 10 + 5 and editorial["authors"] == 300 + 1, editorial
    assert editorial["front_slots"] == 9, editorial
    assert editorial["topic_links"] == (50 * 20 if editorial["topics"] else 0), editorial
    # Every page is measured against both baselines, the trivial view inside Newsroom's stack and a bare
    # Django project in a gunicorn of its own; the section's deep pages against its first.
    load = results["sqlite"]["50"]["load"]
    assert load["trivial"]["rps"] > 0 and load["bare"]["rps"] > 0, load
    assert all(page["ratio"] > 0 and page["ratio_bare"] > 0 for page in load["pages"].values()), load["pages"]
    for listing in ["section", "author"]:
        assert any(f": {listing} page " in name and name.endswith(" vs page 1") for name in figures), listing
    # The queries a page needs do not depend on how long the story is or how many photos it has.
    counts = results["sqlite"]["50"]["queries"]
    assert counts["article, 3 paragraphs and photos"] == counts["article, 60 paragraphs and photos"]
    assert counts["author"] > 0, counts  # counted at every size, as every page (run.bench_queries)
    # Each uncached page's CPU per request in process, beside the trivial view's.
    cpu = results["sqlite"]["50"]["cpu"]
    assert cpu["trivial view"] > 0 and cpu["author"] > cpu["trivial view"], cpu
    # The photo bomb corpus ran (bench/photo_bombs.py), each upload judged in a child of its own.
    bombs = {name: run for name, run in results["photo_bombs"].items() if not name.startswith("baseline")}
    assert len(bombs) == 2 and all(run["peak_rss_mb"] > 0 for run in bombs.values()), bombs
    # The busy desk ran, with the page cache in each process and in Redis (its targets are not judged at
    # this size): readers were served story pages and the home page while the editor saved.
    for cache in ["local", "redis"]:
        desk = results["sqlite"]["50"]["busy_desk"][cache]
        assert desk["saves"] >= 1 and desk["checked"] >= 1, desk
        for run in [*desk["no_edits"], desk["edits"]]:
            assert run["story_hit"] + run["story_miss"] > 0 and run["home_hit"] + run["home_miss"] > 0, run
    # The admin's import went through the queue (upload, a worker's dry run, confirm, a worker's import) while
    # readers read, beside `import_dump` of the same dump under the same readers.
    queue = results["sqlite"]["50"]["queue"]
    assert queue["admin"]["stories_per_s"] > 0 and queue["import_dump"]["stories_per_s"] > 0, queue
    for readers in [queue["admin"]["idle"], queue["admin"]["during"], queue["import_dump"]["during"]]:
        assert readers["requests"] > 0 and readers["errors"] == 0, readers
    assert "queue, sqlite, N=50: readers' p99, admin import" in figures
    # Webhook fan-out (bench/webhooks.py): an editor's publish told to 100 subscribers by the workers.
    assert results["sqlite"]["webhooks"]["received"] == 100, results["sqlite"]["webhooks"]
    assert "webhooks, sqlite: 100 subscribers told of a publish" in figures
