"""Arranging fronts at the desk, through the admin's own HTTP views: the list of arrangements and their states, the
story picker, who may approve or change what, revisions with readable changes and revert, and two editors at once.

Every form is loaded as a browser loads it and posted back with its CSRF token, by clients that enforce it."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from articles.history import slot_changes
from articles.models import Article, Front, FrontSlot, Section
from tests.admin_forms import read_form

CHANGELIST = reverse("admin:articles_front_changelist")
ADD = reverse("admin:articles_front_add")
STORIES = reverse("admin:articles_front_stories")


def change_url(front):
    return reverse("admin:articles_front_change", args=[front.pk])


def desk_client(user):
    """A browser at the desk: it sends the CSRF token the page gave it, and the server checks it."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.fixture
def ana(make_user):
    return desk_client(make_user("ana", "Editors"))


@pytest.fixture
def ben(make_user):
    return desk_client(make_user("ben", "Editors"))


@pytest.fixture
def rita(make_user):
    return desk_client(make_user("rita", "Reporters"))


@pytest.fixture
def stories(make_article):
    return [
        make_article(headline)
        for headline in ["Floods Hit the Coast", "Storm Season Starts", "Budget Passes", "Mayor Resigns"]
    ]


def split(moment):
    local = timezone.localtime(moment)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def load_form(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return read_form(response.content.decode(), "front_form")


def arrange(client, url, stories, pins=None, **fields):
    """Load the form at `url`, arrange these stories in this order (pins: {story: until}), change `fields`, and
    post it as the page would: rows of stories kept keep their ids, the others are ticked for deletion."""
    data = load_form(client, url)
    data.update(fields)
    pins = pins or {}
    wanted = [story.pk for story in stories]
    initial = int(data["slots-INITIAL_FORMS"])
    kept = set()
    for i in range(initial):
        article = int(data[f"slots-{i}-article"])
        if article in wanted:
            kept.add(article)
            data[f"slots-{i}-order"] = wanted.index(article)
            set_pin(data, i, pins.get(article))
        else:
            data[f"slots-{i}-DELETE"] = "on"
    new = [pk for pk in wanted if pk not in kept]
    for n, article in enumerate(new, start=initial):
        data.update({f"slots-{n}-article": article, f"slots-{n}-order": wanted.index(article), f"slots-{n}-id": ""})
        set_pin(data, n, pins.get(article))
    data["slots-TOTAL_FORMS"] = initial + len(new)
    return client.post(url, data)


def set_pin(data, index, until):
    data[f"slots-{index}-pinned_until_0"], data[f"slots-{index}-pinned_until_1"] = split(until) if until else ("", "")


def new_front(client, stories, *, at=None, approved=True, pins=None, **fields):
    date, time = split(at or timezone.now() - timedelta(minutes=1))
    fields = {"live_from_0": date, "live_from_1": time, **fields}
    if approved:
        fields["approved"] = "on"
    response = arrange(client, ADD, stories, pins, **fields)
    assert response.status_code == 302, form_errors(response)
    return Front.objects.latest("pk")


def form_errors(response):
    context = response.context
    if not context or "adminform" not in context:
        return response.status_code
    return context["adminform"].form.errors, [f.errors for f in context["inline_admin_formsets"][0].formset.forms]


def headlines(front):
    return [slot.article.headline for slot in front.slots.select_related("article")]


@pytest.mark.django_db
def test_an_editor_arranges_the_home_page_and_the_log_says_who(ana, stories):
    lead, *rest = stories
    front = new_front(ana, [stories[2], lead, stories[1]], title="Morning")

    assert front.section is None and front.approved and front.title == "Morning"
    assert headlines(front) == ["Budget Passes", "Floods Hit the Coast", "Storm Season Starts"]
    entry = LogEntry.objects.get(object_id=str(front.pk), content_type__model="front")
    assert entry.user.username == "ana" and entry.is_addition()
    assert Version.objects.get_for_object(front).get().revision.user.username == "ana"


@pytest.mark.django_db
def test_the_list_shows_per_page_which_arrangement_is_live_and_which_comes_next(ana, stories, section):
    now = timezone.now()
    europe = Section.objects.get_or_create(slug="europe", defaults={"name": "Europe", "order": 5})[0]
    Front.objects.create(title="Breakfast", live_from=now - timedelta(hours=3), approved=True)
    Front.objects.create(title="Morning", live_from=now - timedelta(hours=1), approved=True)
    Front.objects.create(title="Lunchtime", live_from=now + timedelta(hours=2), approved=True)
    Front.objects.create(title="Evening", live_from=now + timedelta(hours=8), approved=True)
    Front.objects.create(title="Rita's idea", live_from=now - timedelta(hours=2))
    Front.objects.create(title="Summit", section=europe, live_from=now - timedelta(days=1), approved=True)
    morning = Front.objects.get(title="Morning")
    for order, story in enumerate(stories[:3]):
        FrontSlot.objects.create(front=morning, article=story, order=order)

    page = ana.get(CHANGELIST).content.decode()
    rows = {title: row for row in page.split("<tr")[2:] for title in [between(row)] if title}
    assert "Live now" in rows["Morning"] and "Live now" in rows["Summit"]
    assert "Next: goes live in 1\xa0hour" in rows["Lunchtime"]
    assert "Scheduled: goes live in 7\xa0hours" in rows["Evening"]
    assert "Past: replaced" in rows["Breakfast"]
    assert "Suggestion" in rows["Rita&#x27;s idea"]
    assert '<td class="field-slots">3</td>' in rows["Morning"]
    assert "Home page" in rows["Morning"] and "Europe" in rows["Summit"]

    live = ana.get(CHANGELIST, {"state": "live"}).content.decode()
    assert "Morning" in live and "Summit" in live and "Lunchtime" not in live and "Breakfast" not in live
    home_scheduled = ana.get(CHANGELIST, {"state": "scheduled", "page": "home"}).content.decode()
    assert "Lunchtime" in home_scheduled and "Evening" in home_scheduled and "Morning" not in home_scheduled
    europe_only = ana.get(CHANGELIST, {"page": europe.pk}).content.decode()
    assert "Summit" in europe_only and "Morning" not in europe_only


def between(row):
    """The title of a row of the list (its second link)."""
    links = row.split("</a>")
    return links[1].rsplit(">", 1)[-1] if len(links) > 2 else None


@pytest.mark.django_db
def test_the_story_picker_searches_headlines_and_says_what_readers_will_see(ana, make_article, stories):
    make_article("Floods Draft Piece", status=Article.Status.DRAFT, slug="floods-draft")
    make_article("Floods Embargoed Report", published_at=timezone.now() + timedelta(hours=3), slug="floods-later")
    make_article("Floods Gone", status=Article.Status.WITHDRAWN, withdrawn_reason="Wrong.", slug="floods-gone")
    make_article("Harbour Opens", body="Floods are over.", slug="harbour")
    params = {"app_label": "articles", "model_name": "frontslot", "field_name": "article"}

    found = ana.get(STORIES, {**params, "term": "floods"}).json()["results"]

    labels = sorted(result["text"] for result in found)
    assert len(labels) == 4  # the headline is searched, not the body: "Harbour Opens" is not offered
    assert "Floods Hit the Coast — published" in labels
    assert "Floods Draft Piece — draft: shows only once published" in labels
    assert "Floods Gone — withdrawn: never shows" in labels
    embargoed = next(label for label in labels if label.startswith("Floods Embargoed Report"))
    assert "embargoed until" in embargoed and "shows from then" in embargoed
    assert ana.get(STORIES, {**params, "term": "coast floods"}).json()["results"][0]["text"].startswith("Floods Hit")


@pytest.mark.django_db
def test_a_slot_of_a_story_not_yet_published_says_so_on_the_form(ana, stories, draft_article):
    front = new_front(ana, [stories[0], draft_article])

    page = ana.get(change_url(front)).content.decode()

    assert "Secret Draft About Budget — draft: shows only once published" in page  # the chosen story's label
    assert "Draft: shows only once published" in page  # the "Readers see it" column


@pytest.mark.django_db
def test_a_reporter_saves_a_suggestion_which_an_editor_approves(rita, ana, stories):
    response = arrange(rita, ADD, stories[:2], title="Rita's idea", live_from_0="2030-01-01", live_from_1="12:00")
    assert response.status_code == 302, form_errors(response)
    front = Front.objects.get()
    assert not front.approved and headlines(front) == ["Floods Hit the Coast", "Storm Season Starts"]
    assert "Only editors approve arrangements" in rita.get(change_url(front)).content.decode()

    assert arrange(rita, change_url(front), stories[1::-1]).status_code == 302  # still a suggestion: hers to change
    assert arrange(ana, change_url(front), stories[:3], approved="on").status_code == 302
    front.refresh_from_db()
    assert front.approved and len(headlines(front)) == 3


@pytest.mark.django_db
def test_a_reporters_forged_approval_is_refused_and_nothing_is_saved(rita, stories):
    response = arrange(rita, ADD, stories[:2], live_from_0="2030-01-01", live_from_1="12:00", approved="on")

    assert response.status_code == 200
    assert "Only editors can approve an arrangement" in response.content.decode()
    assert not Front.objects.exists() and not FrontSlot.objects.exists()


@pytest.mark.django_db
def test_a_reporter_cannot_approve_their_own_suggestion_by_a_forged_post(rita, stories):
    arrange(rita, ADD, stories[:2], live_from_0="2030-01-01", live_from_1="12:00")
    front = Front.objects.get()

    response = arrange(rita, change_url(front), stories[:3], approved="on")

    assert "Only editors can approve an arrangement" in response.content.decode()
    front.refresh_from_db()
    assert not front.approved and len(headlines(front)) == 2


@pytest.mark.django_db
def test_a_reporter_may_not_change_revert_or_delete_an_approved_arrangement(rita, ana, stories):
    front = new_front(ana, stories[:2])
    arrange(ana, change_url(front), stories[:3])
    page = rita.get(change_url(front))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # shown, read only

    # Forged: the editor's form, with the reporter's own CSRF token.
    token = read_form(rita.get(ADD).content.decode(), "front_form")["csrfmiddlewaretoken"]
    data = {**read_form(ana.get(change_url(front)).content.decode(), "front_form"), "csrfmiddlewaretoken": token}
    forged = rita.post(change_url(front), {**data, "title": "Rita's"})
    oldest = Version.objects.get_for_object(front).order_by("pk").first()
    revert = rita.post(reverse("admin:articles_front_revision", args=[front.pk, oldest.pk]), data)
    delete = rita.post(
        reverse("admin:articles_front_delete", args=[front.pk]), {"post": "yes", "csrfmiddlewaretoken": token}
    )

    for refused in forged, revert, delete:
        assert refused.status_code == 403 and b"CSRF" not in refused.content  # refused for who she is
    front.refresh_from_db()
    assert front.title == "" and len(headlines(front)) == 3


@pytest.mark.django_db
def test_slots_swap_places_and_stories_in_one_save(ana, stories):
    front = new_front(ana, stories[:3])
    data = load_form(ana, change_url(front))
    # The lead and the second row exchange their stories (one_slot_per_story holds only after the save).
    data["slots-0-article"], data["slots-1-article"] = data["slots-1-article"], data["slots-0-article"]

    assert ana.post(change_url(front), data).status_code == 302
    assert headlines(front) == ["Storm Season Starts", "Floods Hit the Coast", "Budget Passes"]


@pytest.mark.django_db
def test_the_same_story_twice_is_refused(ana, stories):
    response = arrange(ana, ADD, [stories[0], stories[1]], live_from_0="2030-01-01", live_from_1="12:00")
    front = Front.objects.get()
    data = load_form(ana, change_url(front))
    data["slots-1-article"] = data["slots-0-article"]

    response = ana.post(change_url(front), data)

    assert response.status_code == 200 and "Please correct the duplicate data for article" in response.content.decode()


def test_a_story_added_on_top_moves_no_one_else():
    def slots(*ids, pins=None):
        return [FrontSlot(article_id=pk, order=i, pinned_until=(pins or {}).get(pk)) for i, pk in enumerate(ids)]

    names = {pk: f"S{pk}" for pk in range(1, 6)}
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)

    assert slot_changes(slots(1, 2, 3), slots(4, 1, 2, 3), names) == ["Added “S4” as the lead."]
    assert slot_changes(slots(1, 2, 3), slots(3, 1, 2), names) == ["Moved “S3” from position 3 to the lead."]
    assert slot_changes(slots(1, 2, 3), slots(1, 3, pins={3: noon}), names) == [
        f"Pinned “S3” until {timezone.localtime(noon):%Y-%m-%d} 12:00.",
        "Removed “S2” (was position 2).",
    ]


