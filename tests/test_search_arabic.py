"""Arabic search finds what readers type: hamzas, taa marbuta, alef maqsura, diacritics, tatweel and the
article as the story writes them or not, on SQLite and PostgreSQL alike (articles/search: FOLDING)."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from articles import search
from articles.models import Article, Caption, Photo

GOVERNMENT = "أعلنت الحكومة خطة جديدة"  # "the government announced a new plan"


def results_page(client, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    return response.content.decode()


def found(client, query, headline):
    return f">{headline}<" in results_page(client, query)


@pytest.fixture
def arabic_story(make_article):
    def make(body, headline="خبر عاجل", **fields):
        return make_article(headline, slug=fields.pop("slug", "story"), language="ar", body=body, **fields)

    return make


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text, query",
    [
        # Hamza on the alef (أ إ آ ٱ), or not, either way round.
        ("أعلنت الحكومة خطة جديدة", "اعلنت"),
        ("اعلنت الحكومة خطة جديدة", "أعلنت"),
        ("قال مسؤول إسرائيلي", "اسرائيلي"),
        ("وصل آلاف اللاجئين", "الاف"),
        ("ٱلرحمة للضحايا", "الرحمة"),
        # Taa marbuta written as haa, either way round.
        ("ارتفعت أسعار الطاقة", "الطاقه"),
        ("ارتفعت أسعار الطاقه", "الطاقة"),
        # Alef maqsura and yaa.
        ("نقل الجرحى إلى المستشفى", "المستشفي"),
        ("نقل الجرحي الي المستشفي", "المستشفى"),
        # Diacritics and tatweel in the story, or in the query.
        ("أَعْلَنَتِ الحُكُومَةُ خُطَّةً جَدِيدَةً", "اعلنت الحكومة"),
        ("أعلنت الحكومة خطة جديدة", "أَعْلَنَتِ الحُكُومَةُ"),
        ("ارتفعت أسعار الطـــاقة", "الطاقة"),
        ("ارتفعت أسعار الطاقة", "الطـــاقة"),
        ("قال المتحدث باسم الأُمَمِ المُتَّحِدَةِ", "الامم المتحده"),
        # The article, on the story's word or the query's, and after a conjunction or preposition.
        ("زار الوزير السعودية أمس", "سعودية"),
        ("وقعت سعودية وقطر اتفاقا", "السعودية"),
        ("وصل الوفد إلى السعودية", "سعوديه"),
        ("التقى الرئيس بالسعودية", "السعودية"),
        ("التقى الرئيس والسعودية", "سعودية"),
        ("استثمارات كبيرة للطاقة المتجددة", "الطاقة"),
        ("استثمارات كبيرة في الطاقة", "للطاقة"),
        ("استثمارات كبيرة فالطاقة", "طاقة"),
        ("كالطاقة الشمسية", "الطاقة"),
    ],
)
def test_arabic_is_found_as_readers_type_it(client, arabic_story, text, query):
    arabic_story(text)
    assert found(client, query, "خبر عاجل"), (text, query)


@pytest.mark.django_db
def test_headline_and_captions_are_folded_too(client, arabic_story):
    story = arabic_story("نص الخبر.", headline="أسعار الطاقة ترتفع")
    Caption.objects.create(article=story, photo=Photo.objects.create(credit="رويترز"), text="مُحَطَّة كهرباء في إربد")
    for query in ["اسعار", "طاقه", "محطه", "اربد"]:
        assert found(client, query, "أسعار الطاقة ترتفع"), query


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text, query",
    [
        ("قال إن له رأيا آخر", "الله"),  # an article is taken off a word of three letters or more only
        ("أعلنت الحكومة خطة جديدة", "اعلنوا"),  # folding is no stemming
        ("أعلنت الحكومة خطة جديدة", "اعلنت المعارضة"),  # every word must match, as before
    ],
)
def test_folding_does_not_find_other_words(client, arabic_story, text, query):
    arabic_story(text)
    assert not found(client, query, "خبر عاجل"), (text, query)


@pytest.mark.django_db
def test_english_search_is_unchanged(client, make_article, arabic_story):
    make_article("Floods Hit the Coast", body="Rivers flooded the valley.\n\nThe army helped.")
    arabic_story("فيضانات في الوادي")
    page = results_page(client, "flooding")  # English stems as before
    assert ">Floods Hit the Coast<" in page and "خبر عاجل" not in page
    assert re.search(r"<mark>(Floods|flooded)</mark>", page)  # the headline (SQLite) or the body (PostgreSQL)
    assert "Floods Hit the Coast" not in results_page(client, "فيضانات")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text, query, marked",
    [
        (GOVERNMENT, "اعلنت", "<mark>أعلنت</mark> الحكومة خطة جديدة"),
        ("أَعْلَنَتِ الحُكُومَةُ خُطَّةً", "اعلنت", "<mark>أَعْلَنَتِ</mark> الحُكُومَةُ خُطَّةً"),
        ("ارتفعت أسعار الطـــاقة اليوم", "طاقه", "أسعار <mark>الطـــاقة</mark> اليوم"),
        ("زار الوزير السعودية أمس", "سعودية", "الوزير <mark>السعودية</mark> أمس"),
        ("نقل الجرحى إلى المستشفى", "المستشفي", "الجرحى إلى <mark>المستشفى</mark>"),
    ],
)
def test_snippets_show_the_stories_own_words_with_the_match_marked(client, arabic_story, text, query, marked):
    arabic_story("مقدمة الخبر.\n\n" + text)
    page = results_page(client, query)
    assert marked in page


@pytest.mark.django_db
def test_a_snippet_deep_in_a_long_arabic_story_is_its_own_text(client, arabic_story):
    filler = [f"الفقرة رقم {n} عن الطقس والأسواق في المنطقة، بشيء من التفصيل." for n in range(12)]
    arabic_story("\n\n".join([*filler[:10], "استؤنفت محادثات الهُدْنَة عند الغروب في الدوحة.", *filler[10:]]))
    page = results_page(client, "الهدنه")
    assert "محادثات <mark>الهُدْنَة</mark> عند الغروب" in page
    assert page.count("الهدنه") == 2  # the query, in the title and the search box, never the snippet


@pytest.mark.django_db
def test_drafts_and_embargoed_arabic_stories_are_never_found(client, arabic_story):
    arabic_story(GOVERNMENT, headline="مسودة", slug="draft", status=Article.Status.DRAFT)
    arabic_story(GOVERNMENT, headline="في المراجعة", slug="review", status=Article.Status.REVIEW)
    arabic_story(
        GOVERNMENT,
        headline="محظور النشر",
        slug="embargoed",
        published_at=timezone.now() + timedelta(hours=2),
    )
    arabic_story(GOVERNMENT, headline="منشور", slug="published")
    for query in ["اعلنت", "أعلنت", "الحكومه", "حكومة"]:
        page = results_page(client, query)
        assert ">منشور<" in page
        for hidden in ["مسودة", "في المراجعة", "محظور النشر"]:
            assert hidden not in page, (query, hidden)


@pytest.mark.django_db
def test_every_way_a_story_is_written_keeps_the_index_folded(client, arabic_story):
    story = arabic_story("نص أول")
    story.body = "ارتفعت أسعار الطاقة"  # a save
    story.save()
    assert found(client, "الطاقه", "خبر عاجل")
    Article.objects.filter(pk=story.pk).update(headline="أعلنت الحكومة")  # an update, as the importer writes
    assert found(client, "اعلنت", "أعلنت الحكومة")
    caption = Caption.objects.create(article=story, photo=Photo.objects.create(credit="أ ف ب"), text="مَرْفَأ")
    assert found(client, "مرفا", "أعلنت الحكومة")
    caption.text = "مِيناء"
    caption.save()
    assert found(client, "ميناء", "أعلنت الحكومة")
    assert not found(client, "مرفا", "أعلنت الحكومة")


@pytest.mark.django_db
def test_imported_arabic_stories_are_found_as_readers_type_them(client, tmp_path):
    dump = tmp_path / "dump.txt"
    dump.write_text(
        "أسعار الطاقة ترتفع في المنطقة\n\nمُحَطَّة كهرباء في إربد. (رويترز)\nTT\n\n"
        "أسعار الطاقة ترتفع في المنطقة\n\nمُحَطَّة كهرباء في إربد. (رويترز)\n\n"
        "أعلنت وزارة الطـاقة أن الأسعار سترتفع.\n",
        encoding="utf-8",
    )
    call_command("import_dump", str(dump), status="published", stdout=io.StringIO())
    for query in ["اعلنت", "طاقه", "محطه", "اربد", "اسعار", "وزاره"]:
        assert found(client, query, "أسعار الطاقة ترتفع في المنطقة"), query


@pytest.mark.django_db
def test_rebuilding_the_index_keeps_it_folded(client, arabic_story):
    arabic_story(GOVERNMENT)
    call_command("rebuild_search_index", stdout=io.StringIO())
    assert found(client, "اعلنت", "خبر عاجل")
    search.uninstall()
    search.install()
    assert found(client, "الحكومه", "خبر عاجل")


def index_by_the_earlier_rule():
    """New stories are indexed as before 0021, unfolded."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER articles_search_article_insert_with_captions")
            cursor.execute(
                "CREATE TRIGGER articles_search_article_insert_with_captions AFTER INSERT ON articles_article "
                "BEGIN INSERT INTO articles_search(rowid, headline, standfirst, body, captions) "
                "VALUES (new.id, new.headline, new.standfirst, new.body, ''); END"
            )
        else:
            cursor.execute(
                "CREATE OR REPLACE FUNCTION articles_search_document() RETURNS trigger AS $$ BEGIN "
                "NEW.search_document := to_tsvector('simple', NEW.headline || ' ' || NEW.body); "
                "NEW.search_rank := NEW.search_document; RETURN NEW; END $$ LANGUAGE plpgsql"
            )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migration_0021_folds_the_stories_indexed_before_it(client):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([("articles", "0019_fronts")])
        apps = executor.loader.project_state([("articles", "0019_fronts")]).apps
        Article, Section = (apps.get_model("articles", name) for name in ["Article", "Section"])
        index_by_the_earlier_rule()
        Article.objects.create(
            headline="خبر قديم",
            slug="old-story",
            section=Section.objects.create(slug="arabic", name="Arabic", order=100),
            language="ar",
            body=GOVERNMENT,
            status="published",
            published_at=timezone.now() - timedelta(hours=1),
        )
    finally:
        MigrationExecutor(connection).migrate(latest)
    assert found(client, "اعلنت الحكومه", "خبر قديم")


