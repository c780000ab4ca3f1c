"""import_dump end to end: what lands in the database, and what never does."""

import gzip
import io
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from articles.imports import import_run
from articles.models import Article, Caption, Photo, RoutingRule, Section

from .conftest import DATA, SAMPLE


def import_dump(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_dump", *map(str, args), stdout=out, stderr=err, **options)
    return out.getvalue() + err.getvalue()


def snapshot():
    """Everything an import could touch, for before/after comparisons."""
    return (
        list(Article.objects.order_by("pk").values()),
        list(Caption.objects.order_by("pk").values()),
        list(Photo.objects.order_by("pk").values()),
    )


@pytest.mark.django_db
def test_sample_round_trip_stores_every_paragraph_caption_and_credit_once():
    output = import_dump(SAMPLE)
    assert "created 4, updated 0, unchanged 0, conflicts 0, errors 0" in output
    raw = SAMPLE.read_text()
    for article in Article.objects.prefetch_related("captions__photo"):
        assert article.status == Article.Status.DRAFT
        assert raw.count(article.paragraphs[0]) >= 1
        # Each paragraph stored once, none of them the headline or caption.
        assert len(article.paragraphs) == len(set(article.paragraphs))
        assert article.headline not in article.paragraphs
        [caption] = article.captions.all()
        assert caption.is_lead and caption.photo.credit and caption.text.endswith(".")
        assert f"{caption.text} ({caption.photo.credit})" in raw
    niger = Article.objects.get(headline__startswith="Niger")
    assert len(niger.paragraphs) == 25
    assert niger.body.count("Residents said the price of goods is rising") == 1
    assert Photo.objects.count() == Caption.objects.count() == 4


@pytest.mark.django_db
def test_sample_stories_land_where_an_editor_would_put_them():
    import_dump(SAMPLE)
    sections = dict(Article.objects.values_list("headline", "section__slug"))
    assert sections == {
        "Niger’s Junta Asks for Help from Russian Group Wagner as It Faces Military Intervention Threat": "africa",
        "Israel Says it Is Facing an ‘Existential Threat’ as Iran Builds up its Military Capacities": "middle-east",
        "Moscow Car Blast Kills Russian General": "europe",
        "Iran Does Not Rule Out New Israeli Attacks against it": "middle-east",
    }


@pytest.mark.django_db
def test_routing_rules_edited_by_editors_take_effect():
    sport = Section.objects.create(name="Sport", slug="sport")
    RoutingRule.objects.create(keyword="general", section=sport, weight=20)
    import_dump(SAMPLE)
    assert Article.objects.get(headline__startswith="Moscow").section == sport


@pytest.mark.django_db
def test_unmatched_story_goes_to_the_default_section():
    import_dump(DATA / "spacing.txt")  # mentions Moscow
    RoutingRule.objects.all().delete()
    import_dump(DATA / "no_photo.txt")
    assert Article.objects.get(headline__startswith="Gunmen").section.slug == "world"


@pytest.mark.django_db
def test_section_option_puts_whole_dump_in_one_section():
    import_dump(SAMPLE, section="asia")
    assert set(Article.objects.values_list("section__slug", flat=True)) == {"asia"}


@pytest.mark.django_db
def test_unknown_section_is_refused():
    with pytest.raises(CommandError, match="unknown section 'sports'"):
        import_dump(SAMPLE, section="sports")
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_status_published_makes_stories_visible():
    import_dump(SAMPLE, status="published")
    assert Article.objects.published().count() == 4


@pytest.mark.django_db
def test_reimport_changes_nothing_not_even_updated_time():
    import_dump(SAMPLE)
    before = snapshot()
    output = import_dump(SAMPLE)
    assert "created 0, updated 0, unchanged 4" in output
    assert snapshot() == before


@pytest.mark.django_db
def test_reimport_of_copy_with_other_line_endings_bom_and_spacing_changes_nothing(tmp_path):
    import_dump(SAMPLE)
    before = snapshot()
    messy = tmp_path / "messy.txt"
    text = SAMPLE.read_text().replace("\n", "  \r\n").replace(" the ", " the\u00a0")
    messy.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert "unchanged 4" in import_dump(messy)
    assert snapshot() == before


@pytest.mark.django_db
def test_story_changed_at_source_is_updated(tmp_path):
    import_dump(SAMPLE)
    article = Article.objects.get(headline__startswith="Moscow")
    changed = tmp_path / "changed.txt"
    changed.write_text(SAMPLE.read_text().replace("A senior Russian general", "A senior Russian army general"))
    output = import_dump(changed)
    assert "created 0, updated 1, unchanged 3" in output
    article.refresh_from_db()
    assert article.paragraphs[0].startswith("A senior Russian army general")
    assert article.version == 2
    assert "updated 0, unchanged 4" in import_dump(changed)


@pytest.mark.django_db
def test_caption_and_credit_changed_at_source_are_updated_in_place_and_found_by_search(client, tmp_path):
    import_dump(SAMPLE, status="published")
    caption = Caption.objects.select_related("photo").get(article__headline__startswith="Moscow")
    others = list(Caption.objects.exclude(pk=caption.pk).values_list("pk", "text", "photo__credit"))
    changed = tmp_path / "changed.txt"
    text = SAMPLE.read_text().replace("An investigator works at the scene", "A forensic team works at the scene")
    changed.write_text(text.replace("(Russia's Investigative Committee/Handout via Reuters)", "(Handout via Reuters)"))

    assert "created 0, updated 1, unchanged 3" in import_dump(changed)

    updated = Caption.objects.select_related("photo").get(pk=caption.pk)
    assert updated.text.startswith("A forensic team works") and updated.photo_id == caption.photo_id
    assert updated.photo.credit == "Handout via Reuters"
    assert list(Caption.objects.exclude(pk=caption.pk).values_list("pk", "text", "photo__credit")) == others
    page = client.get("/search/", {"q": "forensic"}).content.decode()
    assert "Moscow Car Blast Kills Russian General" in page


@pytest.mark.django_db
def test_editor_change_is_kept_and_reported_as_conflict(tmp_path):
    import_dump(SAMPLE)
    article = Article.objects.get(headline__startswith="Moscow")
    article.body = article.body.replace("southern Moscow", "south Moscow")
    article.save()
    changed = tmp_path / "changed.txt"
    changed.write_text(SAMPLE.read_text().replace("A senior Russian general", "A senior Russian army general"))
    output = import_dump(changed)
    assert "conflicts 1" in output
    assert "Moscow Car Blast Kills Russian General" in output and "editor" in output
    article.refresh_from_db()
    assert "south Moscow" in article.body
    assert "army general" not in article.body


@pytest.mark.django_db
def test_editor_caption_change_is_a_conflict_too(tmp_path):
    import_dump(SAMPLE)
    caption = Caption.objects.get(article__headline__startswith="Moscow")
    caption.text = "A better caption."
    caption.save()
    changed = tmp_path / "changed.txt"
    changed.write_text(SAMPLE.read_text().replace("A senior Russian general", "A senior Russian army general"))
    assert "conflicts 1" in import_dump(changed)
    assert Caption.objects.get(pk=caption.pk).text == "A better caption."


@pytest.mark.django_db
def test_unchanged_story_edited_by_editor_is_left_alone():
    import_dump(SAMPLE)
    article = Article.objects.get(headline__startswith="Moscow")
    article.body += "\n\nAn editor's addition."
    article.save()
    output = import_dump(SAMPLE)
    assert "unchanged 4, conflicts 0" in output
    article.refresh_from_db()
    assert article.body.endswith("An editor's addition.")


@pytest.mark.django_db
def test_variants_import(tmp_path):
    for name in ["crlf_bom.txt", "caption_once.txt", "no_photo.txt", "arabic.txt"]:
        shutil.copy(DATA / name, tmp_path / name)
    assert "created 4" in import_dump(tmp_path)
    arabic = Article.objects.get(language="ar")
    assert arabic.direction == "rtl"
    assert arabic.section.slug == "middle-east"
    assert arabic.slug.startswith("الأمم-المتحدة")
    assert not Article.objects.get(headline__startswith="Gunmen").captions.exists()


@pytest.mark.django_db
def test_gzip_and_stdin(tmp_path, monkeypatch):
    compressed = tmp_path / "dump.gz"
    compressed.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert "created 4" in import_dump(compressed)
    stdin = io.TextIOWrapper(io.BytesIO((DATA / "arabic.txt").read_bytes()))
    monkeypatch.setattr("sys.stdin", stdin)
    assert "created 1" in import_dump("-")
    stdin = io.TextIOWrapper(io.BytesIO(gzip.compress((DATA / "no_photo.txt").read_bytes())))
    monkeypatch.setattr("sys.stdin", stdin)
    assert "created 1" in import_dump("-")


@pytest.mark.django_db
def test_headline_collision_gets_a_unique_slug(make_article):
    make_article("Moscow Car Blast Kills Russian General", slug="moscow-car-blast-kills-russian-general")
    import_dump(SAMPLE)
    assert Article.objects.filter(slug="moscow-car-blast-kills-russian-general-2").exists()


@pytest.mark.django_db
def test_dry_run_writes_nothing_but_reports():
    output = import_dump(SAMPLE, dry_run=True)
    assert "Dry run" in output and "created 4" in output
    assert snapshot() == ([], [], [])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, message",
    [
        ("empty.txt", "empty.txt:1: empty file"),
        ("binary.txt", "binary.txt:1: binary data"),
        ("latin1.txt", "latin1.txt:12: not valid UTF-8"),
        ("no_body.txt", "no_body.txt:1: story has a header but no body"),
        ("header_mismatch.txt", "header_mismatch.txt:7: repeated headline"),
        ("caption_mismatch.txt", "caption_mismatch.txt:9: repeated caption"),
        ("mixed.txt", "mixed.txt:17: expected a story header"),
    ],
)
def test_bad_input_is_refused_whole_with_file_and_line(name, message):
    import_dump(DATA / "caption_once.txt")
    before = snapshot()
    with pytest.raises(CommandError) as excinfo:
        import_dump(DATA / "caption_once.txt", DATA / "no_photo.txt", DATA / "bad" / name)
    assert message in str(excinfo.value)
    assert "(nothing imported; --skip-invalid imports the valid stories)" in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    assert snapshot() == before


