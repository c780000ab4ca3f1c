"""Webhooks: what each change fires, as a real receiver on loopback gets it, through the admin as editors use it.

Changes go through the admin over HTTP (the test Client); the tasks they queue when they commit run in this process
as a worker runs them (tests/webhooks.py). Workers, gunicorn and import_dump as processes of their own:
tests/test_webhooks_workers.py.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from articles import webhooks
from articles.models import Announcement, Article, Correction, Delivery, Subscriber
from tests.admin_forms import load_change_form
from tests.ninjs import assert_ninjs
from tests.webhooks import Receiver, committing, run_tasks, settle

CHANGELIST = reverse("admin:articles_article_changelist")
SUBSCRIBERS = reverse("admin:articles_subscriber_changelist")
ADD_SUBSCRIBER = reverse("admin:articles_subscriber_add")
DELIVERIES = reverse("admin:articles_delivery_changelist")


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is on loopback, over http://
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def subscriber(receiver, db):
    return Subscriber.objects.create(name="Partner app", url=receiver.url, events=Subscriber.Event.values)


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def edit(client, article, **changes):
    """Save the story's change form as the editor sees it, with these changes, and let the workers run."""
    data = load_change_form(client, change_url(article))
    data.update(changes)
    with committing():
        response = client.post(change_url(article), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    return response


def run_action(client, action, articles, **fields):
    """A bulk action on the story list, confirmed, and the workers run."""
    data = {"action": action, "_selected_action": [a.pk for a in articles], "index": 0}
    client.post(CHANGELIST, data)
    with committing():
        return client.post(CHANGELIST, {**data, "confirm": "yes", **fields})


@pytest.mark.django_db
def test_publishing_in_the_admin_posts_signed_ninjs_once(editor_client, make_article, receiver, subscriber):
    draft = make_article("Harbour Reopens", status=Article.Status.DRAFT)
    settle()
    assert receiver.requests == []  # a new draft is nobody's business

    edit(editor_client, draft, status="published", published_at_0="", published_at_1="")

    [request] = receiver.wait_for(1)
    assert request.event == "published"
    assert request.path == "/hooks"
    assert request.signed_with(subscriber.secret)
    assert not request.signed_with("another secret")
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["User-Agent"].startswith("Newsroom-Webhooks/")
    story = assert_ninjs(request.json())
    assert story["headlines"][0]["value"] == "Harbour Reopens"
    assert story["pubstatus"] == "usable"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)
    assert request.delivery == str(delivery.delivery_id)

    # Saved again as it is, then run again by a second worker: nothing more.
    edit(editor_client, draft)
    assert webhooks.announce([draft.pk]) == []
    assert run_tasks() == 0
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_changes_to_drafts_fire_nothing(editor_client, make_article, receiver, subscriber):
    draft = make_article("Plans for the Harbour", status=Article.Status.DRAFT)
    edit(editor_client, draft, headline="Plans for the New Harbour")
    edit(editor_client, draft, status="review")
    with committing():
        Correction.objects.create(article=draft, text="A figure was wrong.")
    with committing():
        draft.delete()
    assert receiver.requests == []
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_an_edit_readers_see_fires_updated_a_correction_corrected(
    editor_client, published_article, receiver, subscriber
):
    settle()
    assert receiver.events() == ["published"]
    receiver.requests.clear()
    edit(editor_client, published_article, headline="Floods Hit the Whole Coast")
    with committing():
        Correction.objects.create(article=published_article, text="The river's name was misspelt.")
    requests = receiver.wait_for(2)
    assert [request.event for request in requests] == ["updated", "corrected"]
    assert requests[0].json()["headlines"][0]["value"] == "Floods Hit the Whole Coast"
    corrected = assert_ninjs(requests[1].json())
    assert "The river's name was misspelt." in [d["value"] for d in corrected.get("descriptions", [])]
    assert len({request.delivery for request in requests}) == 2


