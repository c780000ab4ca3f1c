"""Webhooks with the site's real processes, on SQLite and PostgreSQL: two `db_worker`s, gunicorn, and `import_dump`
run as cron runs it, each a process of its own, and a real receiver on loopback. Every path fires its events once:
an editor publishing in the admin, an import, and an embargo lifting while the workers run, though nothing is
saved then (the two workers both watch for it; one announces it)."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.production import DATABASES, Browser, db_worker, free_port, gunicorn, manage, shell, site_env
from tests.webhooks import Receiver

pytestmark = pytest.mark.production

EDITOR, PASSWORD = "desk", "a-long-test-password-5521"
SAMPLE = "fixtures/sample-dump.txt"


def seed(receiver_url):
    return f"""
import json
from django.contrib.auth.models import Group, User
from articles.models import Article, Section, Subscriber
user = User.objects.create_user({EDITOR!r}, password={PASSWORD!r}, is_staff=True)
user.groups.add(Group.objects.get(name="Editors"))
subscriber = Subscriber.objects.create(name="Partner", url={receiver_url!r}, events=Subscriber.Event.values)
section = Section.objects.get_or_create(slug="world", defaults={{"name": "World", "is_default": True}})[0]
draft = Article.objects.create(headline="Draft to Publish", slug="draft-to-publish", section=section, body="Text.")
print(json.dumps({{"secret": subscriber.secret, "draft": draft.pk}}))
"""


def schedule(until):
    """A story saved as published with an embargo until `until`: its id."""
    return f"""
import json
from datetime import datetime
from articles.models import Article, Section
scheduled = Article.objects.create(
    headline="Embargoed Budget", slug="embargoed-budget", section=Section.objects.get(slug="world"),
    body="Numbers.", status="published", published_at=datetime.fromisoformat({until.isoformat()!r}),
)
print(json.dumps(scheduled.pk))
"""


PUBLISHED = """
import json
from articles.models import Article, Delivery
print(json.dumps({
    "published": sorted(Article.objects.published().values_list("pk", flat=True)),
    "deliveries": list(Delivery.objects.values_list("notice__story_id", "notice__event", "status")),
}))
"""


@pytest.fixture(params=DATABASES)
def site(request, tmp_path):
    with site_env(request.param, tmp_path, static=True, DJANGO_WEBHOOKS_ALLOW_PRIVATE="true") as env:
        yield env


def uri_id(request):
    return int(next(alt["value"] for alt in request.json()["altids"] if alt["role"] == "id"))


def test_admin_import_and_embargo_each_fire_published_once(site):
    with Receiver() as receiver:
        seeded = shell(seed(receiver.url), site)
        port = free_port()
        with db_worker(site), db_worker(site), gunicorn(port, site, workers=2):
            # An import from cron, in a process of its own.
            manage("import_dump", SAMPLE, "--status", "published", env=site)
            imported = shell(PUBLISHED, site)["published"]
            assert len(imported) >= 4
            receiver.wait_for(len(imported), timeout=60)

            # An editor publishes a draft in the admin.
            editor = Browser(port)
            editor.log_in(EDITOR, PASSWORD)
            page = f"/admin/articles/article/{seeded['draft']}/change/"
            form = editor.form(page, having="status")
            form.set("status", "published")
            assert editor.submit(form, ("_save", "Save")).status == 302
            receiver.wait_for(len(imported) + 1, timeout=30)

            # A story scheduled a few seconds ahead: the embargo lifts while both workers watch.
            embargo = timezone.now() + timedelta(seconds=8)
            seeded["scheduled"] = shell(schedule(embargo), site)
            assert timezone.now() < embargo - timedelta(seconds=1), "the machine is too slow for this test"
            assert len(receiver.requests) == len(imported) + 1  # saved, not yet public: nothing
            receiver.wait_for(len(imported) + 2, timeout=30)
            lifted = next((r for r in receiver.requests if uri_id(r) == seeded["scheduled"]), None)
            assert lifted is not None, "the embargo lifted and nobody was told"
            told_at = timezone.now() - timedelta(seconds=time.monotonic() - lifted.at)
            late = (told_at - embargo).total_seconds()
            assert 0 <= late < 3, f"told {late:.1f} s after the embargo lifted"

            # The same dump again changes nothing; a moment for anything that would still come.
            manage("import_dump", SAMPLE, "--status", "published", env=site)
            time.sleep(3)
            state = shell(PUBLISHED, site)

    events = Counter((uri_id(request), request.event) for request in receiver.requests)
    expected = {(pk, "published"): 1 for pk in [*imported, seeded["draft"], seeded["scheduled"]]}
    assert dict(events) == expected
    assert all(request.signed_with(seeded["secret"]) for request in receiver.requests)
    assert len({request.delivery for request in receiver.requests}) == len(receiver.requests)
    assert sorted(state["published"]) == sorted(pk for pk, _ in expected)
    assert Counter(status for _, _, status in state["deliveries"]) == {"delivered": len(expected)}