@pytest.mark.django_db
def test_an_index_made_by_the_earlier_rule_is_folded_by_install_and_rebuild(client, arabic_story):
    """A database indexed before folding: 0021 re-indexes it (SQLite's install() replaces triggers whose SQL
    changed; PostgreSQL's replaces the function, then every story is re-indexed)."""
    index_by_the_earlier_rule()
    arabic_story(GOVERNMENT)
    assert not found(client, "اعلنت", "خبر عاجل")
    if not search.install():
        search.rebuild()
    assert found(client, "أعلنت", "خبر عاجل")  # another query: the page of the first is cached
    assert not search.install()  # and once current, install() leaves the index alone


@pytest.mark.django_db
def test_a_query_of_arabic_and_english_words_needs_them_all(client, arabic_story):
    arabic_story("أعلنت شركة Aramco زيادة إنتاج الطاقة")
    assert found(client, "aramco الطاقه", "خبر عاجل")
    assert found(client, "طاقة Aramco", "خبر عاجل")
    assert not found(client, "aramco النفط", "خبر عاجل")
    assert not found(client, "exxon الطاقة", "خبر عاجل")


def test_a_snippet_of_the_folded_text_is_put_back_into_the_original():
    original = "قال: أَعْلَنَتِ الحكومةُ… خطة الطـاقة."
    made = "…" + search.START + "اعلنت" + search.STOP + " الحكومه… خطه " + search.START + "الطاقه" + search.STOP
    assert search.restore(made, original) == (
        "…" + search.START + "أَعْلَنَتِ" + search.STOP + " الحكومةُ… خطة " + search.START + "الطـاقة" + search.STOP
    )
    assert search.restore("…خطة الطاقة الشمسية", original) is None  # not made from this text
    # ts_headline's fragments, joined by " … ", one of them the opening of a paragraph.
    made = search.START + "الطاقه" + search.STOP + " اليوم … " + search.START + "الطاقه" + search.STOP + " غدا"
    assert search.restore(made, "أسعار الطاقة اليوم.\n\nالطاقة غدا.") == (
        search.START + "الطاقة" + search.STOP + " اليوم … " + search.START + "الطاقة" + search.STOP + " غدا"
    )
    assert search.restore("Floods " + search.START + "hit" + search.STOP, "Floods hit the coast") == (
        "Floods " + search.START + "hit" + search.STOP
    )