@pytest.mark.django_db
def test_bulk_actions_fire_one_event_a_story(editor_client, make_article, receiver, subscriber):
    stories = [make_article(f"Story {n}", status=Article.Status.REVIEW) for n in range(3)]
    run_action(editor_client, "publish_selected", stories)
    assert sorted(receiver.events()) == ["published"] * 3

    run_action(editor_client, "withdraw_selected", stories[:2], reason="Legal advice")
    requests = receiver.wait_for(5)[3:]
    assert [request.event for request in requests] == ["withdrawn", "withdrawn"]
    tombstone = assert_ninjs(requests[0].json())
    assert tombstone["pubstatus"] == "canceled"
    assert tombstone["descriptions"][0]["value"] == "Legal advice"
    assert "bodies" not in tombstone and "headlines" not in tombstone


@pytest.mark.django_db
def test_deleting_a_public_or_withdrawn_story_fires_deleted(editor_client, make_article, receiver, subscriber):
    public = make_article("Public Story")
    withdrawn = make_article("Withdrawn Story")
    settle()  # their publication announced
    run_action(editor_client, "withdraw_selected", [withdrawn], reason="Wrong person named")
    receiver.wait_for(3)
    for story in (public, withdrawn):
        url = reverse("admin:articles_article_delete", args=[story.pk])
        with committing():
            assert editor_client.post(url, {"post": "yes"}).status_code == 302
    requests = receiver.wait_for(5)[3:]
    assert [request.event for request in requests] == ["deleted", "deleted"]
    assert [assert_ninjs(request.json())["pubstatus"] for request in requests] == ["canceled", "canceled"]
    assert requests[1].json()["altids"] == [{"role": "id", "value": str(withdrawn.pk)}]


@pytest.mark.django_db
def test_subscribers_get_only_the_events_they_chose(make_article, receiver, subscriber):
    Subscriber.objects.filter(pk=subscriber.pk).update(events=["withdrawn"])
    with committing():
        story = make_article("Chosen Events")
    with committing():
        Article.objects.get(pk=story.pk).save()  # no change
        story = Article.objects.get(pk=story.pk)
        story.status, story.withdrawn_reason = Article.Status.WITHDRAWN, "Retracted"
        story.save()
    assert receiver.events() == ["withdrawn"]


@pytest.mark.django_db
def test_an_embargo_lifting_fires_published_once(editor_client, make_article, receiver, subscriber):
    later = timezone.now() + timedelta(hours=2)
    story = make_article("Budget Embargoed", published_at=later)
    settle()
    assert receiver.requests == []
    assert webhooks.release_due() == []  # not yet

    # Two hours pass: the stored time moves, nothing is saved through the ORM (no signal).
    Article.objects.filter(pk=story.pk).update(published_at=timezone.now() - timedelta(seconds=1))
    Announcement.objects.filter(story_id=story.pk).update(release_at=timezone.now() - timedelta(seconds=1))
    with committing():
        assert webhooks.release_due() == [(story.pk, "published")]
    with committing():
        assert webhooks.release_due() == []  # another worker, a moment later
    assert receiver.events() == ["published"]


@pytest.mark.django_db
def test_a_failed_delivery_is_retried_with_the_same_delivery_id(make_article, settings, subscriber, receiver):
    receiver.answers = [500, 503]
    with committing():
        make_article("Retried Story")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("retrying", 1, 500)
    assert delivery.error == "The receiver answered 500."
    first_wait = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
    assert first_wait == pytest.approx(settings.WEBHOOKS_RETRY_SECONDS, abs=1)
    assert run_tasks() == 0  # not due yet

    for attempt, status in [(2, "retrying"), (3, "delivered")]:
        move_queue_forward()
        run_tasks()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (status, attempt)
    waited = (delivery.last_attempt_at - delivery.created_at).total_seconds()
    assert waited < 5  # moved forward, never slept
    requests = receiver.wait_for(3)
    assert len({request.delivery for request in requests}) == 1
    assert all(request.signed_with(subscriber.secret) for request in requests)
    assert len({request.body for request in requests}) == 1
    subscriber.refresh_from_db()
    assert subscriber.failing_since is None


