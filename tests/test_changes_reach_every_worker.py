"""Editors' work reaches readers intact and at once: in every process, in the default set-up.

The matrix test of the issue. The site runs as production runs it (gunicorn with several workers, debug off,
the page cache on for 300 s), in three set-ups:

- ``sqlite``: one gunicorn, 3 workers, a SQLite file, the default cache (each process's own memory);
- ``postgres``: the same on a throwaway PostgreSQL database;
- ``postgres+redis``: two gunicorns of 2 workers each, sharing PostgreSQL and Redis.

Each test makes one change the way an editor or a second process makes it (the admin over HTTP, a bulk
action, a revert, an import, a command, a shell) and then reads the public site as readers do, black-box:
first every surface is read often enough that every worker has it cached (and shows the story as it was),
then the change is made, then every surface that should change is polled until it shows the change. The
promise is that every worker shows it within a second of the change being committed (the editor's save
answered, the command exited); an answer to a request sent more than LIMIT seconds after that which still
shows the old state fails the test, and so does any answer, from any worker, that shows the old state after
the surface has shown the change.

Data is made before the servers start (``seed``), one section per test, so no test needs another's change
to have been seen, and each test's precondition ("every worker shows it as it was") holds whatever the
tests before it left behind.

Run one set-up with ``-k sqlite``, ``-k "postgres and not redis"`` or ``-k redis``; the whole file takes about
2.5 minutes here (each set-up starts its servers once). Needs this machine's PostgreSQL and Redis (see
tests/production.py).
"""

import contextlib
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from .production import (
    Browser,
    forms_in,
    free_port,
    gunicorn,
    http_get,
    manage,
    migrated_database,
    production_env,
    redis_prefix,
    static_root,
)

pytestmark = pytest.mark.production

PROMISE = 1.0  # seconds: every worker shows a change this soon after it is committed
LIMIT = 1.5  # seconds: the promise, and a little margin for this shared 2-core machine
ROUNDS = 3  # bursts per surface when warming and when confirming: every worker answers several times
EDITOR, PASSWORD = "desk-editor", "matrix correct horse battery"


@dataclass(frozen=True)
class Setup:
    name: str
    database: str  # "sqlite" or "postgres"
    redis: bool
    servers: int
    workers: int


SETUPS = [
    Setup("sqlite", "sqlite", redis=False, servers=1, workers=3),
    Setup("postgres", "postgres", redis=False, servers=1, workers=3),
    Setup("postgres+redis", "postgres", redis=True, servers=2, workers=2),
]


# The data, one section per test. Headlines, names and credits are unique strings: none is part of another.
SECTIONS = [
    ("m-save", "Alderbrook Desk"),
    ("m-body", "Brimsworth Desk"),
    ("m-publish", "Corrowdale Desk"),
    ("m-withdraw", "Dunmore Desk"),
    ("m-move-from", "Elderwick Desk"),
    ("m-move-to", "Fallowmere Desk"),
    ("m-revert", "Glenhaven Desk"),
    ("m-recover", "Hollinsford Desk"),
    ("m-correct", "Ivybridge Desk"),
    ("m-admin-import", "Jesmond Desk"),
    ("m-cli-import", "Kettleby Desk"),
    ("m-embargo", "Lindfield Desk"),
    ("m-rename", "Marlow Desk"),
    ("m-credit", "Oakhurst Desk"),
    ("m-caption", "Redbourne Desk"),
    ("m-shell", "Saltash Desk"),
    ("m-author", "Tregarron Desk"),
]
BODY = "The first paragraph of the {word} story.\n\nThe second paragraph, with more about {word}."
STORIES = {
    "save": {"section": "m-save", "headline": "Alderbrook Ferry Timetable Announced"},
    "body": {"section": "m-body", "headline": "Brimsworth Library Reopens"},
    "publish": {"section": "m-publish", "headline": "Corrowdale Bridge Opens to Traffic", "status": "draft"},
    "withdraw": {"section": "m-withdraw", "headline": "Dunmore Quarry Expansion Approved", "author": "Ulla Brackwater"},
    "move": {"section": "m-move-from", "headline": "Elderwick Orchard Harvest Begins"},
    "revert": {
        "section": "m-revert",
        "headline": "Glenhaven Dam Inspection Passed",
        "revised": "Glenhaven Dam Inspection Failed",
    },
    "recover": {"section": "m-recover", "headline": "Hollinsford Mill Restored", "deleted": True},
    "correct": {"section": "m-correct", "headline": "Ivybridge School Roof Repaired"},
    "embargo": {"section": "m-embargo", "headline": "Lindfield Election Results Declared", "status": "draft"},
    "rename": {"section": "m-rename", "headline": "Marlow Lock Gates Replaced"},
    "credit": {
        "section": "m-credit",
        "headline": "Oakhurst Viaduct Reopens",
        "caption": "Trains cross the viaduct again.",
        "credit": "Pennard Photo Agency",
    },
    "caption": {
        "section": "m-caption",
        "headline": "Redbourne Pier Storm Damage",
        "caption": "Waves over the pier at dawn.",
        "credit": "Redbourne Gazette",
    },
    "shell": {"section": "m-shell", "headline": "Saltash Ferry Service Suspended"},
    "author": {"section": "m-author", "headline": "Tregarron Lido Reopens", "author": "Tamsin Velloway"},
}