@pytest.mark.django_db
def test_skip_invalid_imports_valid_stories_and_lists_the_others():
    output = import_dump(DATA / "bad" / "mixed.txt", DATA / "bad" / "binary.txt", skip_invalid=True)
    assert "created 2, updated 0, unchanged 0, conflicts 0, errors 2" in output
    assert "skipped: " in output and "mixed.txt:17" in output and "binary.txt:1" in output
    assert Article.objects.count() == 2


@pytest.mark.django_db
def test_missing_file_is_a_clear_error():
    with pytest.raises(CommandError, match="nope.txt: no such file or directory"):
        import_dump("nope.txt")


@pytest.mark.django_db
def test_same_headline_with_different_text_in_one_run_is_refused(tmp_path):
    dump = tmp_path / "twice.txt"
    first = (DATA / "caption_once.txt").read_text()
    dump.write_text(first + "\n\n\n" + first.replace("on Sunday", "on Monday"))
    expected = r"twice.txt:16: headline already used by a different story at \S*twice.txt:1 "
    with pytest.raises(CommandError, match=expected):
        import_dump(dump)


@pytest.mark.django_db
def test_large_dump_imports_in_batches(tmp_path):
    story = (DATA / "caption_once.txt").read_text()
    dump = tmp_path / "big.txt"
    with open(dump, "w") as out:
        for n in range(1200):
            out.write(story.replace("Niger Closes Its Airspace", f"Niger Closes Its Airspace, Day {n}") + "\n\n")
    assert "created 1200" in import_dump(dump)
    assert Caption.objects.count() == 1200
    assert "unchanged 1200" in import_dump(dump)