def move_queue_forward():
    """Tasks queued to run later are due now (time passes without sleeping)."""
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now() - timedelta(seconds=1))


def test_backoff_doubles_up_to_its_cap(settings):
    settings.WEBHOOKS_RETRY_SECONDS, settings.WEBHOOKS_RETRY_MAX_SECONDS = 30, 3600
    assert [webhooks.backoff(n) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


@pytest.mark.django_db
def test_a_subscriber_failing_for_a_day_is_paused_and_editors_see_why(
    editor_client, make_article, receiver, subscriber
):
    receiver.answers = [500] * 10
    with committing():
        make_article("First Failure")
    subscriber.refresh_from_db()
    assert subscriber.active and subscriber.failing_since is not None
    # A day of failures: move the stored times back, not the clock forward.
    day_ago = timezone.now() - timedelta(hours=24, minutes=1)
    Subscriber.objects.filter(pk=subscriber.pk).update(failing_since=day_ago)
    move_queue_forward()
    run_tasks()

    subscriber.refresh_from_db()
    assert not subscriber.active
    assert "Every delivery has failed since" in subscriber.paused_reason
    assert "The receiver answered 500." in subscriber.paused_reason
    assert Delivery.objects.get().status == "gave_up"
    page = editor_client.get(SUBSCRIBERS).content.decode()
    assert "Paused" in page and "Every delivery has failed since" in page

    # Paused: changes are not sent.
    with committing():
        make_article("While Paused")
    assert len(receiver.requests) == 2
    # Resumed by an editor: the next change is.
    receiver.answers = []
    editor_client.post(SUBSCRIBERS, {"action": "resume_selected", "_selected_action": [subscriber.pk]})
    subscriber.refresh_from_db()
    assert subscriber.active and subscriber.paused_reason == ""
    with committing():
        make_article("After Resuming")
    assert receiver.events()[-1] == "published"
    assert receiver.requests[-1].json()["headlines"][0]["value"] == "After Resuming"


@pytest.mark.django_db
def test_a_delivery_failing_for_a_day_is_given_up(make_article, receiver, subscriber):
    receiver.answers = [500] * 3
    with committing():
        make_article("Given Up")
    Delivery.objects.update(created_at=timezone.now() - timedelta(hours=25))
    Subscriber.objects.update(failing_since=timezone.now() - timedelta(hours=1))  # others succeed meanwhile
    move_queue_forward()
    run_tasks()
    delivery = Delivery.objects.get()
    assert delivery.status == "gave_up" and "Gave up after a day" in delivery.error
    assert Subscriber.objects.get().active


@pytest.mark.django_db
def test_an_editor_adds_a_subscriber_and_reads_its_secret(editor_client, receiver):
    data = {"name": "Newsletter tool", "url": receiver.url, "events": ["published", "corrected"]}
    response = editor_client.post(ADD_SUBSCRIBER, data)
    assert response.status_code == 302
    subscriber = Subscriber.objects.get()
    assert subscriber.events == ["published", "corrected"]
    assert len(subscriber.secret) >= 40
    page = editor_client.get(reverse("admin:articles_subscriber_change", args=[subscriber.pk])).content.decode()
    assert subscriber.secret in page

    with committing():
        editor_client.post(SUBSCRIBERS, {"action": "send_ping", "_selected_action": [subscriber.pk]})
    [ping] = receiver.wait_for(1)
    assert ping.event == "ping" and ping.signed_with(subscriber.secret)
    log = editor_client.get(DELIVERIES).content.decode()
    assert "Test ping" in log and "Delivered" in log


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://partner.example/hooks", "must start with https://"),
        ("https://127.0.0.1/hooks", "127.0.0.1, a loopback address"),
        ("https://localhost/hooks", "localhost resolves to"),
        ("https://10.1.2.3/hooks", "a private address"),
        ("https://169.254.169.254/latest/meta-data", "a link-local address"),
        ("https://[::1]/hooks", "::1, a loopback address"),
        ("https://[::ffff:192.168.0.1]/hooks", "a private address"),
        ("https://0.0.0.0/hooks", "an unspecified address"),
        ("https://224.0.0.1/hooks", "a multicast address"),
        ("https://no-such-host.invalid/hooks", "could not be found"),
    ],
)
def test_urls_to_the_newsrooms_own_network_are_refused_at_save(editor_client, settings, url, problem):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = editor_client.post(ADD_SUBSCRIBER, {"name": "Sneaky", "url": url, "events": ["published"]})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["url"]
    assert any(problem in error for error in errors), errors
    assert not Subscriber.objects.exists()


