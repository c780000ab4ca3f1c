"""The bomb corpus: uploads built to cost a server time or memory, each judged in a child process of its own
by the upload form's field (articles.photos.fields.PhotoFormField, what the admin runs). Measured: the time the
judging takes in the child (wall and CPU; starting Python and Django is not the upload's cost, and takes
seconds on a loaded machine), and the child's peak RSS (os.wait4, as bench/run.py's run_child), beside a
baseline child that judges a 1x1 PNG.

    python -m bench.photo_bombs          # prints the table; bench/run.py runs it in every profile

Targets: every bomb refused (or, for the long-duration GIF, accepted) cleanly within 2 s and 200 MB.
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.photos import gif_built_by_hand, image_bytes

SECONDS = 2.0
PEAK_MB = 200.0


def corpus():
    """Name -> (bytes, what the form must answer: an error code, or "" for accepted)."""
    return {
        # Three identical frames of 655 s: Pillow's writer merged their delays past what a GIF holds (a 500).
        "GIF, 3 frames of 655 s": (gif_built_by_hand(frames=3, centiseconds=65500), ""),
        # 4.6 MB of one-pixel frames: decoding them all took 10 s; the frame limit refuses it from the blocks.
        "GIF, 200,000 one-pixel frames": (gif_built_by_hand(frames=200_000), "too_many_frames"),
    }


def judge(path):
    """In the child: the verdict of the upload form's field on the file at `path`, as JSON."""
    import django

    django.setup()
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from articles.photos.fields import PhotoFormField

    upload = SimpleUploadedFile(Path(path).name, Path(path).read_bytes())
    started, cpu = time.perf_counter(), time.process_time()
    try:
        PhotoFormField().clean(upload)
        verdict = ""
    except ValidationError as error:
        verdict = error.error_list[0].code
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"verdict": verdict, "seconds": seconds, "cpu_seconds": cpu}))


def bench_photo_bombs(table):
    from bench.run import PYTHON, run_child

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="newsroom.settings", DJANGO_LOG_LEVEL="WARNING")
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        baseline_file = Path(workdir) / "baseline.png"
        baseline_file.write_bytes(image_bytes("PNG", size=(1, 1)))
        _, base_rss, out = run_child([PYTHON, "-m", "bench.photo_bombs", "judge", baseline_file], env)
        base = json.loads(out)
        results["baseline, 1x1 PNG"] = base | {"peak_rss_mb": base_rss}
        for n, (name, (data, expected)) in enumerate(corpus().items()):
            path = Path(workdir) / f"bomb-{n}.gif"
            path.write_bytes(data)
            child_seconds, rss, out = run_child([PYTHON, "-m", "bench.photo_bombs", "judge", path], env)
            judged = json.loads(out)
            verdict, seconds = judged["verdict"], judged["seconds"]
            label = f"photo bomb, {name} ({len(data):,} B)"
            answer = f"refused ({verdict})" if verdict else "accepted"
            table.add(f"{label}: answer", answer, "", "", "refused" if expected else "accepted", verdict == expected)
            table.add(
                f"{label}: time",
                f"{seconds:.3f} s",
                f"1x1 PNG {base['seconds']:.3f} s",
                f"CPU {judged['cpu_seconds']:.3f} s",
                "< 2 s",
                seconds < SECONDS,
            )
            table.add(
                f"{label}: peak RSS", f"{rss:.0f} MB", f"1x1 PNG {base_rss:.0f} MB", "", "< 200 MB", rss < PEAK_MB
            )
            results[name] = judged | {"bytes": len(data), "peak_rss_mb": rss, "child_seconds": child_seconds}
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["judge"]:
        judge(sys.argv[2])
    else:
        from bench.run import Table

        bench_photo_bombs(Table())
