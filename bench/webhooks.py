"""Webhook fan-out: 100 subscribers on a receiver on loopback, an editor publishes one story through the admin
(gunicorn), two `db_worker`s at their default poll deliver: how long from pressing Save until all 100 have it.

    python -m bench.run --only webhooks --quick     # both databases

Target: all 100 within 5 s.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

from tests import production
from tests.webhooks import Receiver

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIBERS = 100
TARGET_SECONDS = 5
EDITOR, PASSWORD = "bench-desk", "a-long-bench-password-8812"

SEED = """
import json, sys
from django.contrib.auth.models import Group, User
from articles.models import Article, Section, Subscriber
url, editor, password, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
user = User.objects.create_user(editor, password=password, is_staff=True)
user.groups.add(Group.objects.get(name="Editors"))
Subscriber.objects.bulk_create(
    Subscriber(name=f"Partner {n}", url=url, events=Subscriber.Event.values) for n in range(count)
)
section = Section.objects.get_or_create(slug="world", defaults={"name": "World", "is_default": True})[0]
draft = Article.objects.create(headline="Fan-out Story", slug="fan-out-story", section=section, body="Text.")
print(json.dumps(draft.pk))
"""


def bench_webhooks(table, kind, env):
    production.running_test_markers.add("production")  # what the helpers check before starting servers
    env = {**env, "DJANGO_WEBHOOKS_ALLOW_PRIVATE": "true", "DJANGO_PROXY_COUNT": "1"}
    with Receiver() as receiver:
        seeded = subprocess.run(
            [sys.executable, "-c", bootstrap(SEED), receiver.url, EDITOR, PASSWORD, str(SUBSCRIBERS)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        draft = json.loads(seeded.stdout.strip().splitlines()[-1])
        port = production.free_port()
        with (
            production.gunicorn(port, env, workers=2),
            production.db_worker(env, interval=1),
            production.db_worker(env, interval=1),
        ):
            editor = production.Browser(port)
            editor.log_in(EDITOR, PASSWORD)
            form = editor.form(f"/admin/articles/article/{draft}/change/", having="status")
            form.set("status", "published")
            started = time.monotonic()
            saved = editor.submit(form, ("_save", "Save"))
            save_seconds = time.monotonic() - started
            assert saved.status == 302, saved.text[:2000]
            requests = receiver.wait_for(SUBSCRIBERS, timeout=60)
            seconds = (requests[-1].at - started) if len(requests) >= SUBSCRIBERS else float("inf")
    first = (requests[0].at - started) if requests else float("inf")
    table.add(
        f"webhooks, {kind}: {SUBSCRIBERS} subscribers told of a publish",
        f"{seconds:.2f} s",
        f"first {first:.2f} s",
        target=f"<= {TARGET_SECONDS} s",
        met=seconds <= TARGET_SECONDS,
    )
    return {
        "subscribers": SUBSCRIBERS,
        "received": len(requests),
        "seconds_to_all": seconds,
        "seconds_to_first": first,
        "save_seconds": save_seconds,
    }


def bootstrap(script):
    return f"import django; django.setup()\n{script}"
