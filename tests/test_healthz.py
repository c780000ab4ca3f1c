import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

UNREACHABLE_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
}


@pytest.mark.django_db
def test_healthz_answers_ok_when_database_and_cache_answer(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in response.headers["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_degraded_but_up_when_only_the_cache_is_down(client, settings):
    # Pages still work without Redis (only slower): the load balancer must keep this server.
    settings.CACHES = UNREACHABLE_REDIS

    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "error"}


def test_healthz_is_unavailable_when_the_database_is_down():
    # A fresh process, pointed at a PostgreSQL port nobody listens on.
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "response = Client(HTTP_HOST='localhost').get('/healthz');"
        "print(response.status_code, response.content.decode())"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))}
    env.update(DATABASE_URL="postgres://nobody@127.0.0.1:9/nothing", DJANGO_SETTINGS_MODULE="newsroom.settings")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )

    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {"status": "error", "database": "error", "cache": "ok"}
