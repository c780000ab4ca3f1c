"""Readers and editors keep working while a large import runs, with real processes: `manage.py import_dump`
of a few thousand stories in one process, the admin under gunicorn in another, one database file.

On SQLite an import holds the database's only write lock while it writes (its stories are read and checked
before that), so the admin's pages must not take that lock to read, and a save that would wait for it longer
than the busy timeout is refused with a clear message and the form as typed, never a 500. On PostgreSQL an
editor's save during an import just succeeds.
"""

import sqlite3
import time

import psycopg
import pytest

from bench import corpus
from tests.production import Browser, free_port, gunicorn, manage, shell, site_env, started

pytestmark = pytest.mark.production

STORIES = 6000  # the write takes some seconds on this machine: longer than the 5 s busy timeout, or close to it
EDITOR, PASSWORD = "desk", "a-long-test-password-4417"
BUSY = "An import is running; your changes were not saved yet — save again in a moment."

SEED = f"""
from django.contrib.auth.models import Group, User
from articles.models import Article, Section
user = User.objects.create_user({EDITOR!r}, password={PASSWORD!r}, is_staff=True)
user.groups.add(Group.objects.get(name="Editors"))
section = Section.objects.get(is_default=True)
story = Article.objects.create(headline="Council Meets on Budget", slug="council-meets", section=section,
                               body="First paragraph.\\n\\nSecond paragraph.")
print(story.pk)
"""

CARDS = """
import json
from articles.listings import card_stories
print(json.dumps([story.headline for story in card_stories().filter(status="published")]))
"""


def write_dump(path):
    with open(path, "w", encoding="utf-8", newline="") as out:
        corpus.write(out, STORIES)
    return path


def sqlite_writing(database):
    """Whether someone holds the SQLite file's write lock now (asked without waiting for it)."""
    probe = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc) or "busy" in str(exc), exc
        return True
    finally:
        probe.close()


def postgres_writing(database_url):
    """Whether an import is in its writing transaction now (it holds the advisory lock on its dump's digest)."""
    with psycopg.connect(database_url, autocommit=True) as probe:
        return probe.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0] > 0


def importing(dump, env):
    return started(["manage.py", "import_dump", str(dump), "--status", "published"], env)


def count_stories(env):
    script = "from articles.models import Article; print(Article.objects.count())"
    return int(manage("shell", "-v0", "-c", script, env=env).stdout.strip())


def headline_of(env, story_id):
    script = f"from articles.models import Article; print(Article.objects.get(pk={story_id}).headline)"
    return manage("shell", "-v0", "-c", script, env=env).stdout.strip()


def desk_keeps_working(tmp_path, env, story_id, writing):
    """Drive the admin while the import runs; return what the editor's save during the write got."""
    dump = write_dump(tmp_path / "wire.txt")
    change = f"/admin/articles/article/{story_id}/change/"
    changelist = "/admin/articles/article/"
    port = free_port()
    with gunicorn(port, env, workers=2):
        editor = Browser(port)
        editor.log_in(EDITOR, PASSWORD)
        form = editor.form(change, having="headline")
        with importing(dump, env) as child:
            while not writing():  # reading and checking the dump: nothing to wait for
                assert child.poll() is None, f"the import ended before it wrote:\n{child.output()}"
                assert editor.get(change).status == 200
                time.sleep(0.05)
            # The import now writes: pages that only read answer at once, without waiting for it to finish...
            assert editor.get(changelist).status == 200
            form = editor.form(change, having="headline")
            assert editor.get(change.replace("/change/", "/history/")).status == 200
            assert writing(), "the pages waited for the import to finish writing"
            # ...and a save either goes through or is refused, with the form as typed, until it has.
            form.set("headline", "Council Meets on Budget, Again")
            saved = editor.submit(form, button=("_save", "Save"))
            assert saved.status in (200, 302), f"{saved.status}\n{saved.text[:2000]}"
            assert editor.get(change).status == 200
            assert child.wait(timeout=600) == 0, child.output()
        if saved.status == 200:  # refused while the import wrote: the form as typed, and why
            assert BUSY in saved.text
            kept = editor.form(change, having="headline", response=saved)
            assert kept.get("headline") == "Council Meets on Budget, Again"
            assert editor.submit(kept, button=("_save", "Save")).status == 302  # saving again, afterwards
        assert count_stories(env) == STORIES + 1
        assert headline_of(env, story_id) == "Council Meets on Budget, Again"
    return saved


def test_sqlite_desk_keeps_working_during_an_import(tmp_path):
    with site_env("sqlite", tmp_path, static=True) as env:
        story_id = shell(SEED, env)  # the story it made
        database = env["DATABASE_URL"].removeprefix("sqlite:///")
        saved = desk_keeps_working(tmp_path, env, story_id, lambda: sqlite_writing(database))
    print("the save during the write was", "refused, then saved again" if saved.status == 200 else "saved")


def test_postgres_editor_saves_during_an_import(tmp_path):
    with site_env("postgres", tmp_path, static=True) as env:
        story_id = shell(SEED, env)  # the story it made
        saved = desk_keeps_working(tmp_path, env, story_id, lambda: postgres_writing(env["DATABASE_URL"]))
        assert saved.status == 302  # nothing to wait for: the import locks only the rows it writes


def test_a_process_started_while_an_import_writes_still_shows_story_cards(tmp_path):
    """A gunicorn worker replaced (max_requests, a crash, a deploy) while an import holds SQLite's write lock
    must serve story cards once started, not 500 for its life: Django's check that JSON works used to wait for
    that lock, give up, and remember "no JSON"."""
    with site_env("sqlite", tmp_path) as env:
        manage("import_dump", "fixtures/sample-dump.txt", "--status", "published", env=env)
        importing = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
        importing.execute("BEGIN IMMEDIATE")  # what an import holds while it writes
        try:
            headlines = shell(CARDS, env)
        finally:
            importing.execute("ROLLBACK")
            importing.close()
    assert len(headlines) == 4 and all(headlines)