@pytest.mark.django_db
def test_history_lists_who_saved_and_what_changed_readably(ana, ben, stories):
    pin = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    front = new_front(ana, stories[:3], title="Morning")
    assert arrange(ben, change_url(front), [stories[2], stories[0], stories[3]], pins={stories[3].pk: pin}).status_code
    later = split(front.live_from + timedelta(hours=1))
    arrange(ana, change_url(front), [stories[2], stories[0], stories[3]], live_from_0=later[0], live_from_1=later[1])

    history = ana.get(reverse("admin:articles_front_history", args=[front.pk])).content.decode()
    assert history.count("ana") >= 2 and history.count("ben") >= 1 and "what changed" in history

    middle = list(Version.objects.get_for_object(front).order_by("pk"))[1]
    changes = ana.get(reverse("admin:articles_front_changes", args=[front.pk, middle.pk])).content.decode()
    assert "Moved “Budget Passes” from position 3 to the lead." in changes
    assert f"Added “Mayor Resigns” as position 3, pinned until {pin:%Y-%m-%d %H:%M}." in changes
    assert "Removed “Storm Season Starts” (was position 2)." in changes
    assert "saved" in changes and "ben" in changes

    last = Version.objects.get_for_object(front).first()
    changes = ana.get(reverse("admin:articles_front_changes", args=[front.pk, last.pk])).content.decode()
    assert "Live from" in changes and "<ins>" in changes and "Moved" not in changes


