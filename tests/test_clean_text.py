"""Nothing a reporter or a dump types can take the feeds and sitemaps down or put markup in feed readers.

Text is cleaned where it comes in (articles.text.clean_text: forms, saves, the dump parser), and the feed and
sitemap writers drop what XML 1.0 cannot carry, for text stored before. Feeds and sitemaps are parsed strictly
(lxml), and feed summaries as the HTML feed readers take them for.
"""

import importlib
import io
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.forms import modelform_factory
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree, html

from articles.dump import DumpError, parse
from articles.feeds import FEED_LENGTH
from articles.importer import source_key
from articles.models import Article, Caption, Correction, Photo, Section
from articles.text import CONTROLS, clean_text, paragraphs, xml_safe
from tests.admin_forms import load_change_form

from .conftest import SAMPLE

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# What clean_text leaves out of stored text: control characters, and the line breaks it unifies or makes spaces.
NEVER_STORED = set(CONTROLS) | set("\r\v\f")
SCRIPT = "<script>alert('x')</script>"

# Text as reporters paste it and wires send it: control characters (a word processor's vertical tab and form
# feed among them), markup and entities, characters XML cannot carry at all, line breaks, and any other text.
control = st.sampled_from([chr(c) for c in [*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]])
markup = st.sampled_from([SCRIPT, "<b>bold</b>", "<p>", "</p>", "&amp;", "&lt;i&gt;", "&", "<", "]]>", "<![CDATA["])
odd = st.sampled_from(["\ufffe", "\uffff", "\r\n", "\r", "\n", "\n\n", "\t", "\u2028", "\u00a0"])
piece = st.one_of(control, markup, odd, st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")))
fuzz = st.lists(piece, max_size=8).map("".join)
one_line_fuzz = fuzz.map(lambda text: text.replace("\n", " ").replace("\r", " "))  # what a dump line can hold


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def get_xml(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    try:
        return etree.fromstring(response.content, etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as error:
        raise AssertionError(f"{url} is not well-formed XML: {error}") from None


def feed_urls():
    urls = [reverse("articles:feed"), reverse("articles:atom")]
    for slug in Section.objects.values_list("slug", flat=True):
        urls += [reverse(name, kwargs={"section": slug}) for name in ("articles:section-feed", "articles:section-atom")]
    return urls


def read_feeds(client):
    """Every feed, parsed: {url: [the HTML summary of each story, as a feed reader decodes it]}."""
    summaries = {}
    for url in feed_urls():
        root = get_xml(client, url)
        if root.tag == f"{ATOM}feed":
            entries = root.iter(f"{ATOM}entry")
            summaries[url] = [entry.find(f"{ATOM}summary") for entry in entries]
            assert all(summary is None or summary.get("type") == "html" for summary in summaries[url])
        else:
            summaries[url] = [item.find("description") for item in root.iter("item")]
        summaries[url] = [element.text or "" for element in summaries[url] if element is not None]
    return summaries


def read_sitemaps(client):
    """Every sitemap, parsed (the index and each sitemap it lists, and the news sitemap)."""
    index = get_xml(client, reverse("articles:sitemap-index"))
    for loc in index.iter(f"{SITEMAP}loc"):
        get_xml(client, loc.text.removeprefix("http://testserver"))
    return get_xml(client, reverse("articles:news-sitemap"))


def text_of_feed_html(summary):
    """What a feed reader shows of an HTML summary: its text. Only the paragraphs the site builds may be elements."""
    if not summary:
        return []
    fragment = html.fragment_fromstring(summary, create_parent="div")
    assert {element.tag for element in fragment.iterdescendants()} <= {"p", "br"}, summary
    return [paragraph.text_content() for paragraph in fragment]


def assert_feeds_and_sitemaps_hold(client):
    """Every feed and sitemap is well-formed XML, and feed readers show each story's summary as its text."""
    feeds = read_feeds(client)
    for summaries in feeds.values():
        for summary in summaries:
            text_of_feed_html(summary)
    stories = Article.objects.published().newest_first()[:FEED_LENGTH]
    assert [text_of_feed_html(summary) for summary in feeds["/feed/"]] == [
        paragraphs(xml_safe(story.summary)) for story in stories
    ]
    read_sitemaps(client)


def assert_stored_clean(article):
    article = Article.objects.get(pk=article.pk)
    for name in ["headline", "byline", "language", "standfirst", "body", "withdrawn_reason"]:
        assert not NEVER_STORED & set(getattr(article, name)), (name, getattr(article, name))
    for name in ["headline", "byline", "language"]:
        assert "\n" not in getattr(article, name), name
    for caption in article.captions.select_related("photo"):
        assert not NEVER_STORED & set(caption.text + caption.photo.credit + caption.photo.alt_text)


def save_in_the_admin(client, article, **fields):
    url = change_url(article)
    form = load_change_form(client, url)
    form |= fields
    response = client.post(url, form)
    assert response.status_code in {200, 302}, response.status_code  # saved, or the form says what is wrong
    return response


@pytest.mark.django_db
@given(headline=fuzz, standfirst=fuzz, body=fuzz, byline=fuzz)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_text_typed_in_the_story_form_breaks_a_feed_or_a_sitemap(
    editor_client, client, published_article, headline, standfirst, body, byline
):
    response = save_in_the_admin(
        editor_client,
        published_article,
        headline=f"Story {headline}",
        standfirst=standfirst,
        body=f"Body {body}\r\n\r\n{SCRIPT} {body}",
        byline=byline,
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert_stored_clean(published_article)
    assert_feeds_and_sitemaps_hold(client)


@pytest.mark.django_db
@given(stories=st.lists(st.tuples(one_line_fuzz, one_line_fuzz, one_line_fuzz, one_line_fuzz), min_size=1, max_size=3))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_text_in_a_dump_breaks_a_feed_or_a_sitemap(tmp_path, client, section, stories):
    dump = "\n\n\n".join(
        f"Story {i} {headline}\n\n{caption} ({credit})\nTT\n\nStory {i} {headline}\n\n{caption} ({credit})\n\n"
        f"{paragraph}\n\n{SCRIPT} said the wire."
        for i, (headline, caption, credit, paragraph) in enumerate(stories)
    )
    path = tmp_path / "fuzz.txt"
    path.write_bytes(dump.encode())

    try:
        call_command("import_dump", str(path), status="published", stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError as exc:
        assert "fuzz.txt:" in str(exc)  # a story the parser cannot read: a clean error, nothing written

    for article in Article.objects.all():
        assert_stored_clean(article)
    assert_feeds_and_sitemaps_hold(client)


@pytest.mark.django_db
def test_a_vertical_tab_pasted_into_a_story_does_not_take_the_feeds_down(editor_client, client, published_article):
    # Word writes a manual line break (Shift+Enter) as a vertical tab; a page break as a form feed.
    save_in_the_admin(
        editor_client,
        published_article,
        headline="Floods\x0bHit the Coast",
        body="Water rose overnight.\x0bResidents fled.\r\n\r\nThe port\x0cis shut.\x01",
    )

    story = Article.objects.get(pk=published_article.pk)
    assert story.headline == "Floods Hit the Coast"
    assert story.paragraphs == ["Water rose overnight. Residents fled.", "The port is shut."]
    for url in feed_urls():
        assert client.get(url).status_code == 200, url
    [summary] = read_feeds(client)["/feed/"]
    assert text_of_feed_html(summary) == ["Water rose overnight. Residents fled."]
    news = read_sitemaps(client)
    assert [title.text for title in news.iter("{*}title")] == ["Floods Hit the Coast"]


@pytest.mark.django_db
def test_script_typed_in_a_body_reaches_feed_readers_as_text(editor_client, client, published_article):
    save_in_the_admin(editor_client, published_article, body=f"{SCRIPT} & <b>more</b>\r\n\r\nSecond paragraph.")

    summaries = [summary for summaries in read_feeds(client).values() for summary in summaries]

    assert len(summaries) == 4  # the site's and the section's, RSS and Atom
    assert all(text_of_feed_html(summary) == [f"{SCRIPT} & <b>more</b>"] for summary in summaries), summaries


@pytest.mark.django_db
def test_a_standfirst_reaches_feed_readers_as_its_paragraphs_of_text(client, make_article):
    make_article(standfirst="Rain & wind <i>all</i> week.\n\nSchools are shut.", body="The body.")

    [summary] = read_feeds(client)["/feed/atom/"]

    assert text_of_feed_html(summary) == ["Rain & wind <i>all</i> week.", "Schools are shut."]


@pytest.mark.django_db
def test_text_stored_before_the_fix_does_not_take_the_feeds_and_sitemaps_down(client, published_article):
    # Written as the old code stored it: update() calls no field's pre_save.
    Article.objects.filter(pk=published_article.pk).update(
        headline="Floods\x0bHit\x01the Coast\ufffe", byline="Staff\x02", standfirst="Rising\x0c water\x1b."
    )
    Section.objects.filter(pk=published_article.section_id).update(name="World\x03")

    [summary] = read_feeds(client)["/feed/"]
    news = read_sitemaps(client)

    assert text_of_feed_html(summary) == ["Rising water."]
    assert [title.text for title in news.iter("{*}title")] == ["FloodsHitthe Coast"]


@pytest.mark.django_db
def test_one_line_fields_keep_one_line_and_no_control_characters(editor_client, published_article):
    save_in_the_admin(
        editor_client, published_article, headline="Floods\r\nHit\tthe Coast", byline="Staff\x07 reporter"
    )
    PhotoForm = modelform_factory(Photo, fields=["credit", "alt_text"])
    photo = published_article.captions.get().photo
    form = PhotoForm({"credit": "Reuters\x1f", "alt_text": "A flooded\x0bstreet\r\nat dawn"}, instance=photo)
    form.save()

    story = Article.objects.get(pk=published_article.pk)
    assert (story.headline, story.byline) == ("Floods Hit\tthe Coast", "Staff reporter")
    assert (photo.credit, photo.alt_text) == ("Reuters", "A flooded street at dawn")
    Section.objects.create(name="Sport\x1b\nand games", slug="sport", description="All\x0cof it\r\nhere")
    section = Section.objects.get(slug="sport")  # saved without a form: the fields clean it too
    assert (section.name, section.description) == ("Sport and games", "All of it\nhere")


def test_clean_text_removes_control_characters_and_keeps_the_rest():
    assert clean_text("a\r\nb\x0bc\x0cd\x01\x7fe\tf\n\ng") == "a\nb c de\tf\n\ng"
    assert clean_text("a\r\nb\x0bc\tf", one_line=True) == "a b c\tf"
    assert clean_text(b"TT\r\nx\x0by\x1e") == b"TT\nx y"
    assert clean_text("<script> & \u00a0\u2028") == "<script> & \u00a0\u2028"  # markup is text: escaped on output
    assert clean_text("") == "" and clean_text(None) is None


def test_control_characters_in_a_dump_move_no_line_that_its_errors_name():
    # A repeated headline that does not match: an error, whose line must not move.
    broken = SAMPLE.read_bytes().replace(b"Iran Does Not Rule Out", b"Iran Rules Out", 1)
    messy = broken.replace(b"Moscow Car Blast", b"Moscow\x0bCar\x0c\x01Blast").replace(b"TT\n", b"TT\x7f\x1e\n")

    def parsed(data):
        return [
            (item.line, item.message) if isinstance(item, DumpError) else (item.line, item.headline, item.captions)
            for item in parse(io.BytesIO(data), "x.txt")
        ]

    assert parsed(messy) == parsed(broken)
    assert any(isinstance(item, DumpError) for item in parse(io.BytesIO(broken), "x.txt"))


@pytest.mark.django_db
def test_text_stored_before_the_fix_is_cleaned_when_migrated(client, tmp_path):
    call_command("import_dump", str(SAMPLE), status="published", stdout=io.StringIO(), stderr=io.StringIO())
    story = Article.objects.get(headline__startswith="Moscow Car Blast")
    caption = story.captions.select_related("photo").get()
    # What the old code stored: the importer kept these, and the admin stored anything pasted.
    Article.objects.filter(pk=story.pk).update(
        headline=story.headline.replace(" Blast", "\x01 Blast"), body=story.body.replace(". ", ".\x0b", 1) + "\x7f"
    )
    Caption.objects.filter(pk=caption.pk).update(text=caption.text + "\x02")
    Photo.objects.filter(pk=caption.photo_id).update(
        credit=caption.photo.credit + "\x03", alt_text="Smoke\nover a street\x04"
    )
    Correction.objects.create(article=story, text="An earlier version\x0cmisspelled a name.")
    Correction.objects.filter(article=story).update(text="An earlier version\x0cmisspelled a name.\x05")
    Section.objects.filter(slug=story.section.slug).update(description="News\x06 from\r\neverywhere")
    dirty = Article.objects.get(pk=story.pk)  # as the old importer stored it: its hash and key from that text
    Article.objects.filter(pk=story.pk).update(import_hash=dirty.content_hash(), source_key=source_key(dirty.headline))
    edited = Article.objects.get(headline__startswith="Iran")
    Article.objects.filter(pk=edited.pk).update(byline="Desk\x08", body=edited.body + " Edited.\x1b")  # by hand
    before = {row.pk: row for row in Article.objects.all()}
    migration = importlib.import_module("articles.migrations.0011_clean_text")

    migration.clean(apps, SimpleNamespace(connection=connection))

    healed = Article.objects.get(pk=story.pk)
    assert healed.headline == story.headline and healed.body == story.body
    assert healed.version == before[story.pk].version + 1
    # No editor changed it: the importer can still tell a change at the source, and finds the story by its headline.
    assert (healed.import_hash, healed.source_key) == (healed.content_hash(), story.source_key)
    assert healed.captions.get().text == caption.text
    assert Photo.objects.get(pk=caption.photo_id).credit == caption.photo.credit
    assert Photo.objects.get(pk=caption.photo_id).alt_text == "Smoke over a street"
    assert Correction.objects.get(article=story).text == "An earlier version misspelled a name."
    assert Section.objects.get(slug=story.section.slug).description == "News from\neverywhere"
    assert Article.objects.get(pk=edited.pk).byline == "Desk"
    untouched = [pk for pk in before if pk not in {story.pk, edited.pk}]
    assert all(Article.objects.get(pk=pk).version == before[pk].version for pk in untouched)
    # The same dump again, in other bytes (so that it is parsed, not skipped as a file imported before): the
    # healed story is the same story, unchanged; the one an editor changed keeps the editor's version.
    copy = tmp_path / "sample-crlf.txt"
    copy.write_bytes(SAMPLE.read_bytes().replace(b"\n", b"\r\n"))
    out = io.StringIO()
    call_command("import_dump", str(copy), stdout=out, stderr=io.StringIO())
    assert "created 0, updated 0, unchanged 4, conflicts 0" in out.getvalue()
    assert Article.objects.get(pk=edited.pk).body.endswith(" Edited.")
    assert_feeds_and_sitemaps_hold(client)


@pytest.mark.django_db
def test_migrating_text_already_clean_changes_nothing(published_article):
    migration = importlib.import_module("articles.migrations.0011_clean_text")

    migration.clean(apps, SimpleNamespace(connection=connection))

    assert Article.objects.get(pk=published_article.pk).version == published_article.version