@pytest.mark.django_db
def test_a_private_address_is_refused_again_at_delivery(make_article, receiver, subscriber, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # saved while allowed; now its address is checked as it is sent
    Subscriber.objects.filter(pk=subscriber.pk).update(url=f"https://localhost:{receiver.port}/hooks")
    with committing():
        make_article("Not to Loopback")
    delivery = Delivery.objects.get()
    assert delivery.status == "retrying"
    assert delivery.error.startswith("Refused: localhost resolves to")
    assert "loopback address" in delivery.error
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("2a00:1450:4001:80b::200e", None),
        ("127.0.0.2", "loopback"),
        ("192.168.1.1", "private"),
        ("172.16.0.1", "private"),
        ("100.64.0.1", "non-public"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:8.8.8.8", None),
        ("2002:0a00:0001::1", "private"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ],
)
def test_which_addresses_are_public(address, kind):
    assert webhooks.not_public(address) == kind


@pytest.mark.django_db
def test_reporters_cannot_see_or_manage_subscribers(reporter_client, subscriber):
    for url in (
        SUBSCRIBERS,
        ADD_SUBSCRIBER,
        DELIVERIES,
        reverse("admin:articles_subscriber_change", args=[subscriber.pk]),
    ):
        assert reporter_client.get(url).status_code == 403
    response = reporter_client.post(
        ADD_SUBSCRIBER, {"name": "X", "url": "https://example.com/", "events": ["published"]}
    )
    assert response.status_code == 403
    assert Subscriber.objects.count() == 1


@pytest.mark.django_db
def test_the_delivery_log_reads_in_constant_queries(editor_client, make_article, receiver, subscriber):
    other = Subscriber.objects.create(name="Second", url=receiver.url, events=["published"])
    with committing():
        make_article("One")
    editor_client.get(DELIVERIES)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert editor_client.get(DELIVERIES).status_code == 200
    with committing():
        for n in range(5):
            make_article(f"More {n}")
    with CaptureQueriesContext(connection) as many:
        page = editor_client.get(DELIVERIES)
    assert page.content.decode().count("More ") >= 10
    assert len(many) == len(few)
    assert other.deliveries.count() == 6


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_first_deploy_announces_nothing_already_out_but_embargoes_still_lift(receiver):
    """Migration 0024 records the stories already public, scheduled or withdrawn as announced."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    executor = MigrationExecutor(connection)
    executor.migrate([("articles", "0022_byline_author_statistics")])
    try:
        apps = executor.loader.project_state([("articles", "0022_byline_author_statistics")]).apps
        OldArticle, OldSection = apps.get_model("articles", "Article"), apps.get_model("articles", "Section")
        section = OldSection.objects.create(slug="harbour", name="Harbour", order=100)
        now = timezone.now()
        stories = {
            status: OldArticle.objects.create(
                headline=f"{status} story", slug=f"{status}-story", section=section, body="Text.", **fields
            ).pk
            for status, fields in {
                "public": {"status": "published", "published_at": now - timedelta(days=1)},
                "scheduled": {"status": "published", "published_at": now + timedelta(hours=1)},
                "withdrawn": {"status": "withdrawn", "published_at": now - timedelta(days=2)},
                "draft": {"status": "draft"},
            }.items()
        }
    finally:
        MigrationExecutor(connection).migrate(latest)

    records = dict(Announcement.objects.values_list("story_id", "state"))
    assert records == {
        stories["public"]: "public",
        stories["scheduled"]: "scheduled",
        stories["withdrawn"]: "withdrawn",
    }
    Subscriber.objects.create(name="Partner", url=receiver.url, events=Subscriber.Event.values)
    with committing():
        assert webhooks.announce(stories.values()) == []
        assert webhooks.adopt_seeded() is False  # taken by announce() already: nothing left for the workers
    assert Announcement.objects.get(story_id=stories["public"]).digest != ""
    with committing():
        Article.objects.get(pk=stories["public"]).save()  # a save after the deploy that changes nothing
    Article.objects.filter(pk=stories["scheduled"]).update(published_at=timezone.now() - timedelta(seconds=1))
    Announcement.objects.filter(story_id=stories["scheduled"]).update(release_at=timezone.now())
    with committing():
        assert webhooks.release_due() == [(stories["scheduled"], "published")]
    assert receiver.events() == ["published"]


def test_check_deploy_warns_when_private_targets_are_allowed_in_production(settings):
    from django.core.checks import run_checks

    settings.DEBUG = False
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    assert "newsroom.W001" in [message.id for message in run_checks(include_deployment_checks=True)]
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    assert "newsroom.W001" not in [message.id for message in run_checks(include_deployment_checks=True)]


@pytest.mark.django_db
def test_a_delivery_queued_twice_is_sent_once(make_article, receiver, subscriber):
    with committing():
        make_article("Sent Once")
    delivery = Delivery.objects.get()
    with committing():
        webhooks.send([delivery.pk])  # the task run again once it has delivered
    assert len(receiver.requests) == 1
    # Still to send, and queued twice: the first task to claim it sends it.
    Delivery.objects.update(status="pending", attempts=0)
    with committing():
        webhooks.send([delivery.pk, delivery.pk])
    assert len(receiver.requests) == 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


@pytest.mark.django_db
def test_a_delivery_whose_worker_stopped_while_sending_is_sent_again(make_article, receiver, subscriber):
    with committing():
        make_article("Worker Killed")
    # As a worker killed in the middle of the POST leaves it, a while ago.
    Delivery.objects.update(status="sending", last_attempt_at=timezone.now() - timedelta(minutes=11))
    receiver.requests.clear()
    with committing():
        webhooks.recover_lost_deliveries()
        webhooks.recover_lost_deliveries()  # another worker's watcher
    [again] = receiver.requests
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert again.delivery == str(delivery.delivery_id)


@pytest.mark.django_db
def test_a_delivery_connects_to_the_checked_address_with_the_urls_host_name(make_article, receiver, subscriber):
    Subscriber.objects.filter(pk=subscriber.pk).update(url=f"http://localhost:{receiver.port}/hooks?from=newsroom")
    with committing():
        make_article("Host Header")
    [request] = receiver.requests
    assert request.headers["Host"] == f"localhost:{receiver.port}"
    assert request.path == "/hooks?from=newsroom"


@pytest.mark.django_db
def test_an_import_announces_each_story_once_in_batches(receiver, subscriber, tmp_path, section):
    from django.core.management import call_command

    from bench import corpus

    dump = tmp_path / "dump.txt"
    with open(dump, "w", encoding="utf-8", newline="") as out:
        corpus.write(out, 230)  # more than a transaction's 100
    with committing():
        call_command("import_dump", str(dump), "--status", "published", "--section", section.slug, stdout=None)
    published = set(Article.objects.published().values_list("pk", flat=True))
    assert len(published) == 230
    assert sorted(receiver.events()) == ["published"] * 230
    assert {int(r.json()["altids"][0]["value"]) for r in receiver.requests} == published
    with committing():  # the same dump again: nothing changes, nothing fires
        call_command("import_dump", str(dump), "--status", "published", "--section", section.slug, stdout=None)
    assert len(receiver.requests) == 230


@pytest.mark.django_db
def test_an_editor_changes_a_subscribers_events_and_a_bad_url_loses_nothing(editor_client, subscriber, settings):
    from tests.admin_forms import read_form

    url = reverse("admin:articles_subscriber_change", args=[subscriber.pk])
    data = read_form(editor_client.get(url).content.decode(), "subscriber_form")
    assert data["url"] == subscriber.url
    response = editor_client.post(url, {**data, "events": ["corrected", "published"]})
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.events == ["published", "corrected"]

    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = editor_client.post(url, {**data, "name": "Renamed", "events": []})
    form = response.context["adminform"].form
    assert set(form.errors) == {"url", "events"}
    assert form["name"].value() == "Renamed"  # shown again as typed
    subscriber.refresh_from_db()
    assert (subscriber.name, subscriber.events) == ("Partner app", ["published", "corrected"])


@pytest.mark.django_db
def test_the_delivery_log_is_searched_by_headline_story_or_delivery_id(editor_client, make_article, subscriber):
    with committing():
        story = make_article("Searchable Harbour Story")
    delivery = Delivery.objects.get()
    for term in ("harbour", str(story.pk), str(delivery.delivery_id)):
        page = editor_client.get(DELIVERIES, {"q": term})
        assert page.status_code == 200
        assert "Searchable Harbour Story" in page.content.decode(), term
    assert "Searchable Harbour Story" not in editor_client.get(DELIVERIES, {"q": "nothing"}).content.decode()


@pytest.mark.django_db
def test_a_change_is_kept_once_however_many_subscribers_it_goes_to(make_article, receiver, subscriber):
    from articles.models import Notice

    for n in range(2):
        Subscriber.objects.create(name=f"Partner {n}", url=receiver.url, events=["published"])
    Subscriber.objects.create(name="Withdrawals only", url=receiver.url, events=["withdrawn"])
    with committing():
        make_article("Fanned Out")
    requests = receiver.wait_for(3)
    assert len(requests) == 3 and len({request.delivery for request in requests}) == 3
    assert len({request.body for request in requests}) == 1
    assert Notice.objects.count() == 1 and Delivery.objects.count() == 3


@pytest.mark.django_db
def test_a_change_whose_announcement_was_lost_with_its_worker_is_announced_by_the_next_look(
    make_article, receiver, subscriber
):
    """A worker killed while announcing a change (django-tasks-db does not run the task again): the other
    workers' watchers compare the stories saved since, and the change fires once, however often they look."""
    since = timezone.now() - timedelta(hours=1)
    story = make_article("Lost Announcement", status=Article.Status.DRAFT)
    settle()
    # Published three minutes ago by a save whose announcement task died with its worker (no signal ran).
    saved_at = timezone.now() - timedelta(minutes=3)
    Article.objects.filter(pk=story.pk).update(
        status=Article.Status.PUBLISHED, published_at=saved_at, updated_at=saved_at
    )
    with committing():
        mark = webhooks.announce_missed(since)
    with committing():
        webhooks.announce_missed(since)  # another worker's look
        webhooks.announce_missed(mark)
    assert receiver.events() == ["published"]
    # A save a moment ago is its own task's to announce: the look leaves it for MISSED_AFTER.
    Article.objects.filter(pk=story.pk).update(headline="Lost Announcement, Updated", updated_at=timezone.now())
    with committing():
        webhooks.announce_missed(since)
    assert receiver.events() == ["published"]