@pytest.mark.django_db
def test_revert_brings_back_an_earlier_arrangement_as_a_new_revision(ana, stories):
    front = new_front(ana, stories[:3], title="Morning")
    arrange(ana, change_url(front), stories[3:], title="Afternoon")
    first = Version.objects.get_for_object(front).order_by("pk").first()
    url = reverse("admin:articles_front_revision", args=[front.pk, first.pk])

    shown = ana.get(url)
    assert shown.status_code == 200 and "Floods Hit the Coast" in shown.content.decode()
    assert headlines(front) == ["Mayor Resigns"]  # looking is not reverting
    response = ana.post(url, read_form(shown.content.decode(), "front_form"))

    assert response.status_code == 302, form_errors(response)
    front.refresh_from_db()
    assert front.title == "Morning" and headlines(front) == [s.headline for s in stories[:3]]
    assert Version.objects.get_for_object(front).count() == 3
    assert front.version == 3  # newer than any copy read before the revert: those are refused


@pytest.mark.django_db
def test_the_second_of_two_editors_saving_gets_the_conflict_and_loses_nothing(ana, ben, stories):
    front = new_front(ana, stories[:3], title="Morning")
    ana_form, ben_form = load_form(ana, change_url(front)), load_form(ben, change_url(front))
    ana_form["slots-2-DELETE"] = "on"
    ana_form["title"] = "Ana's"
    assert ana.post(change_url(front), ana_form).status_code == 302

    ben_form["title"] = "Ben's"
    ben_form["slots-0-order"], ben_form["slots-1-order"] = "1", "0"
    refused = ben.post(change_url(front), ben_form)

    assert refused.status_code == 200
    page = refused.content.decode()
    assert "saved by ana while you were editing it" in page and "NOT saved" in page
    assert "Removed “Budget Passes” (was position 3)." in page and "Ana&#x27;s" in page
    front.refresh_from_db()
    assert front.title == "Ana's" and len(headlines(front)) == 2  # Ana's save is intact
    shown = read_form(page, "front_form")
    assert shown["title"] == "Ben's" and shown["slots-0-order"] == "1"  # and Ben's arrangement still in his form

    assert "Budget Passes" in page  # the story Ana took off is still in Ben's arrangement, as he left it

    assert ben.post(change_url(front), shown).status_code == 302  # Ben saves it again, knowingly
    front.refresh_from_db()
    assert front.title == "Ben's"
    assert headlines(front) == ["Storm Season Starts", "Floods Hit the Coast", "Budget Passes"]


