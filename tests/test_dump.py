"""The parser on the sample and on each variant of the format; no database needed."""

import gzip
import io

import pytest

from articles.dump import DumpError, StoryRecord, parse, split_credit

from .conftest import DATA, SAMPLE


def stories(path):
    with open(path, "rb") as stream:
        return list(parse(stream, path.name))


def parse_text(text):
    return list(parse(io.BytesIO(text.encode() if isinstance(text, str) else text), "dump.txt"))


def test_sample_gives_four_stories_with_every_paragraph_once():
    records = stories(SAMPLE)
    assert all(isinstance(r, StoryRecord) for r in records), records
    assert [r.headline for r in records] == [
        "Niger’s Junta Asks for Help from Russian Group Wagner as It Faces Military Intervention Threat",
        "Israel Says it Is Facing an ‘Existential Threat’ as Iran Builds up its Military Capacities",
        "Moscow Car Blast Kills Russian General",
        "Iran Does Not Rule Out New Israeli Attacks against it",
    ]
    # Count the sample's own body paragraphs independently of the parser: lines after the
    # second copy of the header that are not blank.
    raw = SAMPLE.read_text().split("\n")
    text_lines = [line.strip() for line in raw if line.strip()]
    headers = sum(1 for line in text_lines if line == "TT")
    assert headers == 4
    header_lines = 4 * (1 + 2 + 1 + 1 + 2)  # headline, caption x2, TT, headline, caption x2
    assert sum(len(r.paragraphs) for r in records) == len(text_lines) - header_lines
    for record in records:
        for paragraph in record.paragraphs:
            assert paragraph != record.headline
            assert record.captions[0].text not in paragraph


def test_sample_paragraphs_are_in_order():
    niger = stories(SAMPLE)[0]
    assert niger.paragraphs[0].startswith("Niger’s new military junta has asked for help")
    assert niger.paragraphs[-1].startswith("“We are deeply concerned")
    assert len(niger.paragraphs) == 25


def test_caption_text_and_credit_are_stored_apart():
    records = stories(SAMPLE)
    assert [(r.captions[0].credit) for r in records] == [
        "Reuters",
        "AFP",
        "Russia's Investigative Committee/Handout via Reuters",
        "Ramil Sitdikov/Pool Photo via AP",
    ]
    assert records[1].captions[0].text == "Israeli defenses intercept Iranian missiles over Tel Aviv on June 22."


def test_headline_loses_non_breaking_and_trailing_spaces():
    israel = stories(SAMPLE)[1]
    assert israel.headline.endswith("Military Capacities")
    assert "\u00a0" not in israel.headline and "  " not in israel.headline


@pytest.mark.parametrize(
    "credit_caption, text, credit",
    [
        ("A rally in Niamey. (AP Photo/Sam Mednick)", "A rally in Niamey.", "AP Photo/Sam Mednick"),
        ("A rally in Niamey.", "A rally in Niamey.", ""),
        ("(Reuters)", "(Reuters)", ""),
        ("Leaders (left) meet. (AFP)", "Leaders (left) meet.", "AFP"),
    ],
)
def test_split_credit(credit_caption, text, credit):
    caption = split_credit(credit_caption)
    assert (caption.text, caption.credit) == (text, credit)


def test_crlf_and_byte_order_mark():
    [record] = stories(DATA / "crlf_bom.txt")
    assert record.headline == "Moscow Car Blast Kills Russian General"
    assert record.paragraphs == [
        "A senior Russian general was killed in southern Moscow on Monday.",
        "Russia's Investigative Committee said it had opened a probe.",
    ]
    assert record.captions[0].credit == "Reuters"


def test_old_mac_line_endings():
    text = (DATA / "crlf_bom.txt").read_bytes().replace(b"\r\n", b"\r")
    [record] = parse_text(text)
    assert len(record.paragraphs) == 2


def test_caption_given_once():
    [record] = stories(DATA / "caption_once.txt")
    assert record.captions[0].text == "Supporters of the junta rally in Niamey, Niger, August 6, 2023."
    assert record.captions[0].credit == "AP Photo/Sam Mednick"
    assert len(record.paragraphs) == 2


def test_story_without_photo():
    [record] = stories(DATA / "no_photo.txt")
    assert record.captions == []
    assert record.headline == "Gunmen Kill Villagers in Northern Burkina Faso"
    assert record.paragraphs[0].startswith("Gunmen killed at least a dozen")


