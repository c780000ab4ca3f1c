"""PostgreSQL restarting under a running app server: every worker's kept connection (CONN_MAX_AGE) is cut.

The restart is simulated by terminating every connection to a throwaway database, as a restart does to all
of them, without stopping the shared server. Django checks a kept connection before reusing it
(CONN_HEALTH_CHECKS), so the first request after it opens a new one instead of failing on the dead one.
"""

import psycopg
import pytest

from .production import (
    Browser,
    free_port,
    gunicorn,
    http_get,
    manage,
    migrated_database,
    production_env,
    redis_prefix,
    static_root,
)

pytestmark = pytest.mark.production

PASSWORD = "correct horse battery staple"
PAGES = ["/", "/world/", "/search/?q=storm", "/feed/", "/healthz"]


def terminate_connections(database_url):
    """Cut every connection to the database, as a restart does; returns how many were cut."""
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        return connection.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()) AS cut",
            [name],
        ).fetchone()[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with migrated_database("postgres", tmp_path_factory.mktemp("site")) as database_url, redis_prefix() as prefix:
        env = production_env(
            DATABASE_URL=database_url,
            DJANGO_CACHE_PREFIX=prefix,
            DJANGO_PROXY_COUNT="1",
            DJANGO_CONN_MAX_AGE="600",
            DJANGO_PAGE_CACHE_SECONDS="0",  # every page reads the database
            DJANGO_STATIC_ROOT=str(static_root()),  # collected once per test run
            DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        )
        manage("loaddata", "fixtures/sample.json", env=env)
        manage("createsuperuser", "--noinput", "--username", "desk", "--email", "desk@example.com", env=env)
        port = free_port()
        with gunicorn(port, env, workers=2):
            yield database_url, port


def test_readers_get_pages_as_soon_as_the_database_is_back(server):
    database_url, port = server
    for path in PAGES * 3:  # both workers now keep a connection
        assert http_get(port, path).status == 200, path

    assert terminate_connections(database_url) >= 1

    for path in PAGES * 3:
        response = http_get(port, path)
        assert response.status == 200, (path, response.status, response.text[:500])


def test_an_editor_logs_in_and_saves_after_the_database_restarted(server):
    database_url, port = server
    browser = Browser(port)
    browser.log_in("desk", PASSWORD)
    assert browser.get("/admin/").status == 200

    assert terminate_connections(database_url) >= 1

    assert browser.get("/admin/articles/article/").status == 200
    form = browser.form("/admin/articles/section/add/", having="name")
    form.set("name", "Weather")
    form.set("slug", "weather")
    response = browser.submit(form, ("_save", "Save"))
    assert response.status == 302, response.text[:2000]
    with psycopg.connect(database_url) as connection:
        assert connection.execute("SELECT count(*) FROM articles_section WHERE slug = 'weather'").fetchone()[0] == 1
