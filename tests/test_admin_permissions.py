"""Who may do what at the desk, through the admin's own HTTP views: anonymous, reporter, editor."""

import io

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from reversion.models import Version

from articles.models import Article, Section
from tests.admin_forms import load_change_form
from tests.conftest import logged_in

CHANGELIST = reverse("admin:articles_article_changelist")
ADD = reverse("admin:articles_article_add")


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


@pytest.fixture
def as_role(reporter, editor):
    def client_for(role):
        return {"anonymous": Client(), "reporter": logged_in(reporter), "editor": logged_in(editor)}[role]

    return client_for


def new_story_data(section, **fields):
    return {
        "headline": "Council Approves Budget",
        "slug": "council-approves-budget",
        "section": section.pk,
        "body": "The council met.",
        "language": "en",
        "status": "draft",
        "published_at_0": "",
        "published_at_1": "",
        "withdrawn_reason": "",
        **{
            f"{prefix}-{key}": value
            for prefix in ("bylines", "story_topics", "captions", "corrections", "redirects")
            for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0, "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000}.items()
        },
        **fields,
    }


def edit(client, article, **changes):
    """Load the story's change form as this user sees it, change fields, and save it."""
    url = change_url(article)
    response = client.get(url)
    if response.status_code != 200:
        return response
    data = load_change_form(client, url)
    data.update(changes)
    return client.post(url, data)


def run_action(client, action, articles, **fields):
    """Choose a bulk action on the list, then confirm it on its confirmation page."""
    data = {"action": action, "_selected_action": [a.pk for a in articles], "index": 0}
    client.post(CHANGELIST, data)
    return client.post(CHANGELIST, {**data, "confirm": "yes", **fields})


def status_of(article):
    article.refresh_from_db()
    return article.status


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "expected"), [("anonymous", 302), ("reporter", 200), ("editor", 200)])
def test_story_list_needs_a_desk_account(as_role, role, expected, published_article):
    response = as_role(role).get(CHANGELIST)
    assert response.status_code == expected
    if role == "anonymous":
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "created"), [("anonymous", False), ("reporter", True), ("editor", True)])
def test_creating_a_draft(as_role, section, role, created):
    as_role(role).post(ADD, new_story_data(section))
    assert Article.objects.filter(slug="council-approves-budget", status="draft").exists() == created


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "created"), [("anonymous", False), ("reporter", False), ("editor", True)])
def test_creating_a_story_already_published(as_role, section, role, created):
    data = new_story_data(section, status="published", published_at_0="2026-01-02", published_at_1="10:00:00")
    as_role(role).post(ADD, data)
    assert Article.objects.filter(slug="council-approves-budget").exists() == created


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "saved"), [("anonymous", False), ("reporter", True), ("editor", True)])
def test_editing_a_draft(as_role, draft_article, role, saved):
    edit(as_role(role), draft_article, headline="Budget Draft, Revised")
    draft_article.refresh_from_db()
    assert (draft_article.headline == "Budget Draft, Revised") == saved


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), [("anonymous", "draft"), ("reporter", "review"), ("editor", "review")])
def test_submitting_a_draft_for_review(as_role, draft_article, role, status):
    edit(as_role(role), draft_article, status="review")
    assert status_of(draft_article) == status


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), [("anonymous", "review"), ("reporter", "review"), ("editor", "published")])
def test_publishing_from_the_form(as_role, make_article, role, status):
    article = make_article("In Review Story", status=Article.Status.REVIEW)
    response = edit(as_role(role), article, status="published")
    assert status_of(article) == status
    if role == "reporter":
        # The form offers reporters no "Published" choice, and posting it anyway is refused.
        assert 'value="published"' not in as_role(role).get(change_url(article)).content.decode()
        assert response.status_code == 200 and response.context["adminform"].form.errors["status"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", "published"), ("reporter", "published"), ("editor", "withdrawn")]
)
def test_withdrawing_from_the_form(as_role, published_article, role, status):
    client = as_role(role)
    if role == "reporter":
        # A reporter sees a published story read-only and cannot post a change to it.
        assert client.get(change_url(published_article)).context["has_change_permission"] is False
        data = new_story_data(published_article.section, status="withdrawn", withdrawn_reason="Legal", loaded_version=1)
        assert client.post(change_url(published_article), data).status_code == 403
    else:
        edit(client, published_article, status="withdrawn", withdrawn_reason="Legal advice")
    assert status_of(published_article) == status


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), [("anonymous", "review"), ("reporter", "review"), ("editor", "published")])
def test_bulk_publish(as_role, make_article, role, status):
    articles = [make_article(f"Story {n}", status=Article.Status.REVIEW) for n in range(2)]
    run_action(as_role(role), "publish_selected", articles)
    assert [status_of(a) for a in articles] == [status, status]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", "published"), ("reporter", "published"), ("editor", "withdrawn")]
)
def test_bulk_withdraw(as_role, published_article, role, status):
    run_action(as_role(role), "withdraw_selected", [published_article], reason="Legal advice")
    assert status_of(published_article) == status
    if status == "withdrawn":
        assert published_article.withdrawn_reason == "Legal advice"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "draft_moved", "published_moved"),
    [("anonymous", False, False), ("reporter", True, False), ("editor", True, True)],
)
def test_bulk_move_to_section(as_role, draft_article, published_article, role, draft_moved, published_moved):
    europe = Section.objects.get(slug="europe")
    client = as_role(role)
    run_action(client, "move_to_section", [draft_article], section=europe.pk)
    run_action(client, "move_to_section", [published_article], section=europe.pk)
    draft_article.refresh_from_db()
    published_article.refresh_from_db()
    assert (draft_article.section == europe) == draft_moved
    assert (published_article.section == europe) == published_moved


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "deleted"), [("anonymous", False), ("reporter", False), ("editor", True)])
def test_deleting_a_story(as_role, draft_article, role, deleted):
    url = reverse("admin:articles_article_delete", args=[draft_article.pk])
    as_role(role).post(url, {"post": "yes"})
    assert Article.objects.filter(pk=draft_article.pk).exists() != deleted


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "expected"), [("anonymous", 302), ("reporter", 200), ("editor", 200)])
def test_import_page(as_role, role, expected):
    assert as_role(role).get(reverse("admin:articles_article_import")).status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "expected"), [("anonymous", 302), ("reporter", 403), ("editor", 200)])