@pytest.mark.django_db
def test_reimporting_a_file_seen_before_still_notices_a_deleted_story():
    import_dump(SAMPLE)
    Article.objects.get(headline__startswith="Moscow").delete()
    assert "created 1, updated 0, unchanged 3" in import_dump(SAMPLE)
    assert "created 0, updated 0, unchanged 4" in import_dump(SAMPLE)


@pytest.mark.django_db
def test_reimporting_an_older_file_after_a_newer_one_applies_it_again(tmp_path):
    import_dump(SAMPLE)
    newer = tmp_path / "newer.txt"
    newer.write_text(SAMPLE.read_text().replace("A senior Russian general", "A senior Russian army general"))
    assert "updated 1, unchanged 3" in import_dump(newer)
    assert "updated 1, unchanged 3" in import_dump(SAMPLE)
    assert "army general" not in Article.objects.get(headline__startswith="Moscow").body


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.django_db
def test_terminal_shows_progress_with_the_share_of_the_file_read(tmp_path):
    out = Terminal()
    call_command("import_dump", str(SAMPLE), stdout=out, stderr=io.StringIO())
    assert "\rsample-dump.txt 100%, 4 stories read" in out.getvalue()
    plain = io.StringIO()
    call_command("import_dump", str(SAMPLE), stdout=plain, stderr=io.StringIO())
    assert "\r" not in plain.getvalue()  # no progress line in logs and pipes


@pytest.mark.django_db
def test_corrupt_gzip_is_a_clean_error_and_writes_nothing(tmp_path):
    broken = tmp_path / "dump.gz"
    broken.write_bytes(gzip.compress(SAMPLE.read_bytes())[:200])  # cut short in transit
    with pytest.raises(CommandError, match=r"dump.gz:1: cannot read the file"):
        import_dump(broken)
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_empty_directory_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="directory has no dump files"):
        import_dump(tmp_path)


@pytest.mark.django_db
def test_an_import_run_names_the_stories_it_wrote(tmp_path):
    """What the page cache will be told: which stories changed."""
    first = import_run([SAMPLE])
    assert sorted(first.created_ids) == sorted(Article.objects.values_list("pk", flat=True))
    changed = tmp_path / "changed.txt"
    changed.write_text(SAMPLE.read_text().replace("A senior Russian general", "A senior Russian army general"))
    assert not import_run([changed], dry_run=True).wrote
    second = import_run([changed])
    moscow = Article.objects.get(headline__startswith="Moscow")
    assert (second.created_ids, second.updated_ids) == ([], [moscow.pk])
    assert not import_run([changed]).wrote
