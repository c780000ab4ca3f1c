"""bin/backup and bin/restore on this machine: back up, lose everything, restore, compare."""

import hashlib
import shutil
import subprocess

import pytest

from .production import BASE_DIR, manage, migrated_database, production_env

pytestmark = pytest.mark.production

PHOTO = b"\xff\xd8\xff\xe0 not really a JPEG, but bytes to compare"


def run(script, *args, env):
    result = subprocess.run(
        [str(BASE_DIR / "bin" / script), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result


def snapshot(env, media):
    """Everything a restore must bring back: every row the site has, and every media file's bytes. But the
    page cache's versions: a restore bumps them, so that no server shows pages cached before it."""
    rows = manage("dumpdata", "--all", "--indent", "0", "--exclude", "articles.freshness", env=env).stdout
    files = {
        str(path.relative_to(media)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in media.rglob("*")
        if path.is_file()
    }
    return rows, files


def site_with_content(env, media):
    """On a migrated database (production.migrated_database): the sample stories, and media files."""
    manage("loaddata", "fixtures/sample.json", env=env)
    (media / "photos" / "2025" / "12").mkdir(parents=True)
    (media / "photos" / "2025" / "12" / "flood.jpg").write_bytes(PHOTO)
    (media / "photos" / "2025" / "12" / "أخبار.jpg").write_bytes(PHOTO[::-1])


def development_env(**values):
    env = production_env(**values)
    del env["DJANGO_DEBUG"], env["REDIS_URL"]
    return env


def test_postgresql_backup_restores_over_later_changes_and_after_dropping_the_database(tmp_path):
    media = tmp_path / "media"
    with migrated_database("postgres", tmp_path) as database_url:
        env = development_env(DATABASE_URL=database_url, DJANGO_MEDIA_ROOT=str(media))
        site_with_content(env, media)
        before = snapshot(env, media)
        assert before[0].count('"model": "articles.article"') > 0
        backup = run("backup", str(tmp_path / "backups"), env=env).stdout.strip()

        # Later changes: stories deleted, a table and a file added. The restore undoes all of them.
        delete_stories = "from articles.models import Article; Article.objects.all().delete()"
        manage("shell", "--no-imports", "-c", delete_stories, env=env)
        psql(database_url, "CREATE TABLE added_later (id int)")
        (media / "added-later.jpg").write_bytes(PHOTO)
        run("restore", "--yes", backup, env=env)

        assert snapshot(env, media) == before
        assert psql(database_url, "SELECT to_regclass('added_later')") == ""

        # Disaster: the database and the media files are gone.
        server, name = database_url.rsplit("/", 1)
        psql(f"{server}/postgres", f'DROP DATABASE "{name}" WITH (FORCE)')
        shutil.rmtree(media)
        run("restore", "--yes", backup, env=env)

        assert snapshot(env, media) == before


def psql(database_url, sql):
    result = subprocess.run(["psql", database_url, "-tAc", sql], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_sqlite_backup_survives_losing_the_database_file(tmp_path):
    media = tmp_path / "media"
    with migrated_database("sqlite", tmp_path) as database_url:
        database = tmp_path / "db.sqlite3"
        env = development_env(DATABASE_URL=database_url, DJANGO_MEDIA_ROOT=str(media))
        site_with_content(env, media)
        before = snapshot(env, media)
        backup = run("backup", str(tmp_path / "backups"), env=env).stdout.strip()

        pages_cached_at = every_page_version(env)
        database.unlink()
        shutil.rmtree(media)
        run("restore", "--yes", backup, env=env)

        assert snapshot(env, media) == before
        assert every_page_version(env) > pages_cached_at  # pages cached before the restore are not served


def every_page_version(env):
    script = "from articles.pagecache import ALL, read_versions; print(read_versions([ALL])[ALL])"
    return int(manage("shell", "--no-imports", "-c", script, env=env).stdout)


def test_restore_asks_for_confirmation(tmp_path):
    result = subprocess.run([str(BASE_DIR / "bin" / "restore"), str(tmp_path)], capture_output=True, text=True)

    assert result.returncode == 2
    assert "--yes" in result.stderr


@pytest.fixture(autouse=True)
def _tools_present():
    for tool in ["pg_dump", "pg_restore", "psql", "createdb", "sqlite3", "tar"]:
        assert shutil.which(tool), f"{tool} is needed to back up and restore"