def test_recover_deleted_stories_page(as_role, role, expected):
    assert as_role(role).get(reverse("admin:articles_article_recoverlist")).status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "expected"), [("anonymous", 302), ("reporter", 200), ("editor", 200)])
def test_sections_and_routing_rules_listing(as_role, role, expected):
    for name in ("section", "routingrule"):
        assert as_role(role).get(reverse(f"admin:articles_{name}_changelist")).status_code == expected


@pytest.mark.django_db
def test_only_editors_edit_routing_rules(as_role):
    world = Section.objects.get(slug="world")
    data = {"keyword": "volcano", "section": world.pk, "weight": 3}
    assert as_role("reporter").post(reverse("admin:articles_routingrule_add"), data).status_code == 403
    as_role("editor").post(reverse("admin:articles_routingrule_add"), data)
    assert world.routing_rules.filter(keyword="volcano").exists()


@pytest.mark.django_db
def test_who_published_a_story_is_in_the_admin_log(editor, as_role, make_article):
    article = make_article("Ready Story", status=Article.Status.REVIEW)
    run_action(as_role("editor"), "publish_selected", [article])
    edit(as_role("editor"), article, headline="Ready Story, Updated")
    entries = LogEntry.objects.filter(object_id=str(article.pk)).order_by("pk")
    assert [(e.user, e.get_change_message()) for e in entries] == [
        (editor, "Published."),
        (editor, "Changed Headline."),
    ]


@pytest.mark.django_db
def test_demo_editor_is_an_editor_not_a_superuser():
    out = io.StringIO()
    call_command("setup_demo", stdout=out)
    user = get_user_model().objects.get(username="editor")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["Editors"]
    assert user.has_perm("articles.publish_article")


@pytest.mark.django_db
def test_every_desk_page_opens_for_the_demo_editor():
    call_command("setup_demo", stdout=io.StringIO())
    client = logged_in(get_user_model().objects.get(username="editor"))
    article = Article.objects.first()
    form = load_change_form(client, change_url(article)) | {"standfirst": "A standfirst written on the desk."}
    client.post(reverse("admin:articles_article_change", args=[article.pk]), form)
    [version] = Version.objects.get_for_object(article)
    pages = [
        CHANGELIST,
        ADD,
        change_url(article),
        reverse("admin:articles_article_history", args=[article.pk]),
        reverse("admin:articles_article_revision", args=[article.pk, version.pk]),
        reverse("admin:articles_article_changes", args=[article.pk, version.pk]),
        reverse("admin:articles_article_preview", args=[article.pk]),
        reverse("admin:articles_article_preview_links", args=[article.pk]),
        reverse("admin:articles_article_import"),
        reverse("admin:articles_article_recoverlist"),
        reverse("admin:articles_section_changelist"),
        reverse("admin:articles_section_change", args=[article.section_id]),
        reverse("admin:articles_routingrule_changelist"),
        reverse("admin:articles_photo_changelist"),
        reverse("admin:articles_previewlink_changelist"),
        CHANGELIST + "?status=draft&embargoed=no&image=missing&source=__admin__&q=the",
    ]
    for url in pages:
        assert client.get(url).status_code == 200, url