# Run in `manage.py shell` before the servers start: the editor (Editors group, with a password), the
# sections and the stories (each saved in a revision, as the admin would; the deleted one recoverable).
SEED = """
import json, os
from datetime import timedelta
import reversion
from django.contrib.auth.models import Group, User
from django.utils import timezone
from django.utils.text import slugify
from articles import history
from articles.models import Article, Author, Byline, Caption, Photo, Section

spec = json.loads(os.environ["MATRIX_SEED"])
now = timezone.now()
user = User.objects.create_user(spec["editor"], password=spec["password"], is_staff=True)
user.groups.add(Group.objects.get(name="Editors"))
ids = {"sections": {}, "stories": {}, "photos": {}, "urls": {}, "authors": {}}
for order, (slug, name) in enumerate(spec["sections"], start=100):
    ids["sections"][slug] = Section.objects.create(slug=slug, name=name, order=order).pk
for minutes, (key, story) in enumerate(spec["stories"].items(), start=5):
    published = story.get("status", "published") == "published"
    with reversion.create_revision():
        reversion.set_user(user)
        article = Article.objects.create(
            headline=story["headline"],
            slug=slugify(story["headline"]),
            section_id=ids["sections"][story["section"]],
            body=spec["body"].format(word=story["headline"].split()[0]),
            status=story.get("status", "published"),
            published_at=now - timedelta(minutes=minutes) if published else None,
        )
        if story.get("credit"):
            photo = Photo.objects.create(credit=story["credit"])
            Caption.objects.create(article=article, photo=photo, text=story["caption"], is_lead=True)
            ids["photos"][key] = photo.pk
        if story.get("author"):
            author = Author.objects.create(name=story["author"], slug=slugify(story["author"]))
            Byline.objects.create(article=article, author=author)
            ids["authors"][key] = author.pk
    if story.get("revised"):
        with reversion.create_revision():
            reversion.set_user(user)
            article.headline = story["revised"]
            article.save()
    ids["stories"][key] = article.pk
    ids["urls"][key] = article.get_absolute_url()
    if story.get("deleted"):
        history.record_before_delete([article], user)
        article.delete()
print(json.dumps(ids))
"""


class Site:
    """The app servers of one set-up, as readers and editors reach them."""

    def __init__(self, setup, env, ports, ids):
        self.setup = setup
        self.env = env
        self.ports = ports
        self.ids = ids
        self.editor = Browser(ports[0])  # the editor works through the first server
        self.pool = ThreadPoolExecutor(max_workers=len(ports) * setup.workers)

    def burst(self, path):
        """As many simultaneous requests to each server as it has workers: a sync worker answers one at a
        time, so they spread over the workers. Answers in order, as (port, Response)."""
        jobs = [
            (port, self.pool.submit(http_get, port, path)) for port in self.ports for _ in range(self.setup.workers)
        ]
        return [(port, job.result()) for port, job in jobs]

    def url(self, key):
        return self.ids["urls"][key]