@pytest.mark.django_db
def test_after_a_conflict_an_editor_may_also_take_the_other_editors_removal(ana, ben, stories):
    front = new_front(ana, stories[:3], title="Morning")
    ana_form, ben_form = load_form(ana, change_url(front)), load_form(ben, change_url(front))
    ana.post(change_url(front), {**ana_form, "slots-2-DELETE": "on"})
    shown = read_form(ben.post(change_url(front), {**ben_form, "title": "Ben's"}).content.decode(), "front_form")

    budget = next(
        k.removesuffix("-article") for k, v in shown.items() if k.endswith("-article") and v == str(stories[2].pk)
    )
    shown[f"{budget}-DELETE"] = "on"  # Ben agrees with Ana: that story goes
    assert ben.post(change_url(front), shown).status_code == 302
    assert headlines(front) == ["Floods Hit the Coast", "Storm Season Starts"]


@pytest.mark.django_db
def test_the_change_form_loads_the_reordering_script_and_no_inline_code(ana, stories):
    front = new_front(ana, stories[:2])

    page = ana.get(change_url(front)).content.decode()

    assert "articles/fronts.js" in page and "articles/fronts.css" in page
    assert "<script>" not in page and " style=" not in page


@pytest.mark.django_db
def test_the_change_form_previews_a_scheduled_arrangement_in_the_readers_template(ana, stories):
    later = timezone.now() + timedelta(hours=2)
    front = new_front(ana, [stories[3], stories[0]], at=later, title="Lunchtime")

    page = ana.get(change_url(front)).content.decode()
    preview = reverse("articles:front-preview", args=[front.pk])
    assert f'href="{preview}"' in page

    shown = ana.get(preview).content.decode()
    lead = shown.index('<article class="card card--lead"')
    assert lead < shown.index("Mayor Resigns") < shown.index("Floods Hit the Coast")


