"""The wire drop folder (`manage.py ingest_watch`), with real watcher processes on SQLite and PostgreSQL.

Dumps land in a folder while watchers run: a file still being written (growing, or under a temporary name) is
left alone, a complete one is imported once and moved to done/, a malformed one goes to failed/ with its
file:line reason beside it and the watcher goes on, two watchers racing over the folder import each dump
once, and a watcher killed during an import is picked up where it stopped.
"""

import contextlib
import os
import signal
import time

import pytest
from django.contrib.auth.models import Group

from articles.models import WireDrop
from tests.production import DATABASES, manage, query, require_marker, site_env, started

SETTLE = 2.0  # seconds; the setting's default is 10


def story(headline, paragraph="A paragraph of wire copy."):
    return f"{headline}\n\n{headline}\n\n{paragraph}\n\n\n\n"


def dump(prefix, count):
    return "".join(story(f"{prefix} Story Number {n}") for n in range(1, count + 1))


MALFORMED = story("Storm Hits the Coast") + "Second Story Headline\n\nA Different Headline\n\nIts paragraph.\n"


@pytest.fixture(scope="module", params=DATABASES)
def database(request, tmp_path_factory):
    require_marker("production", "watcher processes, and this machine's PostgreSQL")
    with site_env(request.param, tmp_path_factory.mktemp("site"), NEWSROOM_DROP_SETTLE_SECONDS=str(SETTLE)) as env:
        yield env


def stories(env, prefix):
    """{headline: status} of the stories whose headline starts with `prefix` (as the ORM's startswith asks it)."""
    return dict(query(env, "SELECT headline, status FROM articles_article WHERE headline LIKE %s", f"{prefix}%"))


DROP_FIELDS = ["name", "state", "stories_created", "stories_unchanged", "reason", "location", "watcher"]


def drops(env, *names):
    """The WireDrop rows of these files, oldest first, as dicts."""
    sql = f"SELECT {', '.join(DROP_FIELDS)} FROM articles_wiredrop WHERE name IN ({', '.join(['%s'] * len(names))})"
    return [dict(zip(DROP_FIELDS, row, strict=True)) for row in query(env, f"{sql} ORDER BY id", *names)]


@contextlib.contextmanager
def watcher(env, folder, *args):
    """A watcher process (`manage.py ingest_watch`), running until it has said it watches; stopped afterwards."""
    command = ["manage.py", "ingest_watch", str(folder), "--interval", "0.05", *args]
    with started(command, env, stop_within=60) as process:
        until(lambda: "Watching" in process.output() or process.poll() is not None, "the watcher to start")
        assert process.poll() is None, process.output()
        yield process


