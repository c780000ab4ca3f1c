"""Accessibility: the Nu HTML Checker finds no errors and axe-core no violations on the reader's pages.

Both checkers come from node_modules (package.json; `make test` installs them). vnu.jar runs on the
machine's Java; axe-core is injected by Playwright into Debian's Chromium, in light and dark mode.
"""

import json
import subprocess

import pytest

from articles.models import Article

from .conftest import ROOT

pytestmark = pytest.mark.checkers

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def reader_pages(article):
    return {
        "home": "/",
        "section": "/world/",
        "article": article.get_absolute_url(),
        "arabic article": Article.objects.get(slug="floods-arabic").get_absolute_url(),
        "search": "/search/?q=floods",
        "search without results": "/search/?q=nothing+matches+this",
        "author": "/authors/jane-reporter/",
        "author without stories": "/authors/sami-nour/",
        "topic": "/topics/weather/",
        "search by an unknown topic": "/search/?q=floods&topic=no-such-topic&author=jane-reporter",
    }


@pytest.mark.django_db
def test_nu_html_checker_finds_no_errors(client, reader_site, tmp_path):
    pages = {**reader_pages(reader_site), "not found": "/no-such-page/"}
    files = []
    for name, url in pages.items():
        path = tmp_path / f"{name.replace(' ', '-')}.html"
        path.write_bytes(client.get(url).content)
        files.append(str(path))
    withdrawn = tmp_path / "withdrawn.html"
    reader_site.status = Article.Status.WITHDRAWN
    reader_site.withdrawn_reason = "Withdrawn for legal reasons."
    reader_site.save()
    withdrawn.write_bytes(client.get(reader_site.get_absolute_url()).content)
    files.append(str(withdrawn))

    run = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--stdout", "--errors-only", *files],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    messages = json.loads(run.stdout)["messages"]
    errors = [f"{m['url'].rsplit('/', 1)[-1]}:{m.get('lastLine')}: {m['message']}" for m in messages]
    assert errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations(browser, live_server, reader_site, scheme):
    # bypass_csp: axe is injected as a script, which the site's CSP would rightly refuse.
    context = browser.new_context(color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    problems = {}
    for name, url in reader_pages(reader_site).items():
        page.goto(live_server.url + url)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document)")
        violations = [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]]
        if violations:
            problems[name] = violations
    context.close()
    assert problems == {}
