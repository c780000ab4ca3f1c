"""The busy desk: readers on 1,000 story pages and the home page while an editor saves a story every 2 s.

What readers should not feel: an edit to one story must not throw away the cached copies of every page.
Against the same gunicorn (2 workers, page cache on for its default lifetime) and the same wrk (2 threads,
16 connections), on SQLite and PostgreSQL, each with the page cache in each process's memory (the default)
and in Redis, readers are loaded for the same time in each of these runs, each after a warm-up (the same
load, in rounds, until 95% of story pages come from the cache or a round gains nothing):

1. no edits: readers cycle through the newest 1,000 stories' pages, the home page every 10th request
   (bench/busy_desk.lua), and wrk counts the story pages that came from the page cache (X-Page-Cache: hit);
2. the same load while an editor, a separate process as the admin would be, saves a story every 2 s:
   a published story, a different one each time, its headline changed, through `Article.save()` in a
   transaction, so the signals fire as they do in the admin;
3. (not at the tiny size) the cache warmed again, no edits again: the baseline is the mean of 1 and 3, as
   this machine's speed drifts.

Targets: readers' requests/s with edits >= 1/2 of those without, and >= 90% of story pages from the page
cache with edits. And a reader must never be shown the story as it was before a save: 1 s after each save
(once it is committed) the story's page is fetched and must carry the new headline.

Run alone with `python -m bench.run --only busy-desk --quick`; the editor alone (against $DATABASE_URL)
with `python -m bench.busy_desk --every 2 --tag x`.
"""

import argparse
import contextlib
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SCRIPT = Path(__file__).with_suffix(".lua")
STORIES = 1000
SAVE_EVERY = 2.0  # seconds between the editor's saves
STALE_AFTER = 1.0  # seconds after a save at which the story's page must show it
THREADS = 2  # wrk's, as in bench/pages.py
# Per profile: seconds of a warm-up round, and of each measured run.
SECONDS = {"full": (10, 20), "quick": (5, 10), "tiny": (1, 1)}
WARM_ROUNDS = 6  # at most, of the warm-up's seconds each, until this share of story pages are hits:
WARM_ENOUGH = 0.95
# A throwaway key prefix in this Redis database; its keys are deleted after the run.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
TARGET_RATIO = 0.5
TARGET_HITS = 0.9


# The editor, in its own process.


