"""Production settings plus a trivial view, the baseline every page figure is divided by."""

from newsroom.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
