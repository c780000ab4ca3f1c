"""The production settings with tests/api_urls.py's stand-ins for the API's views, for app servers started by
tests (DJANGO_SETTINGS_MODULE=tests.api_settings)."""

from newsroom.settings import *  # noqa: F403

ROOT_URLCONF = "tests.api_urls"
