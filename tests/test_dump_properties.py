"""Property-based tests: no input, however mangled, makes the parser or import_dump crash."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.dump import DumpError, StoryRecord, parse
from articles.models import Article

from .conftest import SAMPLE

SAMPLE_LINES = SAMPLE.read_text().split("\n")[:40]

# Lines that look like the format (headlines, captions, markers, blanks) mixed with arbitrary text.
line = st.one_of(
    st.sampled_from(SAMPLE_LINES + ["TT", "", " ", "\u00a0", "(Reuters)", "()", "TT TT"]),
    st.text(max_size=40),
)
dump_text = st.lists(line, max_size=60).map("\n".join)
dump_bytes = st.one_of(
    dump_text.map(lambda text: text.encode()),
    dump_text.map(lambda text: "\ufeff" + text.replace("\n", "\r\n")).map(lambda text: text.encode()),
    st.binary(max_size=300),
)


@given(dump_bytes)
@settings(max_examples=400, deadline=None)
def test_parser_never_raises_and_locates_every_error(data):
    for item in parse(io.BytesIO(data), "fuzz.txt"):
        assert isinstance(item, StoryRecord | DumpError)
        if isinstance(item, DumpError):
            assert item.line >= 1 and str(item).startswith(f"fuzz.txt:{item.line}: ")
        else:
            assert item.headline and item.paragraphs
            assert all(p.strip() == p and p for p in item.paragraphs)


@given(st.lists(st.sampled_from(SAMPLE_LINES), min_size=1, max_size=40))
@settings(max_examples=200, deadline=None)
def test_parsing_is_blind_to_line_endings_bom_and_spacing(lines):
    text = "\n".join(lines)
    messy = "\ufeff" + "\r\n".join(f" {line}\u00a0 " for line in lines)

    def parsed(data):
        return [
            (item.headline, item.captions, item.paragraphs) if isinstance(item, StoryRecord) else item.message
            for item in parse(io.BytesIO(data.encode()), "x")
        ]

    assert parsed(text) == parsed(messy)


@pytest.mark.django_db
@given(dump_bytes, st.booleans())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_import_dump_ends_in_success_or_clean_error(tmp_path, data, skip_invalid):
    path = tmp_path / "fuzz.txt"
    path.write_bytes(data)
    before = Article.objects.count()
    try:
        call_command("import_dump", str(path), skip_invalid=skip_invalid, stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError as exc:
        assert "fuzz.txt:" in str(exc)
        assert Article.objects.count() == before  # nothing written
