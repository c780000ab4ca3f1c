"""What an importer notices when a dump is too large in some way: a line, a story, the whole dump, an upload.

Each is refused with `file:line: problem`, and nothing is written unless --skip-invalid skips an invalid
story. Speed and memory are measured by `make bench` (bench/limits.py), not asserted here.
"""

import gzip
import io
import subprocess
import sys
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.models import Article, ImportedDump

from .conftest import SAMPLE
from .jobs import post
from .production import BASE_DIR, manage, migrated_database, production_env

SAMPLE_STORIES = 4


def story(headline, paragraphs):
    """A story without a photo: the headline twice, then its paragraphs."""
    return f"{headline}\n\n{headline}\n\n" + "\n\n".join(paragraphs) + "\n"


def dump_with(extra_story):
    """The sample's four stories, then one more; the extra story's headline is on this line."""
    sample = SAMPLE.read_text()
    line = sample.count("\n") + 4
    return sample + "\n\n\n" + extra_story, line


def distinct_words(size):
    """Text of `size` bytes or more in which no word repeats: the worst case for a search index."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words, n = [], 0
    total = 0
    while total < size:
        word, i = "", n
        while True:
            word += letters[i % 26]
            i //= 26
            if not i:
                break
        words.append("q" + word)  # no stop words, no single letters
        total += len(word) + 2
        n += 1
    return " ".join(words)


def paragraphs_of(text, words=1000):
    split = text.split()
    return [" ".join(split[i : i + words]) for i in range(0, len(split), words)]


def import_file(tmp_path, content, name="dump.txt", **options):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    out, err = io.StringIO(), io.StringIO()
    call_command("import_dump", str(path), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_a_story_over_the_size_limit_is_refused_with_its_line(section, tmp_path, settings):
    settings.IMPORT_MAX_STORY_KB = 64
    paragraphs = [f"Paragraph {n} of a story that goes on and on, longer than any dispatch." for n in range(2000)]
    dump, line = dump_with(story("An Endless Dispatch", paragraphs))

    with pytest.raises(CommandError) as refused:
        import_file(tmp_path, dump)

    assert str(refused.value).startswith(f"{tmp_path / 'dump.txt'}:{line}: story longer than the 64 KB limit")
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_a_line_over_the_size_limit_is_refused_with_its_line(section, tmp_path):
    dump, line = dump_with(story("One Enormous Paragraph", ["Short lede.", "word " * 20_000]))  # 100 KB line

    with pytest.raises(CommandError) as refused:
        import_file(tmp_path, dump)

    assert f"dump.txt:{line + 6}: line longer than the 64 KB limit" in str(refused.value)
    assert not Article.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "too_large, problem",
    [
        (story("An Endless Dispatch", ["A paragraph that repeats itself. " * 200] * 100), "story longer than"),
        (story("One Enormous Paragraph", ["word " * 20_000]), "line longer than"),
    ],
)
def test_skip_invalid_skips_a_story_too_large_and_imports_the_rest(section, tmp_path, too_large, problem):
    dump, line = dump_with(too_large)
    dump += "\n\n\n" + story("A Story After the Large One", ["It arrives all the same."])

    out, err = import_file(tmp_path, dump, skip_invalid=True)

    assert out.strip() == f"created {SAMPLE_STORIES + 1}, updated 0, unchanged 0, conflicts 0, errors 1"
    [skipped] = err.splitlines()
    assert skipped.startswith(f"skipped: {tmp_path / 'dump.txt'}:")
    assert problem in skipped
    assert int(skipped.split(":")[2]) in {line, line + 4}  # the story's headline, or its long line
    assert Article.objects.filter(headline="A Story After the Large One").exists()


def gzip_bomb(path, prefix, filler, size):
    """A small .gz of `prefix` followed by `filler` repeated up to `size` bytes: compressed as it is written."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    block = filler * max(1, (1 << 20) // len(filler))
    with open(path, "wb") as out:
        out.write(compressor.compress(prefix))
        for _ in range(size // len(block)):
            out.write(compressor.compress(block))
        out.write(compressor.flush())
    return path


@pytest.mark.django_db
@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_gzip_bomb_is_refused_at_the_dump_limit_and_nothing_is_written(section, tmp_path, settings, skip_invalid):
    settings.IMPORT_MAX_DUMP_MB = 2
    # Valid stories, then the same stories again and again: 64 MB once decompressed.
    bomb = gzip_bomb(tmp_path / "wire.gz", b"", SAMPLE.read_bytes() + b"\n\n\n", 64 << 20)
    assert bomb.stat().st_size < 1 << 20

    with pytest.raises(CommandError) as refused:
        call_command("import_dump", str(bomb), skip_invalid=skip_invalid, stdout=io.StringIO())

    message = str(refused.value)
    assert message.startswith(f"{bomb}:")
    assert "dump larger than the 2 MB limit (decompressed)" in message
    assert not Article.objects.exists() and not ImportedDump.objects.exists()


@pytest.mark.django_db
def test_a_dump_of_only_newlines_imports_nothing(section, tmp_path):
    dump = gzip_bomb(tmp_path / "newlines.gz", b"", b"\n", 200 << 20)

    with pytest.raises(CommandError) as refused:
        call_command("import_dump", str(dump), stdout=io.StringIO())

    assert str(refused.value).startswith(f"{dump}:1: empty file: no stories found")
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_a_wall_of_text_without_a_blank_line_is_refused_at_its_first_line(section, tmp_path):
    """The dump that took a dry run to 2.2 GB: the story is refused once it passes the limit, not at its end."""
    line = b"Lines and lines of copy without a blank line between them, on and on.\n"
    dump = gzip_bomb(tmp_path / "wall.gz", b"", line, 64 << 20)

    with pytest.raises(CommandError) as refused:
        call_command("import_dump", str(dump), dry_run=True, stdout=io.StringIO())

    assert str(refused.value).startswith(f"{dump}:1: story longer than the 256 KB limit")


@pytest.mark.django_db
def test_headlines_that_slugify_alike_get_distinct_slugs_without_a_query_each(make_article, tmp_path):
    make_article("Storm Hits the Coast", slug="storm-hits-the-coast")
    make_article("Storm Hits the Coast, Again", slug="storm-hits-the-coast-3")
    marks = "!?.,;:"
    headlines = []
    for n in range(1200):  # more than two batches
        tail = ""
        while True:
            tail += marks[n % len(marks)]
            n //= len(marks)
            if not n:
                break
        headlines.append(f"Storm Hits the Coast {tail}")
    dump = "\n\n\n".join(story(headline, ["Waves reached the promenade."]) for headline in headlines)

    with CaptureQueriesContext(connection) as queries:
        out, _ = import_file(tmp_path, dump)

    assert out.strip() == "created 1200, updated 0, unchanged 0, conflicts 0, errors 0"
    slugs = list(Article.objects.values_list("slug", flat=True))
    assert len(set(slugs)) == 1202
    assert {"storm-hits-the-coast-2", "storm-hits-the-coast-4", "storm-hits-the-coast-1201"} <= set(slugs)
    assert len(queries) < 60  # a query per collision was 1,200 more


@pytest.mark.django_db
def test_a_megabyte_of_distinct_words_is_refused_cleanly_with_its_line(section, tmp_path):
    """PostgreSQL cannot index it (a tsvector holds at most 1 MB): the size limit refuses it first, on both."""
    dump, line = dump_with(story("Every Word Once", paragraphs_of(distinct_words(1 << 20))))
    dump += "\n\n\n" + story("A Story After the Large One", ["It arrives all the same."])

    out, err = import_file(tmp_path, dump, skip_invalid=True)

    assert err.strip() == f"skipped: {tmp_path / 'dump.txt'}:{line}: story longer than the 256 KB limit"
    assert out.strip() == f"created {SAMPLE_STORIES + 1}, updated 0, unchanged 0, conflicts 0, errors 1"


@pytest.mark.django_db
def test_a_story_just_under_the_size_limit_of_distinct_words_imports_and_is_found(section, tmp_path):
    """The worst case for PostgreSQL's search index, at the limit: indexed, not refused by the database."""
    out, _ = import_file(tmp_path, story("Every Word Once", paragraphs_of(distinct_words(250_000))))

    assert out.strip() == "created 1, updated 0, unchanged 0, conflicts 0, errors 0"
    assert Article.objects.get().body.count(" ") > 30_000


IMPORT = reverse("admin:articles_article_import")


@pytest.mark.django_db
def test_the_import_page_refuses_an_upload_over_the_limit_and_keeps_no_file(editor_client, settings, tmp_path):
    imports, uploads = tmp_path / "imports", tmp_path / "uploads"
    uploads.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "imports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": imports}},
    }
    settings.IMPORT_MAX_UPLOAD_MB = 1
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes to a temporary file first
    settings.FILE_UPLOAD_TEMP_DIR = str(uploads)
    too_large = SAMPLE.read_bytes() * 130  # 2.2 MB

    page = editor_client.post(
        IMPORT, {"dump": SimpleUploadedFile("wire.txt", too_large), "section": "", "status": "draft"}
    )

    assert page.status_code == 200
    assert "The dump is larger than 1 MB, the most this page accepts." in page.content.decode()
    assert "Dry run" not in page.content.decode()
    assert not any(imports.rglob("*")) and not any(uploads.iterdir())
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_the_import_page_still_takes_an_upload_under_the_limit(editor_client, settings, tmp_path, immediate_tasks):
    settings.STORAGES = {
        **settings.STORAGES,
        "imports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    settings.IMPORT_MAX_UPLOAD_MB = 1
    data = {"dump": SimpleUploadedFile("wire.txt.gz", gzip.compress(SAMPLE.read_bytes())), "status": "draft"}

    page = post(editor_client, IMPORT, {**data, "section": ""})

    assert "would have created 4," in page.content.decode()


@pytest.mark.production
def test_two_imports_of_the_same_dump_at_once_both_succeed_and_one_finds_it_unchanged(tmp_path):
    """On PostgreSQL, two real `import_dump` processes at once: the second waits for the first, then finds
    the dump in the ledger. (SQLite's write lock serialises them anyway.)"""
    sys.path.insert(0, str(BASE_DIR))
    from bench import corpus

    dump = tmp_path / "wire.txt"
    with open(dump, "w", encoding="utf-8", newline="") as out:
        corpus.write(out, 2000)
    with migrated_database("postgres", tmp_path) as database_url:
        env = production_env(DATABASE_URL=database_url)
        del env["REDIS_URL"]
        command = [sys.executable, "manage.py", "import_dump", str(dump)]
        runs = [
            subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        results = [(run.wait(timeout=300), *run.communicate()) for run in runs]

    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    said = sorted(out.strip() for _, out, _ in results)
    assert said == [
        "created 0, updated 0, unchanged 2000, conflicts 0, errors 0",
        "created 2000, updated 0, unchanged 0, conflicts 0, errors 0",
    ]


def test_the_limits_come_from_the_environment():
    names = ["IMPORT_MAX_LINE_KB", "IMPORT_MAX_STORY_KB", "IMPORT_MAX_DUMP_MB", "IMPORT_MAX_UPLOAD_MB"]
    code = f"from django.conf import settings; print(*(getattr(settings, n) for n in {names}))"
    env = {
        **production_env(DJANGO_DEBUG="true"),
        "DJANGO_IMPORT_MAX_LINE_KB": "8",
        "DJANGO_IMPORT_MAX_STORY_KB": "100",
        "DJANGO_IMPORT_MAX_DUMP_MB": "50",
        "DJANGO_IMPORT_MAX_UPLOAD_MB": "5",
    }
    result = manage("shell", "--no-imports", "-c", code, env=env)
    assert result.stdout.split() == ["8", "100", "50", "5"]