@pytest.fixture(scope="module", params=SETUPS, ids=[setup.name for setup in SETUPS])
def site(request, tmp_path_factory):
    setup = request.param
    tmp = tmp_path_factory.mktemp(setup.name.replace("+", "-"))
    ports = [free_port() for _ in range(setup.servers)]
    with migrated_database(setup.database, tmp) as database_url, redis_prefix() as prefix:
        env = production_env(
            DATABASE_URL=database_url,
            DJANGO_CACHE_PREFIX=prefix,
            DJANGO_PAGE_CACHE_SECONDS="300",
            DJANGO_PROXY_COUNT="1",
            DJANGO_STATIC_ROOT=str(static_root()),  # collected once per test run
            DJANGO_MEDIA_ROOT=str(tmp / "media"),
            DJANGO_IMPORT_ROOT=str(tmp / "imports"),
            MATRIX_SEED=json.dumps(
                {"editor": EDITOR, "password": PASSWORD, "sections": SECTIONS, "stories": STORIES, "body": BODY}
            ),
        )
        if not setup.redis:
            del env["REDIS_URL"]  # the default set-up: each process caches in its own memory
        ids = json.loads(run("shell", "-c", SEED, env=env).stdout.strip().splitlines()[-1])
        with contextlib.ExitStack() as servers:
            for port in ports:
                servers.enter_context(gunicorn(port, env, workers=setup.workers))
            site = Site(setup, env, ports, ids)
            site.editor.log_in(EDITOR, PASSWORD)
            yield site
            site.pool.shutdown()


# What readers see. A check is (description, predicate on a Response).


def shows(text):
    return (f"shows {text!r}", lambda r: r.status == 200 and text in r.text)


def hides(text):
    return (f"does not show {text!r}", lambda r: r.status == 200 and text not in r.text)


def answers(status, text=None):
    return (
        f"answers {status}" + (f" with {text!r}" if text else ""),
        lambda r: r.status == status and (text is None or text in r.text),
    )


def moved_to(path_part):
    return (f"answers 301 to a URL with {path_part!r}", lambda r: r.status == 301 and path_part in r.location)


def both(first, second):
    return (f"{first[0]} and {second[0]}", lambda r: first[1](r) and second[1](r))


def everywhere(story, section, before, after):
    """The surfaces that list a story, each with its check before the change and after it: the home page, its
    section's page, the feeds, the news sitemap and a search for its first word. (The sitemap lists URLs, not
    headlines: /sitemap.xml is an index, the stories' URLs are in /sitemap-articles.xml; tests add it.)"""
    return {
        "/": (before, after),
        f"/{section}/": (before, after),
        "/feed/": (before, after),
        "/feed/atom/": (before, after),
        f"/{section}/feed/": (before, after),
        "/news-sitemap.xml": (before, after),
        f"/search/?q={story['headline'].split()[0]}": (before, after),
    }


def describe(response):
    cache = response.headers.get("X-Page-Cache", "not cached")
    return f"{response.status} (X-Page-Cache: {cache})"


def warm(site, surfaces):
    """Read every surface until every worker has it cached, asserting each shows the story as it was."""
    for path, (before, _) in surfaces.items():
        if before is None:
            continue
        for _ in range(ROUNDS):
            for port, response in site.burst(path):
                assert before[1](response), (
                    f"before the change, {path} on :{port} should have {before[0]}: got {describe(response)}"
                )
        if path.startswith(("/sitemap", "/news-sitemap")):
            continue  # not page-cached
        # A busy machine may hand a burst to fewer workers than it has: ask until a whole burst is cached.
        for _ in range(ROUNDS * 3):
            responses = [response for _, response in site.burst(path)]
            if all(response.headers.get("X-Page-Cache") == "hit" for response in responses):
                break
        last = responses[-1]
        assert last.headers.get("X-Page-Cache") == "hit", f"{path} is not page-cached: {describe(last)}"


