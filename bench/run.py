"""`make bench`: what users feel, each figure beside its baseline measured in the same run.

    python -m bench.run                 # the full run: N = 1,000, 10,000 and 100,000 (1-2 hours with the queue's)
    python -m bench.run --quick         # N = 1,000, short load runs (about 15 minutes)
    python -m bench.run --tiny          # N = 50, SQLite only: what the test suite runs to keep this working
    python -m bench.run --only busy-desk --quick   # one scenario alone (here the busy desk, N = 1,000)
    python -m bench.run --only pages --quick       # the pages under load alone, on both databases
    python -m bench.run --only queue --sizes 10000 # the admin's import through the queue alone, N = 10,000
    python -m bench.run --only webhooks --quick    # webhook fan-out alone: 100 subscribers told of a publish
    python -m bench.photo_bombs         # the photo bomb corpus alone (run in every profile)

Machines here are shared and noisy, so every figure is reported as a ratio to a baseline taken in the same
run on the same machine (a plain bulk_create for imports; for pages, a trivial view inside Newsroom's stack,
which the page targets are set against, and a bare Django project in its own gunicorn), with the absolute
numbers beside it. Prints a table and writes a JSON report (bench-results/bench.json).
"""

import argparse
import atexit
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from functools import partial
from pathlib import Path

from bench import corpus
from bench.busy_desk import bench_busy_desk
from bench.limits import bench_limits
from bench.pages import bench_pages, probe
from bench.photo_bombs import bench_photo_bombs
from bench.queue import bench_queue
from bench.webhooks import bench_webhooks

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
PYTHON = sys.executable
PROFILES = {
    # import sizes, page-benchmark size, seconds per load run
    "full": ([10_000, 100_000], 100_000, 5),
    "quick": ([1_000], 1_000, 2),
    "tiny": ([50], 50, 1),
}
# Further sizes at which only queries per page are counted. Every size's counts are compared with the
# smallest's: they must not grow.
QUERY_SIZES = {"full": [1_000], "quick": [], "tiny": []}


class Table:
    """Printed as it fills. A page's ratio is to the trivial view inside Newsroom's stack, its "bare" ratio to the
    bare Django project."""

    def __init__(self):
        self.rows = []
        print(f"  {'figure':<52} {'value':>16} {'baseline':>20} {'ratio':>7} {'bare':>7} {'target':>12}  met")

    def add(self, figure, value, baseline="", ratio="", target="", met=None, *, bare=""):
        self.rows.append(
            {
                "figure": figure,
                "value": value,
                "baseline": baseline,
                "ratio": ratio,
                "bare": bare,
                "target": target,
                "met": met,
            }
        )
        verdict = "" if met is None else ("yes" if met else "NO")
        print(f"  {figure:<52} {value:>16} {baseline:>20} {ratio:>7} {bare:>7} {target:>12}  {verdict}", flush=True)


