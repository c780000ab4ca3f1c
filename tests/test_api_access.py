"""Access to the read API (articles/api/access.py): keys, the anonymous switch, per-key rate limits, CORS, and the
admin where editors issue and revoke keys. The API's views are stand-ins (tests/api_urls.py); what is tested is
the layer in front of every path under /api/, through real requests."""

import contextlib
import json
import logging
import math
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.urls import reverse

from articles.models import APIKey
from newsroom.logging import JsonFormatter
from tests import production

pytestmark = pytest.mark.urls("tests.api_urls")

STORIES = "/api/v1/stories/"
WHOAMI = "/api/v1/whoami/"
APP = "https://app.example.com"


@pytest.fixture
def partner(db):
    """A partner's key: (the APIKey, the full key as the partner holds it)."""
    return APIKey.objects.issue(name="Morning Paper app", rate_limit=100)


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def refused_json(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    return json.loads(response.content)


# Keys.


@pytest.mark.django_db
def test_anonymous_readers_use_the_api_by_default(client, published_article):
    response = client.get(STORIES)

    assert response.status_code == 200
    assert response.json() == {"stories": [published_article.headline]}
    assert "X-RateLimit-Limit" not in response  # the per-key limit is for keys


def test_a_partner_reads_the_api_with_their_key_in_either_header(client, partner):
    api_key, key = partner

    for headers in [bearer(key), {"Authorization": f"bearer {key}"}, {"X-API-Key": key}]:
        response = client.get(WHOAMI, headers=headers)
        assert response.status_code == 200
        assert response.json()["partner"] == "Morning Paper app"
        assert response["X-RateLimit-Limit"] == "100"


def test_unknown_keys_are_refused_with_401_and_a_bearer_challenge(client, partner):
    api_key, key = partner
    wrong_secret = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    for presented in [wrong_secret, "nr_000000000000_" + key.rsplit("_", 1)[1], "not-a-key", key + "x", ""]:
        response = client.get(STORIES, headers=bearer(presented))
        body = refused_json(response, 401)
        assert body["error"] == "invalid_token"
        assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'

    assert client.get(STORIES, headers={"X-API-Key": wrong_secret}).status_code == 401


def test_a_revoked_key_is_refused_from_the_next_request(client, partner):
    api_key, key = partner
    assert client.get(WHOAMI, headers=bearer(key)).status_code == 200  # this process now remembers the key

    APIKey.objects.filter(pk=api_key.pk).revoke()

    assert refused_json(client.get(WHOAMI, headers=bearer(key)), 401)["error"] == "invalid_token"
    assert refused_json(client.get(WHOAMI, headers=bearer(key)), 401)["error"] == "invalid_token"


def test_without_anonymous_access_every_request_needs_a_key(client, settings, partner, published_article):
    settings.API_ANONYMOUS = False
    api_key, key = partner

    response = client.get(STORIES)
    assert refused_json(response, 401)["error"] == "key_required"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert client.get(STORIES, headers=bearer(key)).json() == {"stories": [published_article.headline]}
    # How to use the API is open to all: a partner reads it before they have a key.
    assert client.get("/api/v1/docs").status_code == 200


def test_basic_authentication_in_front_of_the_site_is_not_a_key(client, settings, partner):
    settings.API_ANONYMOUS = False

    assert client.get(STORIES, headers={"Authorization": "Basic c3RhZ2luZzpzZWNyZXQ="})["WWW-Authenticate"] == (
        'Bearer realm="api"'
    )


@pytest.mark.django_db
def test_pages_outside_the_api_are_left_alone(client, settings, published_article):
    settings.API_ANONYMOUS = False
    settings.API_CORS_ORIGINS = ["*"]

    response = client.get("/", headers={"Origin": APP})

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response
    assert "Authorization" not in response.get("Vary", "")


def test_the_key_is_stored_only_as_its_hash(partner):
    api_key, key = partner

    row = APIKey.objects.filter(pk=api_key.pk).values().get()
    assert key.startswith(f"nr_{api_key.prefix}_") and len(key) > 50
    assert not any(key in str(value) or key.rsplit("_", 1)[1] in str(value) for value in row.values())


def test_last_use_is_recorded(client, partner):
    api_key, key = partner
    assert APIKey.objects.get(pk=api_key.pk).last_used_at is None

    client.get(WHOAMI, headers=bearer(key))

    assert APIKey.objects.get(pk=api_key.pk).last_used_at is not None


def test_keys_never_reach_the_request_log(client, partner, caplog):
    api_key, key = partner

    with caplog.at_level(logging.INFO):
        client.get(WHOAMI, headers=bearer(key))
        client.get(WHOAMI, headers={"X-API-Key": key + "-wrong"})

    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert any("/api/v1/whoami/" in line for line in lines)
    assert not any(key.rsplit("_", 1)[1] in line for line in lines)


# The rate limit.


@pytest.mark.django_db
def test_one_request_too_many_is_answered_429_with_retry_after(client):
    api_key, key = APIKey.objects.issue(name="Aggregator", rate_limit=3)

    remaining = [client.get(WHOAMI, headers=bearer(key))["X-RateLimit-Remaining"] for _ in range(3)]
    refused = client.get(WHOAMI, headers=bearer(key))

    assert remaining == ["2", "1", "0"]
    body = refused_json(refused, 429)
    # One request every 20 s comes back to a key of 3 a minute.
    assert 19 <= int(refused["Retry-After"]) <= 20
    assert body["error"] == "rate_limited" and body["retry_after"] == int(refused["Retry-After"])
    assert refused["X-RateLimit-Limit"] == "3" and refused["X-RateLimit-Remaining"] == "0"


@pytest.mark.django_db
def test_a_refused_partner_is_answered_again_after_retry_after(client):
    """A burst of a minute's requests, then one a second for a key of 60 a minute; being refused costs nothing."""
    api_key, key = APIKey.objects.issue(name="Newsletter tool", rate_limit=60)
    started = time.monotonic()
    allowed = 0
    while (response := client.get(WHOAMI, headers=bearer(key))).status_code == 200:
        allowed += 1
    assert 60 <= allowed <= 60 + math.ceil(time.monotonic() - started)  # one more comes back each second
    assert response.status_code == 429 and response["Retry-After"] == "1"
    for _ in range(5):  # refused requests do not push the next allowed one further away
        assert client.get(WHOAMI, headers=bearer(key)).status_code == 429

    time.sleep(1.05)

    assert client.get(WHOAMI, headers=bearer(key)).status_code == 200


@pytest.mark.django_db
def test_each_key_has_its_own_limit_and_anonymous_readers_none(client):
    _, hasty = APIKey.objects.issue(name="Hasty", rate_limit=1)
    _, calm = APIKey.objects.issue(name="Calm", rate_limit=1)

    assert client.get(WHOAMI, headers=bearer(hasty)).status_code == 200
    assert client.get(WHOAMI, headers=bearer(hasty)).status_code == 429
    assert client.get(WHOAMI, headers=bearer(calm)).status_code == 200
    assert all(client.get(WHOAMI).status_code == 200 for _ in range(3))


@pytest.mark.django_db
def test_a_new_key_gets_the_default_limit_unless_the_editor_sets_its_own(settings, editor_client):
    settings.API_RATE_LIMIT = 250

    form = editor_client.get(reverse("admin:articles_apikey_add")).content.decode()
    editor_client.post(reverse("admin:articles_apikey_add"), {"name": "Own", "rate_limit": "30"})
    editor_client.post(reverse("admin:articles_apikey_add"), {"name": "Nonsense", "rate_limit": "0"})

    assert 'name="rate_limit" value="250"' in form
    assert APIKey.objects.issue(name="Default")[0].rate_limit == 250
    assert dict(APIKey.objects.values_list("name", "rate_limit")) == {"Own": 30, "Default": 250}


# The page cache: what is cached is shared, what differs per key or origin is added to each answer.


def test_a_cached_api_page_never_reaches_a_refused_request(client, settings, partner, published_article):
    settings.API_ANONYMOUS = False
    _, key = partner
    _, slow = APIKey.objects.issue(name="Slow", rate_limit=1)
    assert client.get(STORIES, headers=bearer(key))["X-Page-Cache"] == "miss"
    assert client.get(STORIES, headers=bearer(key))["X-Page-Cache"] == "hit"

    assert client.get(STORIES).status_code == 401
    assert client.get(STORIES, headers=bearer(key + "x")).status_code == 401
    assert client.get(STORIES, headers=bearer(slow))["X-Page-Cache"] == "hit"
    assert client.get(STORIES, headers=bearer(slow)).status_code == 429


def test_cached_api_pages_carry_each_requests_own_headers(client, settings, partner, published_article):
    settings.API_CORS_ORIGINS = [APP]
    _, key = partner
    _, other = APIKey.objects.issue(name="Other", rate_limit=7)

    first = client.get(STORIES, headers={**bearer(key), "Origin": APP})
    hit = client.get(STORIES, headers={**bearer(other), "Origin": "https://elsewhere.example"})
    anonymous = client.get(STORIES)

    assert first["X-Page-Cache"] == "miss" and hit["X-Page-Cache"] == anonymous["X-Page-Cache"] == "hit"
    assert first.content == hit.content == anonymous.content
    assert first["Access-Control-Allow-Origin"] == APP and "Access-Control-Allow-Origin" not in hit
    assert (first["X-RateLimit-Limit"], hit["X-RateLimit-Limit"]) == ("100", "7")
    assert "X-RateLimit-Limit" not in anonymous
    for response in (first, hit, anonymous):
        assert {"Origin", "Authorization", "X-API-Key"} <= {v.strip() for v in response["Vary"].split(",")}


def test_a_cached_page_still_answers_if_none_match_with_304(client, partner, published_article):
    _, key = partner
    etag = client.get(STORIES, headers=bearer(key))["ETag"]

    response = client.get(STORIES, headers={**bearer(key), "If-None-Match": etag})

    assert response.status_code == 304 and response["X-Page-Cache"] == "hit"


# CORS.


def test_an_allowed_origin_may_read_the_api(client, settings, partner):
    settings.API_CORS_ORIGINS = [APP, "https://other.example"]
    _, key = partner

    response = client.get(WHOAMI, headers={**bearer(key), "Origin": APP})

    assert response["Access-Control-Allow-Origin"] == APP
    assert "Origin" in response["Vary"]
    exposed = {name.strip() for name in response["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"ETag", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining"}
    assert "Access-Control-Allow-Credentials" not in response  # keys, not cookies


def test_another_origin_gets_no_cors_headers(client, settings, partner):
    settings.API_CORS_ORIGINS = [APP]

    response = client.get(WHOAMI, headers={"Origin": "https://evil.example"})

    assert response.status_code == 200
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]
    assert "Origin" in response["Vary"]


def test_without_cors_origins_no_origin_may_read_the_api(client, partner):
    response = client.get(WHOAMI, headers={"Origin": APP})

    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


def test_any_origin_with_a_star(client, settings, partner):
    settings.API_CORS_ORIGINS = ["*"]

    response = client.get(WHOAMI, headers={"Origin": "https://anyone.example"})

    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Origin" not in response["Vary"]


def test_a_preflight_is_answered_without_a_key(client, settings, partner):
    settings.API_CORS_ORIGINS = [APP]
    settings.API_ANONYMOUS = False
    preflight = {
        "Origin": APP,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }

    allowed = client.options(STORIES, headers=preflight)
    other = client.options(STORIES, headers={**preflight, "Origin": "https://evil.example"})

    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == APP
    assert allowed["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert {"Authorization", "If-None-Match"} <= {h.strip() for h in allowed["Access-Control-Allow-Headers"].split(",")}
    assert int(allowed["Access-Control-Max-Age"]) > 0
    assert not [name for name in other.headers if name.lower().startswith("access-control-")]


@pytest.mark.django_db
def test_refusals_carry_cors_headers_so_scripts_can_read_them(client, settings):
    settings.API_CORS_ORIGINS = [APP]
    _, key = APIKey.objects.issue(name="Widget", rate_limit=1)
    client.get(WHOAMI, headers=bearer(key))

    limited = client.get(WHOAMI, headers={**bearer(key), "Origin": APP})
    unknown = client.get(WHOAMI, headers={**bearer(key + "x"), "Origin": APP})

    assert limited.status_code == 429 and limited["Access-Control-Allow-Origin"] == APP
    assert "Retry-After" in limited["Access-Control-Expose-Headers"]
    assert unknown.status_code == 401 and unknown["Access-Control-Allow-Origin"] == APP


def test_the_api_settings_come_from_the_environment():
    env = production.production_env(
        DJANGO_DEBUG="true",
        DJANGO_API_ANONYMOUS="false",
        DJANGO_API_RATE_LIMIT="90",
        DJANGO_API_CORS_ORIGINS="https://app.example.com, https://partner.example:8443",
    )
    del env["REDIS_URL"]
    script = "import json; from django.conf import settings as s; "
    script += "print(json.dumps([s.API_ANONYMOUS, s.API_RATE_LIMIT, s.API_CORS_ORIGINS]))"

    assert production.shell(script, env) == [False, 90, ["https://app.example.com", "https://partner.example:8443"]]
    refused = production.manage("check", env={**env, "DJANGO_API_RATE_LIMIT": "0"}, check=False)
    assert refused.returncode != 0 and "DJANGO_API_RATE_LIMIT must be at least 1" in refused.stderr


@pytest.mark.parametrize("origins", ["https://app.example.com/", "app.example.com", "https://", "ftp://x.example"])
def test_a_cors_setting_that_is_not_an_origin_stops_the_site_starting(origins):
    env = production.production_env(DJANGO_DEBUG="true", DJANGO_API_CORS_ORIGINS=f"https://ok.example,{origins}")
    del env["REDIS_URL"]

    result = production.manage("check", env=env, check=False)

    assert result.returncode != 0
    assert f"DJANGO_API_CORS_ORIGINS: {origins!r}" in result.stderr


# The admin.


def test_an_editor_issues_a_key_and_sees_it_once(editor_client, editor, client):
    response = editor_client.post(reverse("admin:articles_apikey_add"), {"name": "Wire Partner", "rate_limit": "120"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["key"]
    api_key = APIKey.objects.get()
    assert key in response.content.decode() and key.startswith(f"nr_{api_key.prefix}_")
    assert (api_key.name, api_key.rate_limit, api_key.created_by) == ("Wire Partner", 120, editor)
    assert client.get(WHOAMI, headers=bearer(key)).json()["partner"] == "Wire Partner"
    secret = key.rsplit("_", 1)[1]
    for page in [
        reverse("admin:articles_apikey_changelist"),
        reverse("admin:articles_apikey_change", args=[api_key.pk]),
    ]:
        html = editor_client.get(page).content.decode()
        assert api_key.prefix in html and secret not in html


def test_an_editor_renames_a_key_without_touching_its_count(editor_client, client):
    api_key, key = APIKey.objects.issue(name="Old name", rate_limit=2)
    client.get(WHOAMI, headers=bearer(key))
    change = reverse("admin:articles_apikey_change", args=[api_key.pk])
    editor_client.get(change)
    client.get(WHOAMI, headers=bearer(key))  # used up while the editor had the form open

    editor_client.post(change, {"name": "New name", "rate_limit": "2"})

    assert APIKey.objects.get(pk=api_key.pk).name == "New name"
    assert client.get(WHOAMI, headers=bearer(key)).status_code == 429


def test_an_editor_revokes_a_key_after_confirming(editor_client, client, partner):
    api_key, key = partner
    changelist = reverse("admin:articles_apikey_changelist")
    action = {"action": "revoke_selected", "_selected_action": [api_key.pk]}

    confirmation = editor_client.post(changelist, action)
    assert confirmation.status_code == 200 and "Revoke 1 API key?" in confirmation.content.decode()
    assert client.get(WHOAMI, headers=bearer(key)).status_code == 200  # not before confirming

    editor_client.post(changelist, {**action, "confirm": "yes"})

    assert APIKey.objects.get(pk=api_key.pk).revoked
    assert client.get(WHOAMI, headers=bearer(key)).status_code == 401


def test_a_revoked_key_cannot_be_edited_back_into_use(editor_client, client, partner):
    api_key, key = partner
    APIKey.objects.filter(pk=api_key.pk).revoke()
    change = reverse("admin:articles_apikey_change", args=[api_key.pk])

    assert editor_client.get(change).status_code == 200  # it can be looked at
    editor_client.post(change, {"name": "Back again", "rate_limit": "100", "revoked_at": ""})

    assert APIKey.objects.get(pk=api_key.pk).name == "Morning Paper app"
    assert APIKey.objects.get(pk=api_key.pk).revoked
    assert client.get(WHOAMI, headers=bearer(key)).status_code == 401


def test_the_desk_lists_keys_in_use_or_revoked(editor_client):
    APIKey.objects.issue(name="Still reading")
    gone, _ = APIKey.objects.issue(name="Contract ended")
    APIKey.objects.filter(pk=gone.pk).revoke()
    changelist = reverse("admin:articles_apikey_changelist")

    in_use = editor_client.get(changelist, {"status": "active"}).content.decode()
    revoked = editor_client.get(changelist, {"status": "revoked"}).content.decode()

    assert "Still reading" in in_use and "Contract ended" not in in_use
    assert "Contract ended" in revoked and "Still reading" not in revoked


def test_reporters_cannot_see_keys(reporter_client, partner):
    api_key, _ = partner

    assert reporter_client.get(reverse("admin:articles_apikey_changelist")).status_code == 403
    assert reporter_client.get(reverse("admin:articles_apikey_add")).status_code == 403
    assert reporter_client.get(reverse("admin:articles_apikey_change", args=[api_key.pk])).status_code == 403
    assert (
        reporter_client.post(reverse("admin:articles_apikey_add"), {"name": "Mine", "rate_limit": "5"}).status_code
        == 403
    )
    assert APIKey.objects.count() == 1


def test_the_key_list_shows_what_the_desk_needs_in_a_few_queries(editor_client, editor, django_assert_max_num_queries):
    for n in range(30):
        APIKey.objects.issue(name=f"Partner {n}", created_by=editor)

    with django_assert_max_num_queries(12):
        html = editor_client.get(reverse("admin:articles_apikey_changelist")).content.decode()

    assert "Partner 29" in html and "Partner 0" in html


# Across processes: the limit holds in the default set-up (no Redis, each worker its own memory).


def issue_key(env, limit):
    """A key made in the site's database by a process of its own, as an editor's would be."""
    return production.shell(
        "import json; from articles.models import APIKey; "
        f"print(json.dumps(APIKey.objects.issue(name='Partner', rate_limit={limit})[1]))",
        env,
    )


@pytest.mark.production
@pytest.mark.parametrize("database", production.DATABASES)
def test_two_workers_share_a_keys_limit(tmp_path, database):
    limit = 6
    with production.site_env(database, tmp_path, DJANGO_SETTINGS_MODULE="tests.api_settings") as env:
        key = issue_key(env, limit)
        port = production.free_port()
        with production.gunicorn(port, env, workers=2):
            # Both workers up: anonymous requests (no per-key limit) until two processes have answered.
            pids, deadline = set(), time.monotonic() + 30
            while len(pids) < 2 and time.monotonic() < deadline:
                with ThreadPoolExecutor(4) as pool:
                    pids |= {
                        json.loads(r.body)["pid"]
                        for r in pool.map(lambda _: production.http_get(port, WHOAMI + "?sleep=0.2"), range(4))
                    }
            assert len(pids) == 2

            # Four at a time, each holding its worker a moment: both workers answer the partner.
            headers = {**production.THROUGH_THE_LOAD_BALANCER, **bearer(key)}
            with ThreadPoolExecutor(4) as pool:
                responses = list(
                    pool.map(lambda _: production.http_get(port, WHOAMI + "?sleep=0.2", headers), range(3 * limit))
                )

    answered = [json.loads(r.body)["pid"] for r in responses if r.status == 200]
    refused = [r for r in responses if r.status == 429]
    assert len(answered) == limit and len(refused) == 2 * limit
    assert len(set(answered)) == 2
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)


@contextlib.contextmanager
def import_writing(env):
    """Another process in the middle of an import's writing transaction (on SQLite: the file's write lock)."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        other = psycopg.connect(url)
    other.execute("UPDATE articles_section SET name = name")
    try:
        yield
    finally:
        other.rollback()
        other.close()


@pytest.mark.production
@pytest.mark.parametrize("database", production.DATABASES)
def test_a_partner_is_answered_promptly_while_an_import_writes(tmp_path, database):
    """On SQLite an import holds the write lock for as long as it writes: a key's requests go uncounted meanwhile
    rather than waiting for it, as readers' do; PostgreSQL counts them as usual."""
    with production.site_env(database, tmp_path, DJANGO_SETTINGS_MODULE="tests.api_settings") as env:
        key = issue_key(env, 2)
        port = production.free_port()
        headers = {**production.THROUGH_THE_LOAD_BALANCER, **bearer(key)}
        with production.gunicorn(port, env), import_writing(env):
            took, statuses = [], []
            for _ in range(3):
                started = time.monotonic()
                statuses.append(production.http_get(port, WHOAMI, headers).status)
                took.append(time.monotonic() - started)

    assert statuses == ([200, 200, 200] if database == "sqlite" else [200, 200, 429])
    assert max(took) < 1.5, took


# The real API behind the access layer (the tests above use stand-ins for its views).


@pytest.mark.urls("newsroom.urls")
def test_the_real_api_with_anonymous_access_off_needs_a_key_but_not_for_its_description(
    client, settings, published_article, draft_article
):
    settings.API_ANONYMOUS = False
    api_key, key = APIKey.objects.issue(name="Partner", rate_limit=3)
    story = f"/api/v1/stories/{published_article.pk}/"

    refused_json(client.get("/api/v1/stories/"), 401)
    refused_json(client.get(story), 401)
    for open_path in ["/api/v1/openapi.json", "/api/v1/docs/", "/api/v1/schemas/ninjs-2.2.json"]:
        assert client.get(open_path).status_code == 200, open_path

    listing = client.get("/api/v1/stories/", headers=bearer(key))
    assert listing.status_code == 200
    headlines = json.dumps(listing.json(), ensure_ascii=False)
    assert published_article.headline in headlines and draft_article.headline not in headlines
    # A key sees no more than anyone.
    assert client.get(f"/api/v1/stories/{draft_article.pk}/", headers=bearer(key)).status_code == 404
    # The third request a minute is the last: the page cache answers it, and it is counted all the same.
    assert client.get("/api/v1/stories/", headers=bearer(key)).status_code == 200
    limited = client.get("/api/v1/stories/", headers=bearer(key))
    assert refused_json(limited, 429)["error"] == "rate_limited" and int(limited["Retry-After"]) >= 1

    APIKey.objects.filter(pk=api_key.pk).revoke()
    refused_json(client.get(story, headers=bearer(key)), 401)