def editor(every, tag, seed=1):
    """Every `every` seconds, save a published story with a new headline, a different story each time
    (in a random order); print one line per save once it is committed, and the count when stopped."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    import django

    django.setup()
    import random

    from django.db import transaction

    from articles.models import Article

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    stories = list(Article.objects.published().order_by("pk").values_list("pk", flat=True))
    random.Random(seed).shuffle(stories)
    saves = 0
    print("ready", flush=True)
    try:
        next_save = time.monotonic()
        while True:
            pk = stories[saves % len(stories)]
            marker = f"[edit {tag}-{saves + 1}]"
            with transaction.atomic():  # as the admin saves
                article = Article.objects.select_related("section").get(pk=pk)
                headline = re.sub(r" \[edit [^]]*\]$", "", article.headline)  # the previous run's edit
                article.headline = f"{headline} {marker}"
                article.save()
            saves += 1
            print(f"saved {article.get_absolute_url()} {marker}", flush=True)
            next_save += every
            time.sleep(max(0.0, next_save - time.monotonic()))
    finally:
        print(f"done {saves}", flush=True)


class Editor:
    """Runs editor() in a child process while the block runs; checks each save from a reader's side."""

    def __init__(self, env, base):
        self.env = env
        self.base = base
        self.tag = secrets.token_hex(3)
        self.checks = []  # (url, stale?)
        self.errors = []
        self.saved = threading.Event()
        self.saves = None

    def __enter__(self):
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "bench.busy_desk", "--every", str(SAVE_EVERY), "--tag", self.tag],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.process.kill()
            self.process.wait()
            raise SystemExit(f"the busy desk's editor did not start:\n{line}{self.errors_written()}")
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        return self

    def read(self):
        for line in self.process.stdout:
            words = line.split(maxsplit=2)
            if words[0] == "saved":
                self.saved.set()
                time.sleep(STALE_AFTER)
                url, marker = words[1], words[2].strip()
                try:
                    page = urllib.request.urlopen(self.base + url, timeout=30).read().decode()
                except OSError as error:
                    self.errors.append(f"{url}: {error}")
                    continue
                self.checks.append((url, marker not in page))
            elif words[0] == "done":
                self.saves = int(words[1])

    def errors_written(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            self.saved.wait(timeout=30)  # at least one save, however short the run
        self.process.terminate()
        self.process.wait(timeout=30)
        self.reader.join(timeout=STALE_AFTER + 30)
        if exc_type is not None:
            return
        if self.saves is None:
            raise SystemExit(f"the busy desk's editor failed:\n{self.errors_written()}")
        if self.errors:
            raise SystemExit("a story's page failed after a save:\n" + "\n".join(self.errors))


# The readers, under wrk.


def load(base, paths, seconds):
    from bench.pages import wrk

    return counted(wrk(base + "/", seconds, script=SCRIPT, script_args=(paths, THREADS)))


@contextlib.contextmanager
def load_while(base, paths):
    """The same readers for as long as the block runs; yields a dict that holds their figures afterwards."""
    from bench.pages import wrk_while

    figures = {}
    with wrk_while(base + "/", script=SCRIPT, script_args=(paths, THREADS)) as run:
        yield figures
    figures |= counted(run)


def counted(figures):
    """wrk's figures with what bench/busy_desk.lua counted (story pages and the first path, hits and misses)."""
    out = figures.pop("output")
    counts = re.search(r"^busy-desk (.*)$", out, re.MULTILINE)
    if counts is None:
        raise SystemExit(f"{SCRIPT.name} printed no counts:\n{out}")
    counts = counts.group(1)
    figures |= {name: int(value) for name, value in (pair.split("=") for pair in counts.split())}
    stories = figures["story_hit"] + figures["story_miss"]
    figures["story_hit_rate"] = figures["story_hit"] / stories if stories else 0.0
    return figures


def warm_up(base, paths, seconds, rounds):
    """Load the pages until the story pages come from the cache (or stop coming from it more often): on a
    busy machine one round may not reach every story. Returns each round's story-page hit rate."""
    rates = []
    for _ in range(rounds):
        rates.append(load(base, paths, seconds)["story_hit_rate"])
        if rates[-1] >= WARM_ENOUGH or (len(rates) > 1 and rates[-1] - rates[-2] < 0.02):
            break
    return rates


@contextlib.contextmanager
def cache_env(env, cache):
    """The benchmark's environment with the page cache on for its default lifetime, and either each
    process's own memory ("local", the default without REDIS_URL) or Redis under a throwaway prefix.
    Yields None if Redis cannot be reached."""
    env = {key: value for key, value in env.items() if key not in ("DJANGO_PAGE_CACHE_SECONDS", "REDIS_URL")}
    if cache == "local":
        yield env
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=10)
    try:
        client.ping()
    except redis.exceptions.RedisError:
        yield None
        return
    prefix = f"newsroom-bench-{secrets.token_hex(4)}"
    try:
        yield env | {"REDIS_URL": REDIS_URL, "DJANGO_CACHE_PREFIX": prefix}
    finally:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def measure(env, paths, profile):
    """Warm the page cache, load it without edits, then with the editor saving; except at the tiny size,
    warm it again and load it without edits once more: the baseline is the mean of the two."""
    from bench.pages import gunicorn

    warm, seconds = SECONDS[profile]
    rounds = 1 if profile == "tiny" else WARM_ROUNDS
    with gunicorn(env) as base:
        warmed = [warm_up(base, paths, warm, rounds)]
        quiet = [load(base, paths, seconds)]
        with Editor(env, base) as desk:
            busy = load(base, paths, seconds)
        if profile != "tiny":
            warmed.append(warm_up(base, paths, warm, rounds))
            quiet.append(load(base, paths, seconds))
    stale = sum(stale for _, stale in desk.checks)
    rps = statistics.mean(run["rps"] for run in quiet)
    hits = sum(run["story_hit"] for run in quiet)
    stories = hits + sum(run["story_miss"] for run in quiet)
    return {
        "warm_up_story_hit_rates": warmed,
        "no_edits": quiet,
        "no_edits_rps": rps,
        "no_edits_story_hit_rate": hits / stories if stories else 0.0,
        "edits": busy,
        "saves": desk.saves,
        "checked": len(desk.checks),
        "stale": stale,
        "stale_urls": [url for url, stale in desk.checks if stale],
        "ratio": busy["rps"] / rps,
    }


def bench_busy_desk(table, kind, n, env, profile, workdir, caches=("local", "redis")):
    from bench.pages import probe

    paths = Path(workdir) / "busy-desk-paths.txt"
    paths.write_text("\n".join(probe(env, "busy_desk_paths")) + "\n")
    results = {}
    for cache in caches:
        label = f"busy desk, {kind}{' + Redis' if cache == 'redis' else ''}, N={n:,}"
        with cache_env(env, cache) as run_env:
            if run_env is None:
                table.add(f"{label}: skipped", "no Redis", REDIS_URL)
                continue
            figures = results[cache] = measure(run_env, paths, profile)
        busy = figures["edits"]
        table.add(
            f"{label}: req/s, a save every {SAVE_EVERY:.0f} s",
            f"{busy['rps']:,.0f} req/s",
            f"no edits {figures['no_edits_rps']:,.0f} req/s",
            f"{figures['ratio']:.2f}",
            f">= {TARGET_RATIO}",
            figures["ratio"] >= TARGET_RATIO,
        )
        table.add(
            f"{label}: story pages from cache, saves",
            f"{busy['story_hit_rate']:.1%}",
            f"no edits {figures['no_edits_story_hit_rate']:.1%}",
            "",
            f">= {TARGET_HITS:.0%}",
            busy["story_hit_rate"] >= TARGET_HITS,
        )
        table.add(
            f"{label}: stale {STALE_AFTER:.0f} s after a save",
            f"{figures['stale']} of {figures['checked']}",
            f"{figures['saves']} saves",
            "",
            "0",
            figures["stale"] == 0 if figures["checked"] else None,
        )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The busy desk's editor: saves a story every few seconds.")
    parser.add_argument("--every", type=float, default=SAVE_EVERY, help="seconds between saves")
    parser.add_argument("--tag", default="x", help="marks this run's edits in the headlines")
    options = parser.parse_args()
    editor(options.every, options.tag)