@pytest.mark.django_db
def test_the_story_picker_pages_through_many_matches_newest_first(ana, many_articles):
    many_articles(25)
    params = {"app_label": "articles", "model_name": "frontslot", "field_name": "article", "term": "story number"}

    first, second = (ana.get(STORIES, {**params, "page": page}).json() for page in (1, 2))

    assert len(first["results"]) == 20 and first["pagination"]["more"]
    assert len(second["results"]) == 5 and not second["pagination"]["more"]
    assert first["results"][0]["text"] == "Story number 0 — published"  # the newest
    assert second["results"][-1]["text"] == "Story number 24 — published"


@pytest.mark.django_db
def test_a_story_deleted_while_the_front_is_edited_is_named_on_its_row(ana, stories):
    front = new_front(ana, stories[:3])
    form = load_form(ana, change_url(front))
    stories[1].delete()  # its slot goes with it

    response = ana.post(change_url(front), {**form, "title": "Noon"})

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert [f.errors.get("article") for f in formset.forms if f.errors] == [
        ["Select a valid choice. That choice is not one of the available choices."]
    ]
    assert 'class="errorlist' in response.content.decode()
    front.refresh_from_db()
    assert front.title == ""


@pytest.mark.django_db
def test_an_editor_recovers_a_deleted_arrangement_with_its_stories_and_a_reporter_cannot(ana, rita, stories):
    front = new_front(ana, stories[:3], title="Morning")
    token = load_form(ana, change_url(front))["csrfmiddlewaretoken"]
    delete = reverse("admin:articles_front_delete", args=[front.pk])
    assert ana.post(delete, {"post": "yes", "csrfmiddlewaretoken": token}).status_code == 302
    assert not Front.objects.exists() and not FrontSlot.objects.exists()
    deleted = Version.objects.get_deleted(Front).get()
    recover = reverse("admin:articles_front_recover", args=[deleted.pk])

    assert rita.get(recover).status_code == 403  # undeleting is for those who may delete: editors
    assert "Recover deleted arrangements" not in rita.get(CHANGELIST).content.decode()
    assert "Recover deleted arrangements" in ana.get(CHANGELIST).content.decode()
    shown = ana.get(recover)
    assert shown.status_code == 200
    assert ana.post(recover, read_form(shown.content.decode(), "front_form")).status_code == 302

    front = Front.objects.get()
    assert front.title == "Morning" and front.approved and headlines(front) == [s.headline for s in stories[:3]]