def test_arabic_story_is_right_to_left():
    [record] = stories(DATA / "arabic.txt")
    assert record.language == "ar"
    assert record.headline == "الأمم المتحدة تحذر من تفاقم الأزمة الإنسانية في غزة"
    assert record.captions[0].credit == "رويترز"
    assert len(record.paragraphs) == 3


def test_spacing_variant_equals_clean_copy():
    [messy] = stories(DATA / "spacing.txt")
    assert messy.headline == "Moscow Car Blast Kills Russian General"
    assert messy.paragraphs[0] == "A senior Russian general was killed in southern Moscow on Monday."


def test_stories_in_one_file_are_split_and_numbered_by_line():
    text = (DATA / "caption_once.txt").read_text() + "\n\n\n" + (DATA / "no_photo.txt").read_text()
    first, second = parse_text(text)
    assert first.line == 1
    assert second.line == text.split("\n").index("Gunmen Kill Villagers in Northern Burkina Faso") + 1


def test_single_blank_line_before_tt_header_still_splits_stories():
    text = (DATA / "caption_once.txt").read_text() + "\n" + (DATA / "arabic.txt").read_text()
    assert [r.language for r in parse_text(text)] == ["en", "ar"]


def error_of(path):
    [error] = [r for r in stories(path) if isinstance(r, DumpError)]
    return error


@pytest.mark.parametrize(
    "name, line, message",
    [
        ("empty.txt", 1, "empty file"),
        ("blank_lines.txt", 1, "empty file"),
        ("binary.txt", 1, "binary data"),
        ("latin1.txt", 12, "not valid UTF-8"),
        ("no_body.txt", 1, "header but no body"),
        ("header_mismatch.txt", 7, "does not match the headline on line 1"),
        ("caption_mismatch.txt", 9, "repeated caption does not match"),
    ],
)
def test_bad_input_names_line_and_problem(name, line, message):
    error = error_of(DATA / "bad" / name)
    assert error.line == line
    assert message in error.message
    assert str(error).startswith(f"{name}:{line}: ")


def test_one_bad_story_does_not_hide_the_others():
    results = stories(DATA / "bad" / "mixed.txt")
    assert [type(r).__name__ for r in results] == ["StoryRecord", "DumpError", "StoryRecord"]
    assert "expected a story header" in results[1].message


def test_utf16_file_is_named_as_such():
    [error] = parse_text("Headline\n".encode("utf-16"))
    assert "UTF-16" in error.message


def test_gzip_stream_is_read_by_caller(tmp_path):
    path = tmp_path / "dump.txt.gz"
    with gzip.open(path, "wb") as out:
        out.write(SAMPLE.read_bytes())
    with gzip.open(path, "rb") as stream:
        assert len(list(parse(stream, "dump.txt.gz"))) == 4


def test_one_block_header_without_blank_lines():
    text = (
        (DATA / "caption_once.txt").read_text().replace("Niger Closes Its Airspace\n\n", "Niger Closes Its Airspace\n")
    )
    [record] = parse_text(text)
    assert record.captions[0].credit == "AP Photo/Sam Mednick"
    assert len(record.paragraphs) == 2


def test_caption_given_once_in_the_repeat_only():
    caption = "An investigator works at the scene of the blast in Moscow, Russia, December 22, 2025. (Reuters)"
    text = (DATA / "crlf_bom.txt").read_text().replace(f"{caption}\n{caption}\n\n", f"{caption}\n\n", 1)
    [record] = parse_text(text)
    assert len(record.paragraphs) == 2 and record.captions[0].credit == "Reuters"


def test_a_headline_or_credit_too_long_to_store_is_refused_with_its_line():
    paragraph = "A paragraph of wire copy that runs on and on, " * 8  # 368 characters where the headline goes
    story = f"{paragraph}\n\n{paragraph}\n\nThe body.\n\n\nShort Headline\n\nA caption. ({'Agency ' * 30})\nTT\n\n"
    story += f"Short Headline\nA caption. ({'Agency ' * 30})\n\nThe body.\n"
    too_long, bad_credit = parse_text(story)
    assert isinstance(too_long, DumpError) and too_long.line == 1
    assert "headline longer than 300 characters (367)" in too_long.message  # trailing space dropped
    assert isinstance(bad_credit, DumpError) and bad_credit.line == 10
    assert "photo credit longer than 200 characters (209)" in bad_credit.message


def test_the_parsers_limits_are_the_models():
    from articles import dump
    from articles.models import Article, Photo

    assert dump.HEADLINE_MAX == Article._meta.get_field("headline").max_length
    assert dump.CREDIT_MAX == Photo._meta.get_field("credit").max_length
