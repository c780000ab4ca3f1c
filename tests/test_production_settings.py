"""The settings as production runs them: each case starts manage.py in a fresh process with its own environment."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.production

GOOD_KEY = "k3y-" + "x7Qp" * 15
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": GOOD_KEY,
    "DJANGO_ALLOWED_HOSTS": "news.example.com",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
}


def manage(*args, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "django-insecure-dev-only-newsroom-key"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "too-short"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ALLOWED_HOSTS": " , "}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ALLOWED_HOSTS": "*"}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ADMIN_URL": "/"}, "DJANGO_ADMIN_URL"),
    ],
    ids=["no key", "development key", "short key", "no hosts", "blank hosts", "any host", "admin at root"],
)
def test_production_refuses_to_start_with_insecure_settings(change, complaint):
    env = {**PRODUCTION, **change}
    result = manage("check", **{k: v for k, v in env.items() if v is not None})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


def test_check_deploy_has_nothing_to_warn_about_without_redis():
    """Without Redis each worker caches pages in its own memory, and they still follow every change (the
    versions are in the database): one machine needs no extra server to be correct."""
    result = manage("check", "--deploy", **{**PRODUCTION, "REDIS_URL": ""})

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_development_settings_start_without_any_environment():
    result = manage("check")

    assert result.returncode == 0, result.stderr


def test_admin_moves_to_the_url_set_in_the_environment():
    script = "from django.urls import reverse; print(reverse('admin:index'))"
    result = manage("shell", "--no-imports", "-c", script, DJANGO_ADMIN_URL="/desk-7f3a/")

    assert result.stdout.strip() == "/desk-7f3a/"