def watch(site, surfaces, changed_at, limit=LIMIT):
    """Poll every surface until all its answers show the change; then, a second after the change, read each
    again (every worker, several times), all of which must show it. Answers to requests sent before `limit`
    seconds after the change may still show the old state; any later one fails. Fails listing what readers
    still saw."""
    deadline = changed_at + limit
    pending = {path: after for path, (_, after) in surfaces.items()}
    seen, failures = {}, []
    while pending:
        for path, after in list(pending.items()):
            sent = time.monotonic()
            answers_ = site.burst(path)
            wrong = [f":{port} {describe(r)}" for port, r in answers_ if not after[1](r)]
            if not wrong:
                seen[path] = time.monotonic() - changed_at
                del pending[path]
            elif sent >= deadline:
                failures.append(
                    f"{path}: {sent - changed_at:.2f} s after the change, {len(wrong)} of {len(answers_)} answers "
                    f"still wrong (expected: {after[0]}): {', '.join(wrong)}"
                )
                del pending[path]
    # A worker may answer from versions it read up to articles.pagecache.FRESH_FOR before the change: once the
    # promised second has passed, every answer must show it.
    time.sleep(max(0.0, changed_at + PROMISE - time.monotonic()))
    for path in seen:
        after = surfaces[path][1]
        later = [answer for _ in range(ROUNDS) for answer in site.burst(path)]
        wrong = [f":{port} {describe(r)}" for port, r in later if not after[1](r)]
        if wrong:
            failures.append(
                f"{path} showed the change at {seen[path]:.2f} s, but then {len(wrong)} of {len(later)} answers "
                f"did not (expected: {after[0]}): {', '.join(wrong)}"
            )
    report = ", ".join(f"{path} {seconds:.2f} s" for path, seconds in seen.items())
    print(f"[{site.setup.name}] seen: {report or 'nothing'}")
    if failures:
        pytest.fail(
            f"[{site.setup.name}] readers did not all see the change:\n  " + "\n  ".join(failures), pytrace=False
        )


def story(key, site):
    return {**STORIES[key], "url": site.url(key)}


# The admin, as an editor's browser uses it.


def save(site, form):
    """Post a change form with "Save"; returns when the admin answered (the change is committed)."""
    response = site.editor.submit(form, button=("_save", "Save"))
    assert response.status == 302, f"the admin refused the save: {response.status}\n{errors(response)}"
    return time.monotonic()


def errors(response):
    found = re.findall(r'<(?:ul|p) class="errorlist[^"]*"[^>]*>(.*?)</(?:ul|p)>', response.text, re.S)
    found += re.findall(r'<p class="errornote">(.*?)</p>', response.text, re.S)
    return "\n".join(re.sub(r"<[^>]+>", " ", error).strip() for error in found) or response.text[:3000]


def article_form(site, key):
    return site.editor.form(f"/admin/articles/article/{site.ids['stories'][key]}/change/", having="headline")


def run(*args, env):
    """A manage.py command in its own process, as cron or an operator runs it."""
    result = manage(*args, env=env, check=False)
    assert result.returncode == 0, f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result


def bulk_action(site, action, keys, **fields):
    """Select stories on the change list, choose the action, then confirm it on its confirmation page."""
    changelist = "/admin/articles/article/"
    form = site.editor.form(changelist, having="action")
    form.set("action", action)
    for key in keys:
        form.add("_selected_action", str(site.ids["stories"][key]))
    response = site.editor.submit(form)
    assert response.status == 200, f"{action}: no confirmation page ({response.status})\n{errors(response)}"
    confirm = site.editor.form(changelist, having="confirm", response=response)
    for name, value in fields.items():
        confirm.set(name, value)
    response = site.editor.submit(confirm)
    assert response.status == 302, f"{action} was not confirmed: {response.status}\n{errors(response)}"
    changed_at = time.monotonic()
    messages = site.editor.get(response.location).text
    assert "1 story done" in messages, f"{action}: {re.findall(r'<li class=[^>]*>(.*?)</li>', messages)}"
    return changed_at


# The tests.


def test_a_headline_saved_in_the_admin_is_what_every_worker_shows_within_a_second(site):
    s = story("save", site)
    new = "Alderbrook Ferry Timetable Scrapped Overnight"
    surfaces = everywhere(s, "m-save", both(shows(s["headline"]), hides(new)), both(shows(new), hides(s["headline"])))
    surfaces[s["url"]] = (shows(s["headline"]), both(shows(new), hides(s["headline"])))
    warm(site, surfaces)

    form = article_form(site, "save")
    form.set("headline", new)
    watch(site, surfaces, save(site, form))


def test_a_story_edited_in_the_admin_keeps_its_paragraphs_on_every_worker(site):
    s = story("body", site)
    added = "A third paragraph, added by the desk."
    first = "<p>The first paragraph of the Brimsworth story.</p>"
    surfaces = {s["url"]: (both(shows(first), hides(added)), both(shows(first), shows(f"<p>{added}</p>")))}
    warm(site, surfaces)

    form = article_form(site, "body")
    form.set("body", form.get("body") + "\n\n" + added)  # typed into the textarea: the browser sends CRLF
    watch(site, surfaces, save(site, form))