def run_child(args, env):
    """Run a child process to completion; return (seconds, its own peak RSS in MB, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # wait4: this child's rusage, not all children's
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(map(str, args))} failed:\n{err.read().decode()}")
        return seconds, usage.ru_maxrss / 1024, out.read().decode()


def fresh_database(kind, workdir):
    """Production settings (debug off) on an empty, migrated database of the given kind: a copy of one migrated
    once per run and kind (migrate takes seconds, a copy a fraction of one; nothing here measures migrate)."""
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-" + "x" * 60,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",  # gunicorn on loopback speaks plain HTTP
        DJANGO_LOG_LEVEL="WARNING",
        DJANGO_MEDIA_ROOT=str(Path(workdir) / "media"),
        DJANGO_IMPORT_MAX_DUMP_MB="2048",  # the 100,000-story corpus is one 680 MB file (bench/limits.py: defaults)
    )
    env.pop("REDIS_URL", None)
    template = migrated_template(kind, workdir, env)
    if kind == "sqlite":
        db = Path(workdir) / "bench.sqlite3"
        for suffix in ["", "-wal", "-shm"]:
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(db)) as copy:
            source.backup(copy)
        env["DATABASE_URL"] = f"sqlite:///{db}"
    else:
        name = f"newsroom_bench_{os.getpid()}"  # two runs at once (two checkouts) must not drop each other's
        for sql in [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name} TEMPLATE {template}"]:
            subprocess.run(["psql", f"{PG_URL}/postgres", "-qc", sql], check=True, capture_output=True)
        drop = f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        atexit.register(subprocess.run, ["psql", f"{PG_URL}/postgres", "-qc", drop], capture_output=True)
        env["DATABASE_URL"] = f"{PG_URL}/{name}"
    return env


_templates = {}


def migrated_template(kind, workdir, env):
    """The database fresh_database copies, migrated on first use (and the static files collected then: production
    settings serve hashed static files, which only exist once collected): an SQLite file's path, or the name of a
    PostgreSQL database, dropped at exit."""
    if kind not in _templates:
        if kind == "sqlite":
            template = Path(workdir) / "template.sqlite3"
            url = f"sqlite:///{template}"
        else:
            template = f"newsroom_bench_template_{os.getpid()}"
            for sql in [f"DROP DATABASE IF EXISTS {template} WITH (FORCE)", f"CREATE DATABASE {template}"]:
                subprocess.run(["psql", f"{PG_URL}/postgres", "-qc", sql], check=True, capture_output=True)
            drop = f"DROP DATABASE IF EXISTS {template} WITH (FORCE)"
            atexit.register(subprocess.run, ["psql", f"{PG_URL}/postgres", "-qc", drop], capture_output=True)
            url = f"{PG_URL}/{template}"
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**env, "DATABASE_URL": url}, check=True)
        if not _templates:
            command = [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"]
            subprocess.run(command, cwd=ROOT, env={**env, "DATABASE_URL": url}, check=True)
        _templates[kind] = template
    return _templates[kind]


def dump_file(n, first=0):
    """The corpus's stories first .. first + n - 1, written once."""
    RESULTS.mkdir(exist_ok=True)
    # Named after the corpus's version: a dump written by an earlier corpus.py is never reused.
    path = RESULTS / f"corpus-v{corpus.VERSION}-{f'{first}+' if first else ''}{n}.txt"
    if not path.exists():
        with open(path, "w", encoding="utf-8", newline="") as out:
            corpus.write(out, n, first=first)
    return path


def import_published(n, env):
    run_child([PYTHON, "manage.py", "import_dump", str(dump_file(n)), "--status", "published"], env)


def furnish(env):
    """Authors and their bylines, topics (once the project has them) and an arranged home front, added to the
    imported corpus (bench/editorial.py); returns what was added and how long it took."""
    _, _, out = run_child([PYTHON, "-m", "bench.editorial"], env)
    return json.loads(out.strip().splitlines()[-1])


def imported_database(kind, workdir, n):
    """A fresh database holding the corpus's first n stories, published, with their bylines, topics and an
    arranged home front (not timed)."""
    env = fresh_database(kind, workdir)
    import_published(n, env)
    furnish(env)
    return env


def bench_import(table, kind, n, env):
    dump = dump_file(n)
    _, _, floor_out = run_child([PYTHON, "-m", "bench.floor", str(dump)], env)
    floor = json.loads(floor_out)
    floor_rate = floor["rows"] / floor["seconds"]
    command = [PYTHON, "manage.py", "import_dump", str(dump), "--status", "published"]
    first, rss, _ = run_child(command, env)
    again, rss_again, _ = run_child(command, env)
    rate = n / first
    label = f"import, {kind}, N={n:,}"
    ratio = rate / floor_rate
    table.add(
        f"{label}: stories/s",
        f"{rate:,.0f}/s",
        f"bulk_create {floor_rate:,.0f}/s",
        f"{ratio:.2f}",
        ">= 0.25",
        ratio >= 0.25,
    )
    table.add(f"{label}: peak RSS", f"{rss:,.0f} MB", "", "", "< 200 MB", rss < 200)
    table.add(
        f"{label}: re-import, unchanged",
        f"{again:.1f} s",
        f"first import {first:.1f} s",
        f"{first / again:.1f}x",
        ">= 3x faster",
        first / again >= 3,
    )
    return {
        "stories_per_s": rate,
        "floor_rows_per_s": floor_rate,
        "seconds": first,
        "peak_rss_mb": rss,
        "reimport_seconds": again,
        "reimport_peak_rss_mb": rss_again,
    }


