import json
import logging
import sys

import pytest
from django.core.management import call_command
from django.urls import reverse

from newsroom.logging import JsonFormatter

from .conftest import SAMPLE


def as_json(record):
    return json.loads(JsonFormatter().format(record))


@pytest.mark.django_db
def test_each_request_is_logged_as_one_json_line(client, caplog, published_article):
    with caplog.at_level(logging.INFO, logger="newsroom.request"):
        client.get(reverse("articles:index"), REMOTE_ADDR="203.0.113.7")

    (record,) = [r for r in caplog.records if r.name == "newsroom.request"]
    line = as_json(record)
    assert line["level"] == "INFO"
    assert line["method"] == "GET"
    assert line["path"] == "/"
    assert line["status"] == 200
    assert line["client_ip"] == "203.0.113.7"
    assert line["user_id"] is None
    assert line["duration_ms"] >= 0
    assert line["page_cache"] == "miss"


@pytest.mark.django_db
def test_missing_pages_are_logged_as_warnings(client, caplog):
    with caplog.at_level(logging.INFO, logger="newsroom.request"):
        client.get("/no-such-section/")

    (record,) = [r for r in caplog.records if r.name == "newsroom.request"]
    assert as_json(record)["level"] == "WARNING"
    assert as_json(record)["status"] == 404


@pytest.mark.django_db
def test_an_import_logs_what_it_did(caplog):
    with caplog.at_level(logging.INFO, logger="newsroom.import"):
        call_command("import_dump", str(SAMPLE), verbosity=0)

    (record,) = [r for r in caplog.records if r.name == "newsroom.import"]
    line = as_json(record)
    assert line["files"] == [str(SAMPLE)]
    assert line["dry_run"] is False
    assert line["stories"]["created"] > 0
    assert line["stories"]["errors"] == 0


def test_log_lines_keep_exceptions_and_non_ascii_text():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "newsroom.test", logging.ERROR, __file__, 1, "import of %s failed", ("أخبار.txt",), sys.exc_info()
        )

    line = as_json(record)

    assert line["message"] == "import of أخبار.txt failed"
    assert "ValueError: boom" in line["exception"]