def test_stories_published_with_the_bulk_action_appear_on_every_worker_within_a_second(site):
    s = story("publish", site)
    today = datetime.now(UTC)
    s["url"] = f"/m-publish/{today:%Y/%m/%d}/corrowdale-bridge-opens-to-traffic/"
    surfaces = everywhere(s, "m-publish", hides(s["headline"]), shows(s["headline"]))
    surfaces["/sitemap-articles.xml"] = (hides("corrowdale-bridge"), shows("corrowdale-bridge"))
    surfaces[s["url"]] = (None, shows(s["headline"]))  # a 404 before: never cached
    warm(site, surfaces)

    watch(site, surfaces, bulk_action(site, "publish_selected", ["publish"]))


def test_stories_withdrawn_with_the_bulk_action_are_gone_from_every_worker_within_a_second(site):
    s = story("withdraw", site)
    reason = "Withdrawn while the council checks its figures."
    surfaces = everywhere(s, "m-withdraw", shows(s["headline"]), hides(s["headline"]))
    surfaces["/authors/ulla-brackwater/"] = (shows(s["headline"]), hides(s["headline"]))
    surfaces["/authors/ulla-brackwater/feed/atom/"] = (shows(s["headline"]), hides(s["headline"]))
    surfaces["/sitemap-articles.xml"] = (shows("dunmore-quarry"), hides("dunmore-quarry"))
    surfaces[s["url"]] = (shows(s["headline"]), answers(410, reason))
    warm(site, surfaces)

    watch(site, surfaces, bulk_action(site, "withdraw_selected", ["withdraw"], reason=reason))


def test_stories_moved_to_another_section_move_on_every_worker_within_a_second(site):
    s = story("move", site)
    new_url = s["url"].replace("/m-move-from/", "/m-move-to/")
    headline = s["headline"]
    surfaces = {
        "/m-move-from/": (shows(headline), hides(headline)),
        "/m-move-from/feed/": (shows(headline), hides(headline)),
        "/m-move-to/": (hides(headline), shows(headline)),
        "/m-move-to/feed/": (hides(headline), shows(headline)),
        "/": (both(shows(headline), hides(new_url)), shows(new_url)),
        "/feed/": (both(shows(headline), hides(new_url)), shows(new_url)),
        s["url"]: (shows(headline), moved_to(new_url)),
        new_url: (None, shows(headline)),  # a 404 before: never cached
    }
    warm(site, surfaces)

    watch(
        site, surfaces, bulk_action(site, "move_to_section", ["move"], section=str(site.ids["sections"]["m-move-to"]))
    )


def test_a_story_reverted_to_an_earlier_revision_reads_as_reverted_on_every_worker_within_a_second(site):
    s = story("revert", site)
    old, current = s["headline"], s["revised"]
    surfaces = everywhere(s, "m-revert", both(shows(current), hides(old)), both(shows(old), hides(current)))
    surfaces[s["url"]] = (shows(current), both(shows(old), hides(current)))
    warm(site, surfaces)

    pk = site.ids["stories"]["revert"]
    history = site.editor.get(f"/admin/articles/article/{pk}/history/")
    versions = sorted({int(v) for v in re.findall(rf"/admin/articles/article/{pk}/history/(\d+)/", history.text)})
    assert len(versions) >= 2, f"no earlier revision on the history page: {versions}"
    revision = f"/admin/articles/article/{pk}/history/{versions[0]}/"
    form = site.editor.form(revision, having="headline")
    assert form.get("headline") == old
    watch(site, surfaces, save(site, form))


def test_a_deleted_story_recovered_in_the_admin_is_back_on_every_worker_within_a_second(site):
    s = story("recover", site)
    surfaces = everywhere(s, "m-recover", hides(s["headline"]), shows(s["headline"]))
    surfaces["/sitemap-articles.xml"] = (hides("hollinsford-mill"), shows("hollinsford-mill"))
    surfaces[s["url"]] = (None, shows(s["headline"]))  # a 404 before: never cached
    warm(site, surfaces)

    recoverable = site.editor.get("/admin/articles/article/recover/")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", recoverable.text, re.S)
    links = [re.search(r'href="([^"]*/recover/\d+/)"', row) for row in rows if s["headline"] in row]
    assert links and links[0], f"the story is not in the recover list:\n{recoverable.text[-3000:]}"
    path = links[0].group(1)
    watch(site, surfaces, save(site, site.editor.form(path, having="headline")))


