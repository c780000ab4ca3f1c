"""Import limits under `make bench`: bombs are refused fast in flat memory; same-slug headlines cost no more.

- bomb corpus: a small gzip of a huge wall of text without a blank line (a dry run once reached 2.2 GB),
  and a small gzip of nothing but newlines (once 104 s of CPU); each `import_dump` must be refused
  within 2 s of CPU and 200 MB, measured as a child process (its own rusage, as bench.run.run_child).
  CPU time, not wall time: these machines are shared, and the wall time beside it includes the wait.
- same-slug import: N stories whose distinct headlines all slugify alike (once quadratic: 34 s for
  10,000 against 1.25 s) beside the same N stories with their own headlines; within 2x.
"""

import os
import re
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

from articles.dump import parse
from bench import corpus

# Decompressed bomb sizes and same-slug story counts per profile.
BOMB_BYTES = {"full": 1 << 30, "quick": 1 << 30, "tiny": 64 << 20}
SAME_SLUG_N = {"full": 10_000, "quick": 1_000, "tiny": 200}
ROOT = Path(__file__).resolve().parent.parent
WALL_LINE = b"Lines and lines of copy without a blank line between them, as a broken feed sends them.\n"


def bench_limits(table, kind, env, profile, *, results, python, fresh_database, workdir, bombs=True):
    """Add the bomb-corpus figures (when `bombs`) and the same-slug figure for one database kind."""
    report = {}
    results.mkdir(exist_ok=True)
    if bombs:
        report["bombs"] = bench_bombs(table, env, profile, results, python)
    report["same_slug"] = bench_same_slug(table, kind, profile, results, python, fresh_database, workdir)
    return report


def run_refused(args, env, cwd):
    """Run a child that should be refused (exit status 1): (wall seconds, CPU seconds, peak RSS in MB, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        err.seek(0)
        said = err.read().decode()
        if os.waitstatus_to_exitcode(status) != 1 or "Traceback" in said:
            raise SystemExit(f"{' '.join(map(str, args))} was not refused cleanly:\n{said}")
        return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, said.strip()


def gzip_bomb(path, filler, size):
    """`filler` repeated up to `size` bytes, gzip-compressed as it is written; kept between runs."""
    if not path.exists():
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = filler * ((1 << 20) // len(filler))
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as out:
            for _ in range(size // len(block)):
                out.write(compressor.compress(block))
            out.write(compressor.flush())
        partial.rename(path)
    return path


def bench_bombs(table, env, profile, results, python):
    size = BOMB_BYTES[profile]
    env = {name: value for name, value in env.items() if name != "DJANGO_IMPORT_MAX_DUMP_MB"}  # the default
    report = {}
    for name, filler in [("gzip bomb, wall of text", WALL_LINE), ("newline bomb", b"\n")]:
        slug = name.split(",")[0].replace(" ", "-")
        bomb = gzip_bomb(results / f"{slug}-{size >> 20}MB.gz", filler, size)
        seconds, cpu, rss, said = run_refused([python, "manage.py", "import_dump", str(bomb), "--dry-run"], env, ROOT)
        label = f"bombs: {name}, {bomb.stat().st_size / 1e6:.1f} MB gz of {size / 1e9:.2f} GB"
        problem = match[1].strip() if (match := re.search(r":\d+: ([^(]*)", said)) else said
        table.add(f"{label}: refused, CPU", f"{cpu:.2f} s", f"wall {seconds:.2f} s", "", "< 2 s", cpu < 2)
        table.add(f"{label}: peak RSS", f"{rss:,.0f} MB", problem[:20], "", "< 200 MB", rss < 200)
        report[slug] = {
            "seconds": seconds,
            "cpu_seconds": cpu,
            "peak_rss_mb": rss,
            "said": said.splitlines()[-1],
            "gz_bytes": bomb.stat().st_size,
        }
    return report


def write_story(out, headline, record):
    """A parsed story written back in the dump format, under another headline."""
    if record.captions:
        caption = record.captions[0]
        line = f"{caption.text} ({caption.credit})" if caption.credit else caption.text
        out.write(f"{headline}\n\n{line}\n{line}\nTT\n\n{headline}\n\n{line}\n{line}\n\n")
    else:
        out.write(f"{headline}\n\n{headline}\n\n")
    out.write("\n\n".join(record.paragraphs) + "\n\n\n\n")


def same_slug_dumps(results, n):
    """The corpus's first n stories twice: under their own headlines, and under headlines that differ only in
    punctuation, so that all of them slugify alike."""
    ordinary, same = results / f"ordinary-v{corpus.VERSION}-{n}.txt", results / f"same-slug-v{corpus.VERSION}-{n}.txt"
    if not same.exists():
        source = results / f"corpus-source-{n}.txt"
        with open(source, "w", encoding="utf-8", newline="") as out:
            corpus.write(out, n)
        marks = "!?.,;:"
        with open(source, "rb") as stream, open(ordinary, "w") as plain, open(same, "w") as alike:
            for number, record in enumerate(parse(stream, source.name)):
                tail, k = "", number
                while True:
                    tail += marks[k % len(marks)]
                    k //= len(marks)
                    if not k:
                        break
                write_story(plain, record.headline, record)
                write_story(alike, f"Storm Hits the Coast {tail}", record)
        source.unlink()
    return ordinary, same


def bench_same_slug(table, kind, profile, results, python, fresh_database, workdir):
    n = SAME_SLUG_N[profile]
    timings = {}
    for name, dump in zip(["ordinary", "same slug"], same_slug_dumps(results, n), strict=True):
        env = fresh_database(kind, workdir)
        started = time.perf_counter()
        subprocess.run(
            [python, "manage.py", "import_dump", str(dump)], cwd=ROOT, env=env, check=True, capture_output=True
        )
        timings[name] = time.perf_counter() - started
    ratio = timings["same slug"] / timings["ordinary"]
    table.add(
        f"same-slug import, {kind}, N={n:,}",
        f"{timings['same slug']:.2f} s",
        f"ordinary {timings['ordinary']:.2f} s",
        f"{ratio:.2f}x",
        "<= 2x",
        ratio <= 2,
    )
    return {"n": n, "seconds": timings["same slug"], "ordinary_seconds": timings["ordinary"], "ratio": ratio}