@pytest.mark.parametrize(
    "word, forms",
    [
        ("سعوديه", ["سعوديه", "السعوديه", "والسعوديه", "بالسعوديه", "كالسعوديه", "فالسعوديه", "للسعوديه"]),
        ("السعوديه", ["السعوديه", "سعوديه", "والسعوديه", "بالسعوديه", "كالسعوديه", "فالسعوديه", "للسعوديه"]),
        ("للطاقه", ["للطاقه", "طاقه", "والطاقه", "بالطاقه", "كالطاقه", "فالطاقه", "الطاقه"]),
        ("floods", ["floods"]),
        ("2026", ["2026"]),
    ],
)
def test_a_word_is_matched_with_and_without_the_article(word, forms):
    assert sorted(search.alternatives(word)) == sorted(forms)


def test_query_words_are_folded_as_the_index_is():
    assert search.terms("أَعْلَنَتِ الحكومـــة إسرائيل آلاف مستشفى ٱلرحمة Floods") == [
        "اعلنت",
        "الحكومه",
        "اسرائيل",
        "الاف",
        "مستشفي",
        "الرحمه",
        "floods",
    ]


@pytest.mark.django_db
def test_a_snippet_of_several_paragraphs_is_the_stories_own_text(client, arabic_story):
    filler = [f"الفقرة رقم {n} عن الطقس والأسواق في المنطقة، بشيء من التفصيل." for n in range(8)]
    arabic_story("\n\n".join(["ارتفعت أسعار الطاقة.", *filler, "وزارة الطاقة تَرُدّ على المنتقدين."]))
    page = results_page(client, "الطاقه")
    assert "<mark>الطاقة</mark>" in page
    assert page.count("الطاقه") == 2  # the query, in the title and the search box, never the snippet