def test_a_correction_added_in_the_admin_is_under_the_story_on_every_worker_within_a_second(site):
    s = story("correct", site)
    note = "The repairs cost 40,000 pounds, not 400,000 as first reported."
    surfaces = {s["url"]: (both(shows(s["headline"]), hides(note)), shows(note))}
    warm(site, surfaces)

    form = article_form(site, "correct")
    # What the "Add another Correction and update" link does: a new form from the empty one.
    total = int(form.get("corrections-TOTAL_FORMS"))
    form.set("corrections-TOTAL_FORMS", str(total + 1))
    for name, value in list(form.fields):
        if name.startswith("corrections-__prefix__-"):
            form.add(name.replace("__prefix__", str(total)), value)
    form.set(f"corrections-{total}-kind", "correction")
    form.set(f"corrections-{total}-text", note)
    watch(site, surfaces, save(site, form))


DUMP = "{headline}\n\n{headline}\n\nThe first paragraph of the {word} story.\n\nThe second paragraph about {word}.\n"


def test_a_dump_imported_as_published_on_the_import_page_is_listed_on_every_worker_within_a_second(site):
    headline = "Jesmond Market Hall Sold"
    s = {"headline": headline}
    surfaces = everywhere(s, "m-admin-import", hides(headline), shows(headline))
    surfaces["/sitemap-articles.xml"] = (hides("jesmond-market"), shows("jesmond-market"))
    warm(site, surfaces)

    page = "/admin/articles/article/import/"
    form = site.editor.form(page, having="dump")
    form.set("section", str(site.ids["sections"]["m-admin-import"]))
    form.set("status", "published")
    dump = DUMP.format(headline=headline, word="Jesmond").encode()
    response = site.editor.submit(form, files={"dump": ("jesmond.txt", dump)})
    assert response.status == 302, f"the upload failed: {response.status}\n{errors(response)}"
    job = response.location
    run("db_worker", "--batch", "--no-reload", "--no-startup-delay", env=site.env)  # the dry run
    confirm = next(f for f in forms_in(site.editor.get(job).text) if f.action.endswith("/confirm/"))
    confirm.page = job
    response = site.editor.submit(confirm)
    assert response.status == 302, f"the import was not confirmed: {response.status}\n{errors(response)}"
    run("db_worker", "--batch", "--no-reload", "--no-startup-delay", env=site.env)  # the import
    assert "Imported: created 1," in site.editor.get(job).text
    watch(site, surfaces, time.monotonic())


def test_a_dump_imported_as_published_by_import_dump_is_listed_on_every_worker_within_a_second(site, tmp_path):
    headline = "Kettleby Wind Farm Approved"
    s = {"headline": headline}
    surfaces = everywhere(s, "m-cli-import", hides(headline), shows(headline))
    surfaces["/sitemap-articles.xml"] = (hides("kettleby-wind"), shows("kettleby-wind"))
    warm(site, surfaces)

    dump = tmp_path / "kettleby.txt"
    dump.write_text(DUMP.format(headline=headline, word="Kettleby"))
    run("import_dump", str(dump), "--status", "published", "--section", "m-cli-import", env=site.env)
    watch(site, surfaces, time.monotonic())


def test_a_scheduled_story_appears_on_every_worker_within_a_second_of_its_embargo_lifting(site):
    s = story("embargo", site)
    release = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    s["url"] = f"/m-embargo/{release:%Y/%m/%d}/lindfield-election-results-declared/"
    surfaces = everywhere(s, "m-embargo", hides(s["headline"]), shows(s["headline"]))
    surfaces["/sitemap-articles.xml"] = (hides("lindfield-election"), shows("lindfield-election"))
    surfaces[s["url"]] = (None, shows(s["headline"]))  # a 404 before: never cached
    warm(site, surfaces)

    form = article_form(site, "embargo")
    form.set("status", "published")
    form.set("published_at_0", f"{release:%Y-%m-%d}")
    form.set("published_at_1", f"{release:%H:%M:%S}")
    save(site, form)
    lifts_at = time.monotonic() + (release - datetime.now(UTC)).total_seconds()
    assert lifts_at - time.monotonic() > 0.5, "the save took too long to test the embargo"
    for path, (before, _) in surfaces.items():  # scheduled: still nowhere, until it lifts
        if before is None or time.monotonic() > lifts_at - 0.5:
            continue
        for port, response in site.burst(path):
            assert before[1](response), f"{path} on :{port} shows the story before its embargo lifts"
    time.sleep(max(lifts_at - time.monotonic(), 0))
    watch(site, surfaces, lifts_at)


