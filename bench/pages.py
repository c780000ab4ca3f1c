"""Page benchmarks: gunicorn (2 workers) on loopback, a bounded wrk run per page, beside two baselines: a
trivial view inside Newsroom's stack (bench/urls.py) and a bare Django project (bench/bare/) in its own gunicorn.

Also counts the SQL queries each page runs, which must not grow with the number of stories.
"""

import json
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TRIVIAL = "/__bench__/trivial/"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env, workers=2, app="newsroom.wsgi:application", settings="bench.settings"):
    """A gunicorn serving app on a free port (with gunicorn.conf.py's settings, as `make serve`); yields its URL."""
    port = free_port()
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            app,
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "--error-logfile",
            "-",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=dict(env, DJANGO_SETTINGS_MODULE=settings),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + TRIVIAL, timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def wrk(url, seconds, connections=16, script=None, script_args=()):
    """Requests per second and p50/p99 latency (ms) from a bounded wrk run; with a Lua script (given the
    script_args after wrk's "--"), also what the script printed, as "output".

    Requests a slow page left queued when the last run stopped are served first: each run starts once one
    request, queued behind them, has been answered.
    """
    urllib.request.urlopen(urllib.parse.urljoin(url, TRIVIAL), timeout=120).read()
    command = wrk_command(url, seconds, connections, script, script_args)
    figures = wrk_figures(subprocess.run(command, capture_output=True, text=True, check=True).stdout, script)
    if figures["errors"]:
        raise SystemExit(f"{url} answered {figures['errors']} errors under load:\n{figures['output']}")
    if not script:
        del figures["output"]
    return figures


@contextmanager
def wrk_while(url, connections=16, script=None, script_args=()):
    """wrk for as long as the block runs; yields a dict that holds wrk's figures once the block is over
    (errors and timeouts counted, not raised: they are what is being measured)."""
    command = wrk_command(url, 24 * 3600, connections, script, script_args)
    figures = {}
    loader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield figures
    finally:
        loader.send_signal(signal.SIGINT)  # wrk stops, and prints its figures as at the end of its time
        out, err = loader.communicate(timeout=60)
    if loader.returncode:
        raise SystemExit(f"wrk failed:\n{out}{err}")
    figures |= wrk_figures(out, script)


def wrk_command(url, seconds, connections=16, script=None, script_args=()):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        return command + ["-s", str(script), url, "--", *map(str, script_args)]
    return command + [url]


def wrk_figures(out, script=None):
    """What wrk printed: requests/s, p50 and p99 latency (ms), non-2xx answers ("errors"), timeouts, and the
    whole output ("output")."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"Socket errors:.* timeout (\d+)", out)

    def percentile(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {
        "rps": rps,
        "p50_ms": percentile(50),
        "p99_ms": percentile(99),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
        "output": out,
    }


def probe(env, function):
    """Call a function of bench/probe.py in a child process against the benchmark database."""
    script = f"import json; from bench.probe import {function}; print(json.dumps({function}()))"
    out = subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"bench.probe.{function} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bare_project(env, seconds):
    """Requests/s and latency of the bare project's one view, in a gunicorn of its own."""
    with gunicorn(env, app="django.core.wsgi:get_wsgi_application()", settings="bench.bare.settings") as base:
        for _ in range(4):
            urllib.request.urlopen(base + TRIVIAL, timeout=30).read()
        return wrk(base + TRIVIAL, seconds)


def mean(runs):
    return {key: statistics.mean(run[key] for run in runs) for key in runs[0]}


def bench_pages(
    env, seconds, cached_pages=("home", "article", "author", "topic", "api story", "api listing", "feed", "search")
):
    """Requests/s and latency of each page, uncached and (for cached_pages, those the corpus has) from the page
    cache, beside the trivial view measured before and after them by the same gunicorn, and the bare project
    measured before and after them all. Each page's "ratio" is to the trivial view, its "ratio_bare" to the
    bare project."""
    urls = probe(env, "urls")
    results = {}
    runs = [("uncached", dict(env, DJANGO_PAGE_CACHE_SECONDS="0"), urls)]
    if cached_pages:
        cached = {k: urls[k] for k in cached_pages if k in urls}
        runs.append(("cached", dict(env, DJANGO_PAGE_CACHE_SECONDS="300"), cached))
    trivial = []
    bare = [bare_project(env, seconds)]
    for label, run_env, pages in runs:
        with gunicorn(run_env) as base:
            for path in [TRIVIAL, *pages.values()]:  # warm both workers (and the cache)
                for _ in range(4):
                    urllib.request.urlopen(base + path, timeout=30).read()
            trivial.append(wrk(base + TRIVIAL, seconds))
            for name, path in pages.items():
                results[f"{name} ({label})"] = wrk(base + path, seconds) | {"path": path}
            trivial.append(wrk(base + TRIVIAL, seconds))
    bare.append(bare_project(env, seconds))
    trivial, bare = mean(trivial), mean(bare)
    for figures in results.values():
        figures["ratio"] = figures["rps"] / trivial["rps"]
        figures["ratio_bare"] = figures["rps"] / bare["rps"]
    return trivial, bare, results
