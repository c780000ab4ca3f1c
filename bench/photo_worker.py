"""A 24-megapixel photo saved through the admin as production runs it (gunicorn, a SQLite file, a `db_worker`
with its default 1 s poll): how long the editor's save takes, and how long after pressing Save the story shows
the picture. Compare with bench/test_photos.py's "the same save before, renditions made inline".

    python -m bench.photo_worker        # prints the figures (about a minute)

Targets: the save under 300 ms; the picture shown within the time the inline save took.
"""

import contextlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests import production
from tests.production import db_worker
from tests.production import manage as run
from tests.test_photo_worker import EDITOR, PASSWORD, SEED, lead_figure

UPLOADS = 3


def main():
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    django.setup()  # for bench.test_photos, which imports the models
    from bench.test_photos import camera_sized_jpeg

    production.running_test_markers.add("production")  # what the test harness checks before starting servers
    data = camera_sized_jpeg(7, size=(6000, 4000), as_a_phone_writes_it=True)
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        tmp = Path(tmp)
        env = production.production_env(
            DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
            DJANGO_STATIC_ROOT=str(tmp / "static"),
            DJANGO_MEDIA_ROOT=str(tmp / "media"),
            DJANGO_PROXY_COUNT="1",
            PHOTO_SEED=f"{EDITOR}:{PASSWORD}",
        )
        del env["REDIS_URL"]
        run("collectstatic", "--noinput", env=env)
        run("migrate", "--noinput", env=env)
        seeded = json.loads(run("shell", "-c", SEED, env=env).stdout.strip().splitlines()[-1])
        port = production.free_port()
        stack.enter_context(production.gunicorn(port, env, workers=2))
        worker = stack.enter_context(db_worker(env, interval=1))
        editor = production.Browser(port)
        editor.log_in(EDITOR, PASSWORD)
        saves, shown = [], []
        for n in range(UPLOADS):
            form = editor.form(f"/admin/articles/photo/{seeded['photo']}/change/", having="alt_text")
            form.set("focal_x", str(0.4 + n / 10))  # a new picture each time, and new renditions
            before = lead_figure(port, seeded["url"])  # the previous picture, which a cached page may still show
            started = time.perf_counter()
            saved = editor.submit(form, files={"image": (f"camera-{n}.jpg", data)})
            saves.append(time.perf_counter() - started)
            assert saved.status == 302, saved.text[:2000]
            while "<picture>" not in (figure := lead_figure(port, seeded["url"])) or figure == before:
                assert worker.poll() is None, "the worker stopped"
                assert time.perf_counter() - started < 120, "no renditions after two minutes"
                time.sleep(0.05)
            shown.append(time.perf_counter() - started)
    print(
        f"admin save of a 6000x4000 JPEG ({len(data) / 1e6:.1f} MB), median of {UPLOADS}: "
        f"{statistics.median(saves) * 1000:.0f} ms (each: {', '.join(f'{s * 1000:.0f}' for s in saves)})"
    )
    print(
        f"picture on the story page after pressing Save, median: {statistics.median(shown):.2f} s "
        f"(each: {', '.join(f'{s:.2f}' for s in shown)})"
    )


if __name__ == "__main__":
    main()
