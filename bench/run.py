"""`make bench`: what users feel, each figure beside its baseline measured in the same run.

    python -m bench.run [--quick] [--import-n 10000,100000] [--databases sqlite,postgres] [--json PATH]

Machines here are shared and noisy, so every figure is reported as a ratio to a baseline taken
moments before on the same machine, with the absolute numbers beside it.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import corpus

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
PYTHON = sys.executable


class Table:
    def __init__(self):
        self.rows = []

    def add(self, figure, value, baseline, ratio, target, met):
        self.rows.append(
            {"figure": figure, "value": value, "baseline": baseline, "ratio": ratio, "target": target, "met": met}
        )
        print(f"  {figure:<48} {value:>18} {baseline:>18} {ratio:>8} {target:>10} {'met' if met else 'NOT MET'}")
        sys.stdout.flush()

    @staticmethod
    def header():
        print(f"  {'figure':<48} {'value':>18} {'baseline':>18} {'ratio':>8} {'target':>10} met")


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
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-" + "x" * 60,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    if kind == "sqlite":
        db = Path(workdir) / "bench.sqlite3"
        for suffix in ["", "-wal", "-shm"]:
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{db}"
    else:
        name = "newsroom_bench"
        for sql in [f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"]:
            subprocess.run(["psql", f"{PG_URL}/postgres", "-qc", sql], check=True, capture_output=True)
        env["DATABASE_URL"] = f"{PG_URL}/{name}"
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def dump_file(n):
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"corpus-{n}.txt"
    if not path.exists():
        with open(path, "w", encoding="utf-8", newline="") as out:
            corpus.write(out, n)
    return path


def bench_import(table, kinds, sizes, workdir):
    results = {}
    for kind in kinds:
        for n in sizes:
            dump = dump_file(n)
            env = fresh_database(kind, workdir)
            _, _, floor_out = run_child([PYTHON, "-m", "bench.floor", str(dump)], env)
            floor = json.loads(floor_out)
            floor_rate = floor["rows"] / floor["seconds"]
            first, rss, _ = run_child([PYTHON, "manage.py", "import_dump", str(dump)], env)
            again, rss_again, _ = run_child([PYTHON, "manage.py", "import_dump", str(dump)], env)
            rate = n / first
            label = f"import {kind} N={n:,}"
            table.add(
                f"{label}: stories/s",
                f"{rate:,.0f}/s",
                f"{floor_rate:,.0f}/s bulk",
                f"{rate / floor_rate:.2f}",
                ">= 0.25",
                rate / floor_rate >= 0.25,
            )
            table.add(f"{label}: peak RSS", f"{rss:,.0f} MB", "", "", "< 200 MB", rss < 200)
            table.add(
                f"{label}: re-import speed-up",
                f"{again:.1f} s",
                f"{first:.1f} s first",
                f"{first / again:.1f}x",
                ">= 3x",
                first / again >= 3,
            )
            results[label] = {
                "stories_per_s": rate,
                "floor_rows_per_s": floor_rate,
                "seconds": first,
                "peak_rss_mb": rss,
                "reimport_seconds": again,
                "reimport_rss_mb": rss_again,
            }
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small N for a quick run (1,000 stories)")
    parser.add_argument("--import-n", default=None, help="comma-separated story counts for the import benchmark")
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--json", default=str(RESULTS / "bench.json"), help="where to write the JSON report")
    options = parser.parse_args(argv)
    sizes = [int(n) for n in (options.import_n or ("1000" if options.quick else "10000,100000")).split(",")]
    kinds = options.databases.split(",")
    table = Table()
    report = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    Table.header()
    with tempfile.TemporaryDirectory() as workdir:
        report["import"] = bench_import(table, kinds, sizes, workdir)
    report["table"] = table.rows
    Path(options.json).parent.mkdir(parents=True, exist_ok=True)
    Path(options.json).write_text(json.dumps(report, indent=2))
    met = sum(row["met"] for row in table.rows)
    print(f"\n{met} of {len(table.rows)} targets met; report written to {options.json}")


if __name__ == "__main__":
    main()
