"""The site as production runs it: two gunicorn app servers with production settings, sharing one
PostgreSQL database and one Redis, behind an (imaginary) load balancer that terminates HTTPS."""

import http.client
import re

import psycopg
import pytest

from .production import free_port, gunicorn, manage, postgres_database, production_env, redis_prefix

pytestmark = pytest.mark.production

PASSWORD = "correct horse battery staple"
# What the load balancer adds: the reader used HTTPS, from this address.
THROUGH_THE_LOAD_BALANCER = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


class Site:
    def __init__(self, database_url, ports):
        self.database_url = database_url
        self.ports = ports

    def url(self, server, path=""):
        return f"http://127.0.0.1:{self.ports[server]}{path}"

    def get(self, server, path, headers=THROUGH_THE_LOAD_BALANCER):
        connection = http.client.HTTPConnection("127.0.0.1", self.ports[server], timeout=10)
        connection.request("GET", path, headers={"Accept-Encoding": "gzip", **headers})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response, body

    def newest_story(self):
        with psycopg.connect(self.database_url) as connection:
            return connection.execute(
                "SELECT id, headline FROM articles_article WHERE status = 'published' "
                "ORDER BY published_at DESC, id DESC LIMIT 1"
            ).fetchone()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    ports = {"A": free_port(), "B": free_port()}
    with postgres_database() as database_url, redis_prefix() as prefix:
        env = production_env(
            DATABASE_URL=database_url,
            DJANGO_CACHE_PREFIX=prefix,
            DJANGO_PROXY_COUNT="1",
            DJANGO_STATIC_ROOT=str(tmp_path_factory.mktemp("static")),
            DJANGO_CSRF_TRUSTED_ORIGINS=",".join(f"http://127.0.0.1:{port}" for port in ports.values()),
            DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        )
        # What a release runs once, before the app servers start.
        manage("migrate", "--noinput", env=env)
        manage("collectstatic", "--noinput", env=env)
        manage("loaddata", "fixtures/sample.json", env=env)
        for username in ["desk", "intern"]:
            manage(
                "createsuperuser", "--noinput", "--username", username, "--email", f"{username}@example.com", env=env
            )
        with gunicorn(ports["A"], env), gunicorn(ports["B"], env):
            yield Site(database_url, ports)


@pytest.fixture
def page(browser):
    context = browser.new_context(extra_http_headers=THROUGH_THE_LOAD_BALANCER)
    yield context.new_page()
    context.close()


def log_in(page, site, server, username, password=PASSWORD):
    page.goto(site.url(server, "/admin/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation() as navigation:
        page.click("input[type=submit]")
    return navigation.value


def test_pages_served_in_production_carry_hsts_and_the_security_headers(site):
    for path in ["/", "/admin/login/", "/healthz"]:
        response, _ = site.get("A", path)

        assert response.status == 200, path
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_cookies_are_secure_and_hidden_from_scripts(site):
    response, _ = site.get("A", "/admin/login/")

    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("csrftoken=")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


@pytest.mark.browser
def test_an_editors_session_cookie_is_secure_and_hidden_from_scripts(site, page):
    log_in(page, site, "A", "desk")

    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["sessionid"]["secure"]
    assert cookies["sessionid"]["httpOnly"]
    assert cookies["csrftoken"]["secure"]
    assert cookies["csrftoken"]["httpOnly"]


def test_plain_http_is_sent_to_https_but_the_load_balancer_can_probe_healthz(site):
    response, _ = site.get("A", "/", headers={})
    assert response.status == 301
    assert response.headers["Location"] == site.url("A", "/").replace("http://", "https://")

    response, body = site.get("A", "/healthz", headers={})
    assert response.status == 200
    assert b'"status": "ok"' in body


def test_static_files_have_hashed_names_compression_and_a_long_cache_lifetime(site):
    _, login_page = site.get("A", "/admin/login/")
    stylesheet = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login_page).group(1).decode()

    response, _ = site.get("B", stylesheet)

    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "max-age=315360000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]
    assert "Content-Security-Policy" in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.browser
def test_withdrawing_through_one_server_stops_the_other_serving_the_story_at_once(site, page):
    story_id, headline = site.newest_story()
    # Server B has the index cached (a second visit is a cache hit) and shows the story.
    site.get("B", "/")
    response, body = site.get("B", "/")
    assert response.headers["X-Page-Cache"] == "hit"
    assert headline in body.decode()

    # An editor withdraws it through server A's admin.
    log_in(page, site, "A", "desk")
    page.goto(site.url("A", f"/admin/articles/article/{story_id}/change/"))
    page.select_option("#id_status", "withdrawn")
    page.fill("#id_withdrawn_reason", "Withdrawn on legal advice.")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "was changed successfully" in page.content()

    response, body = site.get("B", "/")
    assert headline not in body.decode()

    # And publishes it again: B shows it at once too.
    page.goto(site.url("A", f"/admin/articles/article/{story_id}/change/"))
    page.select_option("#id_status", "published")
    with page.expect_navigation():
        page.click("input[name=_save]")

    response, body = site.get("B", "/")
    assert headline in body.decode()


@pytest.mark.browser
def test_a_login_lockout_on_one_server_holds_on_the_others(site, page, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(page, site, "A", "intern", password="guess")

    response = log_in(page, site, "B", "intern")

    assert response.status == 429
    assert "/admin/login/" in page.url
