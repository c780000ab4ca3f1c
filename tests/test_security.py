from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from tests.admin_browser import load, make_desk, open_admin
from tests.conftest import SAMPLE as SAMPLE_DUMP

FEED_URL_NAMES = ["articles:feed", "articles:index-feed", "articles:latest-feed"]


def feed_urls(article):
    """The site's feeds, once the public-site work adds them."""
    urls = []
    for name in FEED_URL_NAMES:
        try:
            urls.append(reverse(name))
        except NoReverseMatch:
            pass
    try:
        urls.append(reverse("articles:section-feed", kwargs={"section": article.section.slug}))
    except NoReverseMatch:
        pass
    return urls


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_superuser("desk", "desk@example.com", "correct horse battery")


@pytest.fixture
def every_kind_of_page(published_article):
    return [
        reverse("articles:index"),
        published_article.section.get_absolute_url(),
        published_article.get_absolute_url(),
        reverse("admin:login"),
        reverse("healthz"),
        "/search/?q=floods",
        "/no-such-section/",
        *feed_urls(published_article),
    ]


@pytest.mark.django_db
def test_every_response_carries_the_security_headers(client, every_kind_of_page):
    for url in every_kind_of_page:
        response = client.get(url)

        assert "Content-Security-Policy" in response.headers, url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"] == "same-origin", url
        assert response.headers["X-Frame-Options"] == "DENY", url
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin", url


@pytest.mark.django_db
def test_admin_pages_carry_the_security_headers_for_a_logged_in_editor(client, editor, published_article):
    client.force_login(editor)
    for url in [reverse("admin:index"), reverse("admin:articles_article_change", args=[published_article.pk])]:
        response = client.get(url)

        assert response.status_code == 200
        assert "Content-Security-Policy" in response.headers
        assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_content_security_policy_allows_no_inline_code_and_no_framing(client, every_kind_of_page):
    for url in every_kind_of_page:
        policy = client.get(url).headers["Content-Security-Policy"]

        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        assert "default-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "object-src 'none'" in policy


class InlineCode(HTMLParser):
    """What a policy without 'unsafe-inline' would block: inline scripts, style elements and attributes."""

    DATA_TYPES = {"application/json", "application/ld+json"}  # data, not code: CSP leaves them alone

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs and attrs.get("type") not in self.DATA_TYPES:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{name}= on <{tag}>" for name in attrs if name == "style" or name.startswith("on")]


@pytest.mark.django_db
def test_pages_contain_no_inline_script_or_style(client, every_kind_of_page):
    for url in every_kind_of_page:
        parser = InlineCode()
        parser.feed(client.get(url).content.decode())

        assert parser.found == [], url


@pytest.mark.django_db
def test_csrf_cookie_is_hidden_from_scripts(client):
    response = client.get(reverse("admin:login"))

    assert response.cookies["csrftoken"]["httponly"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_admin_works_in_a_browser_under_the_content_security_policy(
    browser, live_server, editor, section, media_root, immediate_tasks
):
    pages = make_desk(editor, section)
    violations = []
    page = browser.new_page()
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", "desk")
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + reverse("admin:index"))

    page.goto(live_server.url + reverse("admin:articles_article_add"))
    page.locator("#id_headline").press_sequentially("Storm Closes Airport")
    # The slug is filled in by the admin's prepopulate script: it only runs if the policy let it load.
    assert page.input_value("#id_slug") == "storm-closes-airport"
    # The calendar shortcut is added by another admin script, and styled by the admin's stylesheet.
    assert page.locator(".datetimeshortcuts a").first.is_visible()
    page.goto(live_server.url + reverse("admin:articles_article_changelist"))
    page.close()

    assert violations == []

    # Every kind of admin page, with stories, photos and history on it: not a single console error.
    page, problems = open_admin(browser, live_server, media_root, editor)
    for name, url in pages.items():
        load(page, live_server.url + url)
        assert page.locator("#content").is_visible(), name
    # The import job's page (its script loaded) with the dry run's report, then the import's; a bulk action's
    # confirmation.
    load(page, live_server.url + pages["import"])
    page.set_input_files("#id_dump", SAMPLE_DUMP)
    page.click("input[type=submit]")
    page.wait_for_selector(".job-summary")
    page.click("input[value='Import for real']")
    page.wait_for_selector("text=Imported: created 4")
    load(page, live_server.url + pages["story list"])
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", "move_to_section")
    page.click("button[name=index]")
    page.wait_for_selector("text=Move these stories?")
    page.close()

    assert problems == []


@pytest.mark.django_db
def test_admin_pages_with_data_contain_no_inline_style(client, editor, section):
    client.force_login(editor)
    for name, url in make_desk(editor, section).items():
        parser = InlineCode()
        parser.feed(client.get(url).content.decode())

        assert parser.found == [], name


def test_admin_url_comes_from_the_settings():
    assert reverse("admin:index") == "/" + settings.ADMIN_URL