def deep_page(name):
    """Page 14 of a section at N=1,000 is page 500 or the last at N=100,000: each is a deep page of its size (an
    author's last page likewise)."""
    for listing in ["section", "author", "api listing"]:
        if name.startswith(f"{listing} page "):
            return f"deep {listing} page"
    return name


def bench_queries(table, kind, n, env, baseline=None):
    counts = probe(env, "query_counts")
    baseline = {deep_page(name): count for name, count in (baseline or {}).items()}
    for name, count in counts.items():
        before = baseline.get(deep_page(name))
        grows = before is not None and count > before
        table.add(
            f"queries, {kind}, N={n:,}: {name}",
            str(count),
            "" if before is None else f"{before} at the smallest N",
            "",
            "constant",
            not grows,
        )
    return counts


def bench_cpu(table, kind, n, env):
    """Each uncached page's CPU time per request in process (bench/probe.py: cpu_per_page), against the trivial
    view's: steadier than req/s on a shared machine."""
    cpu = probe(env, "cpu_per_page")
    trivial = cpu["trivial view"]
    for name, ms in cpu.items():
        table.add(f"cpu, {kind}, N={n:,}: {name}", f"{ms:.2f} ms", f"trivial {trivial:.2f} ms", f"{ms / trivial:.1f}x")
    return cpu


def fraction(ratio):
    return f"1/{1 / ratio:.1f}" if ratio else "0"


def bench_load(table, kind, n, env, seconds):
    trivial, bare, results = bench_pages(env, seconds)
    label = f"pages, {kind}, N={n:,}"
    table.add(f"{label}: bare Django project", f"{bare['rps']:,.0f} req/s", f"p99 {bare['p99_ms']:.1f} ms")
    table.add(
        f"{label}: trivial view",
        f"{trivial['rps']:,.0f} req/s",
        f"p99 {trivial['p99_ms']:.1f} ms",
        bare=fraction(trivial["rps"] / bare["rps"]),  # what Newsroom's stack costs before any page work
    )
    targets = {
        "home (uncached)": 1 / 6,  # with an arranged front (issue 17)
        "article (uncached)": 1 / 6,
        "section (uncached)": 1 / 8,
        "author (uncached)": 1 / 6,
        "author, fewest stories (uncached)": 1 / 6,
        "topic (uncached)": 1 / 6,
        "home (cached)": 1 / 2,
        "article (cached)": 1 / 2,
        "author (cached)": 1 / 2,
        "topic (cached)": 1 / 2,
        "feed (cached)": 1 / 2,
        "search (cached)": 1 / 2,
        # The read API (issue 18).
        "api story (uncached)": 1 / 4,
        "api listing (uncached)": 1 / 4,
        "api story (cached)": 1 / 2,
        "api listing (cached)": 1 / 2,
    }
    for name, figures in results.items():
        target = targets.get(name)
        table.add(
            f"{label}: {name}",
            f"{figures['rps']:,.0f} req/s",
            f"p50 {figures['p50_ms']:.1f} p99 {figures['p99_ms']:.1f} ms",
            fraction(figures["ratio"]),
            f">= 1/{1 / target:.0f}" if target else "",
            figures["ratio"] >= target if target else None,
            bare=fraction(figures["ratio_bare"]),
        )
        if name.endswith("(cached)"):  # a cached hit should cost little more than a bare project's page
            table.add(
                f"{label}: {name} vs bare project",
                f"{figures['rps']:,.0f} req/s",
                f"bare {bare['rps']:,.0f} req/s",
                "",
                ">= 1/2 bare",
                figures["ratio_bare"] >= 1 / 2,
                bare=fraction(figures["ratio_bare"]),
            )
        table.add(
            f"{label}: {name} p99",
            f"{figures['p99_ms']:.1f} ms",
            "",
            "",
            "< 50 ms",
            figures["rps"] > 0 and figures["p99_ms"] < 50,
        )
    for name, deep in results.items():
        listing = name.split(" page ")[0]
        if name.startswith(("section page ", "author page ", "api listing page ")):
            first = results[f"{listing} (uncached)"]
            slower = first["rps"] / deep["rps"]
            table.add(
                f"{label}: {name.removesuffix(' (uncached)')} vs page 1",
                f"{deep['rps']:,.0f} req/s",
                f"page 1 {first['rps']:,.0f} req/s",
                f"{slower:.2f}x",
                "<= 1.5x slower",
                slower <= 1.5,
            )
    return {"trivial": trivial, "bare": bare, "pages": results}