def test_a_section_renamed_in_the_admin_has_its_new_name_on_every_worker_within_a_second(site):
    s = story("rename", site)
    old, new = "Marlow Desk", "Northcote Desk"
    before, after = both(shows(old), hides(new)), both(shows(new), hides(old))
    surfaces = {
        "/": (before, after),
        "/m-rename/": (before, after),
        s["url"]: (before, after),
        "/m-rename/feed/": (before, after),
        "/feed/": (before, after),
        "/feed/atom/": (before, after),
    }
    warm(site, surfaces)

    form = site.editor.form(f"/admin/articles/section/{site.ids['sections']['m-rename']}/change/", having="name")
    form.set("name", new)
    watch(site, surfaces, save(site, form))


def test_a_photo_credit_changed_in_the_admin_is_what_every_worker_credits_within_a_second(site):
    s = story("credit", site)
    old, new = s["credit"], "Quarrington Pictures"
    surfaces = {
        s["url"]: (both(shows(old), hides(new)), both(shows(new), hides(old))),
        "/search/?q=Oakhurst&credit=Quarrington": (hides(s["headline"]), shows(s["headline"])),
    }
    warm(site, surfaces)

    form = site.editor.form(f"/admin/articles/photo/{site.ids['photos']['credit']}/change/", having="credit")
    form.set("credit", new)
    watch(site, surfaces, save(site, form))


def test_a_caption_changed_in_the_admin_is_what_every_worker_shows_within_a_second(site):
    s = story("caption", site)
    old, new = s["caption"], "Spindrift over Redbourne pier at high tide."
    surfaces = {
        s["url"]: (both(shows(old), hides(new)), both(shows(new), hides(old))),
        "/search/?q=Spindrift": (hides(s["headline"]), shows(s["headline"])),
    }
    warm(site, surfaces)

    form = article_form(site, "caption")
    assert form.get("captions-0-text") == old
    form.set("captions-0-text", new)
    watch(site, surfaces, save(site, form))


def test_a_story_withdrawn_from_a_shell_is_gone_from_every_worker_within_a_second(site):
    s = story("shell", site)
    reason = "Withdrawn: the ferry company denies the report."
    surfaces = everywhere(s, "m-shell", shows(s["headline"]), hides(s["headline"]))
    surfaces["/sitemap-articles.xml"] = (shows("saltash-ferry"), hides("saltash-ferry"))
    surfaces[s["url"]] = (shows(s["headline"]), answers(410, reason))
    warm(site, surfaces)

    run(
        "shell",
        "-c",
        "from articles.models import Article\n"
        f"story = Article.objects.get(pk={site.ids['stories']['shell']})\n"
        "story.status = 'withdrawn'\n"
        f"story.withdrawn_reason = {reason!r}\n"
        "story.save()\n",
        env=site.env,
    )
    watch(site, surfaces, time.monotonic())


def test_an_author_renamed_in_the_admin_is_renamed_on_every_worker_within_a_second(site):
    s = story("author", site)
    old, new = "Tamsin Velloway", "Tamsin Velloway-Hart"
    page = "/authors/tamsin-velloway/"
    surfaces = {
        s["url"]: (shows(f">{old}</a>"), shows(f">{new}</a>")),
        page: (both(shows(s["headline"]), shows(f">{old}</h1>")), both(shows(s["headline"]), shows(f">{new}</h1>"))),
        f"{page}feed/": (shows(f"{old}</dc:creator>"), shows(f"{new}</dc:creator>")),
        "/feed/": (shows(f"{old}</dc:creator>"), shows(f"{new}</dc:creator>")),
    }
    warm(site, surfaces)

    form = site.editor.form(f"/admin/articles/author/{site.ids['authors']['author']}/change/", having="name")
    form.set("name", new)
    form.set("bio", "Tamsin writes about the coast.")
    watch(site, surfaces, save(site, form))
