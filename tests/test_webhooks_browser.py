"""An editor sets up a webhook subscriber in the admin with a real browser (Chromium): adds it, ticks its events,
sends a test ping that a real receiver gets, reads the delivery log and the secret, under the site's
Content-Security-Policy (no console errors)."""

import pytest
from django.urls import reverse

from articles.models import Subscriber
from tests.admin_browser import load, open_admin
from tests.webhooks import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_an_editor_adds_a_subscriber_and_pings_it(browser, live_server, editor, media_root, settings, immediate_tasks):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is on loopback
    with Receiver() as receiver:
        page, problems = open_admin(browser, live_server, media_root, editor)
        load(page, live_server.url + reverse("admin:articles_subscriber_add"))
        page.fill("#id_name", "Partner app")
        page.fill("#id_url", receiver.url)
        page.get_by_label("Published").check()
        page.get_by_label("Withdrawn").check()
        page.click("input[name=_save]")
        page.wait_for_selector("#result_list")
        subscriber = Subscriber.objects.get()
        assert subscriber.events == ["published", "withdrawn"]
        assert subscriber.created_by == editor

        page.locator("input.action-select").first.check()
        page.select_option("select[name=action]", "send_ping")
        page.click("button[name=index]")
        page.wait_for_selector("text=A test ping is on its way")
        [ping] = receiver.wait_for(1)
        assert ping.event == "ping" and ping.signed_with(subscriber.secret)

        load(page, live_server.url + reverse("admin:articles_delivery_changelist"))
        row = page.locator("#result_list tbody tr").first
        assert "Test ping" in row.inner_text() and "Delivered" in row.inner_text()
        assert "200" in row.inner_text()

        load(page, live_server.url + reverse("admin:articles_subscriber_change", args=[subscriber.pk]))
        assert page.locator(".field-secret_shown code").inner_text() == subscriber.secret
        assert problems == []
