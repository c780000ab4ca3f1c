"""A reader's journey in a real browser (Playwright driving Debian's Chromium)."""

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reader_browses_a_section_reads_a_story_searches_and_finds_the_feed(browser, live_server, reader_site):
    page = browser.new_page()
    page.goto(live_server.url + "/")
    assert page.get_by_role("heading", name="Floods Hit the Coast").is_visible()

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="World").click()
    assert page.get_by_role("heading", level=1).inner_text() == "World"
    assert page.get_by_role("link", name="World").first.get_attribute("aria-current") == "page"

    page.get_by_role("link", name="Floods Hit the Coast").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Floods Hit the Coast"
    assert "misspelled the mayor" in page.locator(".corrections").inner_text()
    assert page.locator("figure figcaption").inner_text().startswith("A flooded street in the port.")

    # Keyboard: the skip link is the first stop and leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"

    page.get_by_role("searchbox", name="Search stories").fill("mayor residents")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=mayor+residents")
    assert page.get_by_role("heading", name="1 result").is_visible()
    assert page.locator("mark").first.inner_text().lower() in {"mayor", "residents"}

    feed_url = page.locator('link[rel="alternate"][type="application/rss+xml"]').first.get_attribute("href")
    feed = page.request.get(live_server.url + feed_url)
    assert feed.ok and "Floods Hit the Coast" in feed.text()
    footer_feed = page.get_by_role("contentinfo").get_by_role("link", name="RSS").get_attribute("href")
    assert footer_feed == feed_url
    page.close()