def until(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


@pytest.mark.production
def test_a_file_still_being_written_is_left_until_complete(database, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    growing = folder / "growing.txt"
    (folder / "upload.txt.part").write_text(dump("Partial", 2))  # under a temporary name: never taken
    (folder / ".hidden.txt").write_text(dump("Hidden", 2))
    with watcher(database, folder) as process:
        # Written in place, a story at a time, for longer than the settle time: not taken until it stops.
        for n in range(1, 16):
            assert n == 1 or growing.exists(), "the watcher took the file while it was still growing"
            with open(growing, "a") as out:
                out.write(story(f"Growing Story Number {n}"))
            time.sleep(SETTLE / 10)
        until(lambda: (folder / "done" / "growing.txt").exists(), "the grown dump to be imported")
        assert process.poll() is None
    assert len(stories(database, "Growing ")) == 15  # every story: it was taken whole
    assert stories(database, "Partial ") == stories(database, "Hidden ") == {}
    assert (folder / "upload.txt.part").exists() and (folder / ".hidden.txt").exists()


@pytest.mark.production
def test_a_dump_renamed_into_place_is_taken_at_once(database, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    env = {**database, "NEWSROOM_DROP_SETTLE_SECONDS": "600"}  # longer than this test may wait
    with watcher(env, folder):
        (folder / "curl.txt.part").write_text(dump("Curled", 3))
        (folder / ".rsynced.txt.Xa81bQ").write_text(dump("Rsynced", 2))
        (folder / "in-place.txt").write_text(dump("In Place", 2))
        time.sleep(1)  # the watcher sees the uploads under their temporary names...
        os.rename(folder / "curl.txt.part", folder / "curl.txt")  # ...then under their own
        os.rename(folder / ".rsynced.txt.Xa81bQ", folder / "rsynced.txt")
        until(lambda: (folder / "done" / "curl.txt").exists(), "the renamed dump to be imported")
        until(lambda: (folder / "done" / "rsynced.txt").exists(), "the rsynced dump to be imported")
    assert set(stories(database, "Curled ").values()) == {"draft"}
    assert len(stories(database, "Curled ")) == 3 and len(stories(database, "Rsynced ")) == 2
    # A file written in place is only taken once it has not changed for the settle time.
    assert (folder / "in-place.txt").exists() and stories(database, "In Place ") == {}


@pytest.mark.production
def test_complete_dumps_are_imported_and_a_malformed_one_fails_with_its_line(database, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a-bad.txt").write_text(MALFORMED)
    (folder / "b-good.txt").write_text(dump("Good", 4))
    (folder / "c-not-a-dump.gz").write_bytes(b"\x1f\x8b\x08\x00 truncated gzip")
    with watcher(database, folder, "--status", "published") as process:
        until(lambda: (folder / "done" / "b-good.txt").exists(), "the good dump to be imported")
        until(lambda: (folder / "failed" / "c-not-a-dump.gz").exists(), "the broken file to fail")
        # The watcher goes on after failures: a dump dropped now is imported too.
        (folder / "d-later.txt").write_text(dump("Later", 1))
        until(lambda: (folder / "done" / "d-later.txt").exists(), "the later dump to be imported")
        assert process.poll() is None
    assert process.returncode == 0  # stopped by SIGTERM, as the process manager stops it
    assert (folder / "failed" / "a-bad.txt").read_text() == MALFORMED
    reason = (folder / "failed" / "a-bad.txt.reason.txt").read_text()
    assert f"{folder / 'a-bad.txt'}:9: expected a story header" in reason
    assert (folder / "failed" / "c-not-a-dump.gz.reason.txt").read_text().strip()
    assert set(stories(database, "Good ").values()) == {"published"}
    assert stories(database, "Storm Hits") == {}  # a bad story stops its whole dump
    bad, good = drops(database, "a-bad.txt", "b-good.txt")
    assert bad["state"] == "failed" and bad["reason"] == reason.strip()
    assert bad["location"] == str(folder / "failed" / "a-bad.txt")
    assert good["state"] == "imported" and good["stories_created"] == 4
    assert sorted(os.listdir(folder)) == ["done", "failed"]  # the watcher's claims folder went with it


@pytest.mark.production
def test_two_watchers_import_each_dump_once(database, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    names = [f"race-{n:02}.txt" for n in range(12)]
    with watcher(database, folder) as first, watcher(database, folder) as second:
        # Both see the dumps land at once, and both find them complete at once.
        for n, name in enumerate(names):
            (folder / name).write_text(dump(f"Race {n:02}", 3))
        (folder / "race-copy.txt").write_text(dump("Race 00", 3))  # the same dump again, under another name
        until(lambda: len(os.listdir(folder / "done")) == 13 if (folder / "done").exists() else False, "the race")
        assert first.poll() is None and second.poll() is None
    rows = drops(database, *names, "race-copy.txt")
    assert sorted(row["name"] for row in rows) == [*names, "race-copy.txt"]  # one import each
    assert {row["state"] for row in rows} == {"imported"}
    # Every story created once; the copy (or race-00, whichever came second) found them there already.
    assert sum(row["stories_created"] for row in rows) == 36
    assert sum(row["stories_unchanged"] for row in rows) == 3
    assert len(stories(database, "Race ")) == 36
    watchers = {row["watcher"] for row in rows}
    print("dumps per watcher:", sorted(sum(row["watcher"] == owner for row in rows) for owner in watchers))


@pytest.mark.production
def test_a_watcher_killed_during_an_import_is_resumed_by_the_next(database, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "big.txt").write_text(dump("Big", 1500))
    with watcher(database, folder) as killed:
        until(lambda: any(folder.glob(".processing-*/big.txt")), "the watcher to claim the dump", timeout=60)
        time.sleep(0.3)  # into the import (reading 1,500 stories and writing them takes longer)
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    assert not (folder / "big.txt").exists()  # still claimed by the dead watcher
    with watcher(database, folder):  # a restart: it puts the dump back, and imports it once it has settled
        until(lambda: (folder / "done" / "big.txt").exists(), "the dump to be imported after the restart")
    assert len(stories(database, "Big ")) == 1500
    rows = drops(database, "big.txt")
    # The attempt the kill cut short (if it had begun its import), then the one after the restart.
    assert [row["state"] for row in rows] in (["interrupted", "imported"], ["imported"])
    assert rows[-1]["stories_created"] + rows[-1]["stories_unchanged"] == 1500
    print("killed", "during its import" if len(rows) == 2 else "before its import began")
    assert sorted(os.listdir(folder)) == ["done"]


@pytest.mark.production
def test_once_imports_what_is_complete_and_exits(database, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "cron.txt").write_text(dump("Cron", 2))
    (folder / "cron-late.txt.part").write_text(dump("Late", 2))
    result = manage("ingest_watch", str(folder), "--once", env=database)
    assert "imported cron.txt: created 2" in result.stdout
    assert (folder / "done" / "cron.txt").exists() and (folder / "cron-late.txt.part").exists()
    again = manage("ingest_watch", str(folder), "--once", env=database)
    assert "imported" not in again.stdout  # a second run finds nothing new
    missing = manage("ingest_watch", str(folder / "nowhere"), "--once", env=database, check=False)
    assert missing.returncode == 1 and "no such directory" in missing.stderr


@pytest.mark.django_db
def test_editors_read_the_drop_folder_history_in_the_admin(editor_client):
    failed_drop = WireDrop.objects.create(
        name="wire-0412.txt", state=WireDrop.State.FAILED, reason="drop/wire-0412.txt:9: expected a story header"
    )
    WireDrop.objects.create(name="wire-0411.txt", state=WireDrop.State.IMPORTED, stories_created=12)
    page = editor_client.get("/admin/articles/wiredrop/")
    assert page.status_code == 200
    assert "wire-0412.txt:9: expected a story header" in page.text and "wire-0411.txt" in page.text
    failed = editor_client.get("/admin/articles/wiredrop/?state=failed")
    assert "wire-0412.txt" in failed.text and "wire-0411.txt" not in failed.text
    detail = editor_client.get(f"/admin/articles/wiredrop/{failed_drop.pk}/change/")
    assert detail.status_code == 200 and "wire-0412.txt:9: expected a story header" in detail.text
    assert 'name="_save"' not in detail.text  # read-only: the watcher writes the history
    assert editor_client.get("/admin/articles/wiredrop/add/").status_code == 403
    assert Group.objects.get(name="Editors").permissions.filter(codename="view_wiredrop").exists()


HOLDING = """
import pathlib, time
from django.db import transaction
from articles.importer import source_key
from articles.models import Article, Section
with transaction.atomic():
    Article.objects.create(headline=headline, slug="held-story", section=Section.objects.get(is_default=True),
                           body="Written by another import.", source_key=source_key(headline))
    pathlib.Path(ready).touch()
    while not pathlib.Path(go).exists():
        time.sleep(0.05)
"""


def waiting_for_a_lock(url):
    import psycopg

    with psycopg.connect(url, autocommit=True) as probe:
        query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        return probe.execute(query).fetchone()[0] > 0


@pytest.mark.production
def test_a_dump_that_collides_with_another_import_goes_back_and_is_taken_again(tmp_path):
    """PostgreSQL: another import (another watcher's) writing some of the same stories at the same moment makes
    this one fail whole; the dump is not filed as failed but taken again, and then imported."""
    folder = tmp_path / "drop"
    folder.mkdir()
    ready, go = tmp_path / "ready", tmp_path / "go"
    values = f"headline, ready, go = {'Shared Story Number 2'!r}, {str(ready)!r}, {str(go)!r}"
    holding = ["manage.py", "shell", "-v0", "-c", f"{values}\n{HOLDING}"]
    with (
        site_env("postgres", tmp_path, NEWSROOM_DROP_SETTLE_SECONDS=str(SETTLE)) as env,
        started(holding, env) as holder,
    ):
        url = env["DATABASE_URL"]
        try:
            until(lambda: ready.exists() or holder.poll() is not None, "the other import to write its story")
            assert holder.poll() is None, holder.output()
            with watcher(env, folder):
                (folder / "overlap.txt").write_text(dump("Shared", 3))
                until(lambda: waiting_for_a_lock(url), "the watcher's import to wait for the other's")
                go.touch()  # the other import commits: this one finds the story written under it
                until(lambda: (folder / "done" / "overlap.txt").exists(), "the dump to be taken again")
        finally:
            go.touch()
            holder.wait(timeout=60)
        rows = drops(env, "overlap.txt")
        assert [row["state"] for row in rows] == ["interrupted", "imported"]
        assert "another import wrote some of the same stories" in rows[0]["reason"]
        assert not (folder / "failed").exists()
        assert len(stories(env, "Shared ")) == 3