def bench_search(table, kind, n, env):
    latency = probe(env, "search_latency")
    table.add(
        f"search, {kind}, N={n:,}: 20 typical queries",
        f"p95 {latency['p95_ms']:.1f} ms",
        f"p50 {latency['p50_ms']:.1f} ms",
        "",
        "p95 < 50 ms",
        latency["p95_ms"] < 50,
    )
    return latency


def bench_photos(table):
    """Rendition cost per photo, and the time of a page view with a <picture>."""
    out = subprocess.run(
        [PYTHON, "-m", "pytest", "bench/test_photos.py", "-q", "-s", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"photo benchmark failed:\n{out.stdout}\n{out.stderr}")
    figures = dict(line.strip().split(": ", 1) for line in out.stdout.splitlines() if line.startswith("BENCH "))
    for name, value in figures.items():
        table.add(f"photos: {name.removeprefix('BENCH ')}", value)
    return figures


def bench_photo_worker(table, photos):
    """The admin's photo save over HTTP with a worker making the renditions (bench/photo_worker.py): the save,
    and the time until the story shows the picture, against the save that made renditions inline
    (bench/test_photos.py's figure, in `photos`)."""
    _, _, out = run_child([PYTHON, "-m", "bench.photo_worker"], dict(os.environ))
    save = re.search(r"^admin save .*: (\d+) ms", out, re.MULTILINE)
    shown = re.search(r"^picture .*median: ([\d.]+) s", out, re.MULTILINE)
    inline = next((value for name, value in photos.items() if name.endswith("renditions made inline")), None)
    if not (save and shown and inline):  # bench/photo_worker.py changed what it prints: show it as it is
        for line in out.splitlines():
            table.add("photos over HTTP", line.strip())
        return {"output": out}
    save, shown, inline = int(save.group(1)), float(shown.group(1)), float(inline.split()[0])
    table.add("photos over HTTP: admin save, 24 MP JPEG, median", f"{save} ms", "", "", "< 300 ms", save < 300)
    table.add(
        "photos over HTTP: picture shown after Save, median",
        f"{shown:.2f} s",
        f"inline save {inline:.2f} s",
        f"{shown / inline:.2f}",
        "<= inline",
        shown <= inline,
    )
    return {"save_ms": save, "shown_seconds": shown, "inline_seconds": inline, "output": out}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="N = 1,000 and short load runs")
    size.add_argument("--tiny", action="store_true", help="N = 50 on SQLite only; no rendition benchmark")
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both (comma-separated)")
    parser.add_argument(
        "--only",
        choices=["busy-desk", "pages", "queue", "webhooks"],
        help="only this scenario: busy-desk (readers on story pages while an editor saves, bench/busy_desk.py), "
        "pages (each page under load beside the baselines, bench/pages.py), queue (the admin's import "
        "through the queue while readers read, bench/queue.py) or webhooks (100 subscribers told of a publish, "
        "bench/webhooks.py)",
    )
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        help="import sizes instead of the profile's (comma-separated, e.g. 10000 or 10000,100000)",
    )
    parser.add_argument(
        "--caches", default="local,redis", help="the busy desk's page cache: local (per process), redis or both"
    )
    parser.add_argument(
        "--readers-pause-ms",
        type=int,
        help="readers (bench/busy_desk.lua: the busy desk's and the queue's) pause this long before each request, "
        "on each of their 16 connections: a steady load below the server's capacity instead of as fast as it answers",
    )
    parser.add_argument(
        "--json", help="where to write the JSON report (bench-results/bench.json; with --only, bench-<scenario>.json)"
    )
    options = parser.parse_args(argv)
    options.json = options.json or str(RESULTS / (f"bench-{options.only}.json" if options.only else "bench.json"))
    if options.readers_pause_ms:
        os.environ["BENCH_READERS_PAUSE_MS"] = str(options.readers_pause_ms)  # read by bench/busy_desk.lua
    profile = "tiny" if options.tiny else "quick" if options.quick else "full"
    sizes, pages_n, seconds = PROFILES[profile]
    sizes = options.sizes or sizes
    kinds = ["sqlite"] if options.tiny else options.databases.split(",")
    caches = options.caches.split(",")
    all_sizes = sorted(set(sizes) | {pages_n} | set(QUERY_SIZES[profile]))
    busy_n = all_sizes[0]  # the busy desk's readers ask for 1,000 stories: the run's smallest corpus

    report = {
        "profile": profile,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    table = Table()
    with tempfile.TemporaryDirectory() as workdir:
        for kind in kinds:
            if options.only == "busy-desk":
                env = imported_database(kind, workdir, busy_n)
                report.setdefault(kind, {})[str(busy_n)] = {
                    "busy_desk": bench_busy_desk(table, kind, busy_n, env, profile, workdir, caches)
                }
                continue
            if options.only == "pages":
                env = imported_database(kind, workdir, pages_n)
                report.setdefault(kind, {})[str(pages_n)] = {
                    "cpu": bench_cpu(table, kind, pages_n, env),
                    "load": bench_load(table, kind, pages_n, env, seconds),
                }
                continue
            if options.only in (None, "webhooks"):  # on a database of its own, in every profile: some 20 s
                report.setdefault(kind, {})["webhooks"] = bench_webhooks(table, kind, fresh_database(kind, workdir))
            if options.only == "webhooks":
                continue
            if options.only in (None, "queue"):
                for n in sizes:  # each on fresh databases of its own
                    report.setdefault(kind, {}).setdefault(str(n), {})["queue"] = bench_queue(
                        table, kind, n, profile, workdir, partial(imported_database, kind, workdir, n), dump_file
                    )
            if options.only == "queue":
                continue
            smallest = None
            for n in all_sizes:
                env = fresh_database(kind, workdir)
                section = report.setdefault(kind, {}).setdefault(str(n), {})
                if n in sizes:
                    section["import"] = bench_import(table, kind, n, env)
                else:
                    import_published(n, env)
                section["editorial"] = furnish(env)
                section["queries"] = counts = bench_queries(table, kind, n, env, smallest)
                smallest = smallest or counts
                if n == pages_n:
                    section["search"] = bench_search(table, kind, n, env)
                    section["cpu"] = bench_cpu(table, kind, n, env)
                    section["load"] = bench_load(table, kind, n, env, seconds)
                if n == busy_n:  # last: its editor changes headlines
                    section["busy_desk"] = bench_busy_desk(table, kind, n, env, profile, workdir, caches)
            # Import limits (bench/limits.py): bombs once (they never reach the database), same-slug per kind.
            report[kind]["limits"] = bench_limits(
                table,
                kind,
                fresh_database(kind, workdir),
                profile,
                results=RESULTS,
                python=PYTHON,
                fresh_database=fresh_database,
                workdir=workdir,
                bombs=kind == kinds[0],
            )
    if not options.tiny and not options.only:
        report["photos"] = bench_photos(table)
        report["photo_worker"] = bench_photo_worker(table, report["photos"])
    if not options.only:  # a few seconds: in every profile, --tiny too
        report["photo_bombs"] = bench_photo_bombs(table)
    report["table"] = table.rows
    Path(options.json).parent.mkdir(parents=True, exist_ok=True)
    Path(options.json).write_text(json.dumps(report, indent=2))
    judged = [row for row in table.rows if row["met"] is not None]
    print(f"\n{sum(row['met'] for row in judged)} of {len(judged)} targets met; report: {options.json}")


if __name__ == "__main__":
    main()
