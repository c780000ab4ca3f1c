"""The set-up commands: fixtures, the demo account, and an import killed half-way."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from articles.models import Article

from .conftest import DATA, SAMPLE
from .production import migrated_database

ROOT = Path(__file__).parent.parent


@pytest.mark.django_db
def test_build_fixtures_is_byte_identical_to_the_checked_in_fixture(tmp_path):
    output = tmp_path / "sample.json"
    call_command("build_fixtures", output=output, stdout=io.StringIO())
    assert output.read_bytes() == (ROOT / "fixtures" / "sample.json").read_bytes()


@pytest.mark.django_db
def test_fixture_holds_the_sample_stories_published_with_fixed_dates():
    call_command("loaddata", ROOT / "fixtures" / "sample.json", verbosity=0)
    assert Article.objects.published().count() == 4
    assert min(Article.objects.values_list("published_at", flat=True)).isoformat() == "2025-12-21T15:00:00+00:00"
    # The fixture is what the importer would make: importing the sample on top changes nothing.
    out = io.StringIO()
    call_command("import_dump", str(SAMPLE), stdout=out, stderr=io.StringIO())
    assert "created 0, updated 0, unchanged 4" in out.getvalue()


@pytest.mark.django_db
def test_setup_demo_loads_sample_once_and_prints_working_credentials():
    out = io.StringIO()
    call_command("setup_demo", stdout=out)
    assert Article.objects.count() == 4
    line = next(line for line in out.getvalue().splitlines() if "Demo editor" in line)
    password = line.split("password ")[1].split("'")[1]
    user = get_user_model().objects.get(username="editor")
    assert user.check_password(password) and user.is_staff
    Article.objects.filter(pk=1).update(headline="Edited by an editor")
    call_command("setup_demo", stdout=io.StringIO())
    assert Article.objects.count() == 4
    assert Article.objects.filter(headline="Edited by an editor").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_import_killed_half_way_leaves_database_as_it_was(tmp_path):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="newsroom.settings")
    if connection.vendor == "sqlite":
        # The test database lives in memory; the child process gets a file database of its own, migrated.
        with migrated_database("sqlite", tmp_path) as url:  # a copy of the test run's: nothing to remove after
            env["DATABASE_URL"] = url
    else:
        settings = connection.settings_dict
        env["DATABASE_URL"] = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    story = (DATA / "caption_once.txt").read_text()
    dump = tmp_path / "big.txt"
    with open(dump, "w") as out:
        for n in range(40_000):
            out.write(story.replace("Niger Closes Its Airspace", f"Niger Closes Its Airspace, Day {n}") + "\n\n")
    child = subprocess.Popen(
        [sys.executable, "manage.py", "import_dump", str(dump)], cwd=ROOT, env=env, stdout=subprocess.PIPE
    )
    time.sleep(3)  # long enough for several batches to be written inside the run's transaction
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the import finished before it could be killed; use a bigger dump"
    count = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-v0",
            "-c",
            "from articles.models import Article; print(Article.objects.count())",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(count.stdout) == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_large_import_leaves_section_listings_answerable_from_the_index(tmp_path):
    """A deep section page counts and skips over the listing index alone: right after a large import too.

    On PostgreSQL that needs VACUUM (the visibility map) as well as ANALYZE; import_dump runs both when it
    wrote 1,000 stories or more, instead of leaving readers to wait for autovacuum.
    """
    from bench import corpus

    dump = tmp_path / "dump.txt"
    with open(dump, "w", encoding="utf-8", newline="") as out:
        corpus.write(out, 1000)
    call_command("import_dump", str(dump), "--status", "published", stdout=io.StringIO(), stderr=io.StringIO())
    section = Article.objects.values_list("section", flat=True).first()
    count = Article.objects.published().in_section(section)
    sql, params = count.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'articles_article'")
            pages, all_visible = cursor.fetchone()
            assert pages > 0 and all_visible == pages
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            assert "COVERING INDEX article_section_listing" in " ".join(str(row) for row in cursor.fetchall())


@pytest.mark.django_db
def test_a_dump_deep_in_a_long_path_imports_and_is_named_by_the_end_of_its_path(tmp_path):
    folder = tmp_path.joinpath(*["wire-archive-2026" * 3] * 6)  # a path longer than the 255 stored
    folder.mkdir(parents=True)
    dump = folder / "monday.txt"
    dump.write_bytes(SAMPLE.read_bytes())
    assert len(str(dump)) > 255
    out = io.StringIO()
    call_command("import_dump", str(dump), stdout=out, stderr=io.StringIO())
    assert "created 4" in out.getvalue()
    names = set(Article.objects.values_list("source_file", flat=True))
    assert len(names) == 1 and names.pop().endswith("wire-archive-2026/monday.txt")
    out = io.StringIO()
    call_command("import_dump", str(dump), stdout=out, stderr=io.StringIO())
    assert "created 0, updated 0, unchanged 4" in out.getvalue()  # known by the ledger, under its stored name
