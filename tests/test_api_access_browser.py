"""API keys in a real browser: an editor issues a key, copies it from the one page that shows it, and revokes it."""

import json
import urllib.error
import urllib.request

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from articles.models import APIKey
from tests.admin_browser import load, open_admin

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.urls("tests.api_urls"),
]


def api_status(live_server, key):
    """(status, partner) of a request to the API with this key, as a partner's server sends it."""
    request = urllib.request.Request(live_server.url + "/api/v1/whoami/", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())["partner"]
    except urllib.error.HTTPError as error:
        return error.code, None


def test_an_editor_issues_a_key_sees_it_once_and_revokes_it(browser, live_server, make_user, media_root):
    editor = make_user("desk-editor", "Editors")
    page, problems = open_admin(browser, live_server, media_root, editor)
    load(page, live_server.url + reverse("admin:articles_apikey_changelist"))

    page.get_by_role("link", name="Add API key").click()
    page.get_by_label("Name").fill("Harbour Times app")
    page.get_by_label("Requests per minute").fill("120")
    expect(page.locator("input[name=_addanother]")).to_have_count(0)  # the only way on is the page with the key
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state("load")

    expect(page.get_by_role("heading", name="The key for Harbour Times app")).to_be_visible()
    key = page.get_by_label("API key").input_value()
    api_key = APIKey.objects.get()
    assert key.startswith(f"nr_{api_key.prefix}_")
    assert api_status(live_server, key) == (200, "Harbour Times app")

    page.get_by_role("link", name="Done: I have copied it").click()
    page.wait_for_load_state("load")
    expect(page.locator("#result_list")).to_contain_text(api_key.prefix)
    page.get_by_role("link", name=api_key.prefix).click()
    page.wait_for_load_state("load")
    assert key.rsplit("_", 1)[1] not in page.content()  # never shown again

    load(page, live_server.url + reverse("admin:articles_apikey_changelist"))
    page.locator(f"input[name=_selected_action][value='{api_key.pk}']").check()
    page.select_option("select[name=action]", "revoke_selected")
    page.get_by_role("button", name="Run").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Revoke 1 API key?")).to_be_visible()
    assert api_status(live_server, key)[0] == 200  # nothing happens before the editor confirms
    page.get_by_role("button", name="Yes, revoke").click()
    page.wait_for_load_state("load")

    expect(page.locator(".messagelist")).to_contain_text("Revoked: Harbour Times app")
    assert api_status(live_server, key) == (401, None)
    load(page, live_server.url + reverse("admin:articles_apikey_change", args=[api_key.pk]))
    expect(page.locator("input[name=_save]")).to_have_count(0)  # a revoked key can only be looked at
    assert problems == []
