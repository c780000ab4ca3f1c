"""Webhooks: subscribers (models.Subscriber) are POSTed a story's ninjs when it is published, updated, corrected,
withdrawn or deleted. docs/api.md, Webhooks is the receiver's side.

Which events a change fires is decided in one place, `announce()`, by comparing each story as it is now with what
subscribers were last told of it (models.Announcement: its public state, a digest of its ninjs, its number of
corrections). Every path that changes stories asks for it once its change commits (`stories_touched()`: the
signals for ORM saves and deletes, the importer beside pagecache.stories_changed), and an embargo lifting, which
saves nothing, is noticed by a thread in each worker (`watch_embargoes()`). The comparison runs with the stories'
records locked, so a no-op save, a task run twice and two workers racing announce nothing more; each event is
one Delivery per subscriber (unique per change), sent by the `deliver` task and retried with the same delivery
id until it succeeds, the delivery is a day old, or the subscriber, failing for a day, is paused.

Deliveries go only to public addresses: checked when an editor saves the URL (`check_url`) and again on the
address each delivery connects to, which is the one checked (a name that resolves elsewhere by then changes
nothing). WEBHOOKS_ALLOW_PRIVATE lets tests and development use loopback and http://.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone

from .models import (
    EMBARGOED,
    PUBLIC,
    Announcement,
    Article,
    Delivery,
    Notice,
    Subscriber,
    publication_state,
)

log = logging.getLogger("newsroom.webhooks")

Event = Subscriber.Event
State = Announcement.State
BATCH = 500  # stories announced by one task: a large import enqueues one task per BATCH, not one per story
LOCKED = 100  # stories compared in one transaction
RELEASE_POLL = 0.5  # seconds between two looks for embargoes that lifted
LOST_AFTER = timedelta(minutes=10)  # a delivery attempt under way this long has lost its worker
LOST_POLL = 60  # seconds between two looks for them
# A story saved this long ago has been announced, unless the worker running its announcement was killed
# (django-tasks-db does not run a task again): each worker's watcher compares such stories again.
MISSED_AFTER = timedelta(minutes=2)
MISSED_LOOK_BACK = timedelta(hours=1)  # how far back a worker's first look goes (a restarted worker's own task)
# ninjs fields that change on every save, whether or not readers see a difference: not part of the digest.
VOLATILE = {"versioncreated", "version"}
USER_AGENT = "Newsroom-Webhooks/1.0"


@checks.register(checks.Tags.security, deploy=True)
def check_private_targets(app_configs, **kwargs):
    if settings.WEBHOOKS_ALLOW_PRIVATE and not settings.DEBUG:
        return [
            checks.Warning(
                "DJANGO_WEBHOOKS_ALLOW_PRIVATE is on: webhooks may be sent to this network's own addresses, "
                "over plain http://.",
                hint="Turn it off in production; it is for tests and development (docs/api.md, Webhooks).",
                id="newsroom.W001",
            )
        ]
    return []


# Which change fires which event.


def stories_touched(ids, using=None):
    """Announce these stories (ids) once the transaction that changed them commits (at once outside one).

    One task per transaction and BATCH stories, however many saves it made (a bulk action, a revert with its
    captions): like pagecache.content_changed, join what is already pending in this savepoint or an enclosing one.
    """
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return
    conn = transaction.get_connection(using)
    savepoints = set(conn.savepoint_ids)
    pending = next(
        (func for sids, func, _ in conn.run_on_commit if isinstance(func, PendingStories) and sids <= savepoints),
        None,
    )
    if pending is not None and conn.in_atomic_block:
        pending.ids |= ids
        return
    transaction.on_commit(PendingStories(ids), using=using)


class PendingStories:
    """The stories one transaction changed, sent to the workers to announce once it commits."""

    def __init__(self, ids):
        self.ids = set(ids)

    def __call__(self):
        ids = sorted(self.ids)
        for start in range(0, len(ids), BATCH):
            try:
                announce_stories.enqueue(ids[start : start + BATCH])
            except Exception:  # noqa: BLE001 -- committed already: say so loudly, don't fail the editor's request
                log.exception("could not queue the announcement of stories %s", ids[start : start + BATCH])


def story_leaving(article):
    """A story about to be deleted: keep its tombstone, the payload of "deleted", which cannot be read after."""
    from .api.ninjs import tombstone

    announced = Announcement.objects.filter(story_id=article.pk, state__in=[State.PUBLIC, State.WITHDRAWN])
    if announced.exists():
        announced.update(farewell=as_body(tombstone(article)))


@task
def announce_stories(ids):
    """A worker's side of stories_touched()."""
    return announce(ids)


def announce(ids):
    """Compare these stories with what was last announced of them, record what they are now, and queue a
    delivery of each event it fires to each subscriber that wants it. Returns the events, [(story id, event)].

    LOCKED stories at a time, each their own transaction: their records stay locked (on SQLite, the database's
    write lock is held) while their ninjs is made, some 2 ms a story."""
    ids = sorted(set(ids))
    fired = []
    for start in range(0, len(ids), LOCKED):
        fired += announce_locked(ids[start : start + LOCKED])
    return fired


def announce_locked(ids):
    from .api.ninjs import story, tombstone

    now = timezone.now()
    fired, notices = [], []
    with transaction.atomic():
        present = Article.objects.filter(pk__in=ids).values_list("pk", "status", "published_at")
        seen = [pk for pk, status, published_at in present if state_of(status, published_at, now) != State.HIDDEN]
        # A record for every story that is or was seen, so that there is a row to lock (ordered: no deadlock).
        Announcement.objects.bulk_create([Announcement(story_id=pk) for pk in seen], ignore_conflicts=True)
        records = Announcement.objects.select_for_update().filter(story_id__in=ids).order_by("story_id")
        records = {record.story_id: record for record in records}
        stories = {article.pk: article for article in Article.objects.filter(pk__in=records).for_ninjs()}
        subscribers = list(Subscriber.objects.filter(active=True))
        changed = []
        for pk, record in records.items():
            article = stories.get(pk)
            state = state_of(article.status, article.published_at, now) if article else State.DELETED
            digest, corrections, body = record.digest, record.corrections, None
            if state == State.PUBLIC:
                body = story(article)
                digest, corrections = digest_of(body), len(article.corrections.all())
            if (
                record.digest == ""
                and record.state == State.PUBLIC == state
                and article.updated_at <= record.updated_at
            ):
                event = None  # public before webhooks (seeded by migration 0024) and not saved since: as announced
            else:
                event = event_for(record, state, digest, corrections)
            release_at = article.published_at if state == State.SCHEDULED else None
            if (event, state, digest, corrections, release_at) == (
                None,
                record.state,
                record.digest,
                record.corrections,
                record.release_at,
            ):
                continue
            if event:
                record.sequence += 1
                fired.append((pk, event))
                wanting = [subscriber for subscriber in subscribers if event in subscriber.events]
                if wanting:
                    if event in (Event.WITHDRAWN, Event.DELETED):
                        body = tombstone(article) if article else record.farewell or {"uri": f"story:{pk}"}
                    notice = Notice(
                        event=event,
                        story_id=pk,
                        headline=(article.headline if article else "")[:300],
                        change=record.sequence,
                        payload=body if isinstance(body, str) else as_body(body),
                    )
                    notices.append((notice, wanting))
            record.state, record.digest, record.corrections, record.release_at = state, digest, corrections, release_at
            record.updated_at = now
            changed.append(record)
        record_all(changed)
        if notices:
            Notice.objects.bulk_create([notice for notice, _ in notices])
            deliveries = [Delivery(subscriber=s, notice=notice) for notice, wanting in notices for s in wanting]
            sent = Delivery.objects.bulk_create(deliveries)
            transaction.on_commit(lambda: send([delivery.pk for delivery in sent]))
    return fired


def record_all(records):
    """Write the records' new state in one statement run for each (bulk_update's CASE over 500 rows took 3 s)."""
    if not records:
        return
    fields = ["state", "digest", "corrections", "release_at", "sequence", "updated_at"]
    table, quote = Announcement._meta.db_table, connection.ops.quote_name
    columns = ", ".join(f"{quote(name)} = %s" for name in fields)
    fields_of = {name: Announcement._meta.get_field(name) for name in fields}
    rows = [
        [fields_of[name].get_db_prep_save(getattr(record, name), connection) for name in fields] + [record.story_id]
        for record in records
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {quote(table)} SET {columns} WHERE {quote('story_id')} = %s", rows)


def state_of(status, published_at, now=None):
    """What subscribers may see of a story: State.PUBLIC, SCHEDULED, WITHDRAWN or HIDDEN."""
    if status == Article.Status.WITHDRAWN:
        return State.WITHDRAWN
    return {PUBLIC: State.PUBLIC, EMBARGOED: State.SCHEDULED}.get(
        publication_state(status, published_at, now), State.HIDDEN
    )


def event_for(before, state, digest, corrections):
    """The event (or None) of a story that was `before` (its Announcement) and is now `state`, its ninjs's
    digest and number of corrections `digest` and `corrections`: the one rule of what fires what.

    A correction fires "corrected" only (not "updated" as well): one change, one event; a receiver that keeps
    copies subscribes to both. A public story taken off the site other than by withdrawing it (back to a draft,
    or its embargo moved into the future) fires "withdrawn": its receivers must take it down too."""
    if state == State.PUBLIC:
        if before.state != State.PUBLIC:
            return Event.PUBLISHED
        if corrections > before.corrections:
            return Event.CORRECTED
        return Event.UPDATED if digest != before.digest else None
    if state == State.DELETED:
        return Event.DELETED if before.state in (State.PUBLIC, State.WITHDRAWN) else None
    return Event.WITHDRAWN if before.state == State.PUBLIC else None


def digest_of(ninjs):
    seen = {name: value for name, value in ninjs.items() if name not in VOLATILE}
    return hashlib.sha256(json.dumps(seen, sort_keys=True, cls=DjangoJSONEncoder).encode()).hexdigest()


def as_body(payload):
    return json.dumps(payload, ensure_ascii=False, cls=DjangoJSONEncoder)


def release_due():
    """Announce the stories whose embargo has lifted (each worker's watcher, every RELEASE_POLL seconds): they
    fire "published" once, whichever worker gets there first (announce() locks their records)."""
    due = Announcement.objects.filter(state=State.SCHEDULED, release_at__lte=timezone.now())
    ids = list(due.order_by("release_at").values_list("story_id", flat=True)[:BATCH])
    return announce(ids) if ids else []


def adopt_seeded():
    """Take the digests of the stories that were public before webhooks (migration 0024 could not), announcing
    only those changed since: then a save after the deploy that changes nothing fires nothing. Returns whether
    any were left."""
    ids = list(Announcement.objects.filter(state=State.PUBLIC, digest="").values_list("story_id", flat=True)[:BATCH])
    if ids:  # not a transaction for nothing: on SQLite each takes the write lock
        announce(ids)
    return bool(ids)


def announce_missed(since):
    """Announce the stories saved after `since` and at least MISSED_AFTER ago whose record is older than the save
    (or missing): their announcement was lost with the worker running it. Comparing is idempotent, so a story
    announced meanwhile fires nothing more. Returns how far this look went, the next look's `since`.

    A save shows in the story's updated_at: a change made only to a story's captions, bylines or topics, without
    saving the story, is not looked for again."""
    until = timezone.now() - MISSED_AFTER
    saved = dict(Article.objects.filter(updated_at__gt=since, updated_at__lte=until).values_list("pk", "updated_at"))
    if saved:
        records = dict(Announcement.objects.filter(story_id__in=saved).values_list("story_id", "updated_at"))
        missed = [pk for pk, at in saved.items() if pk not in records or records[pk] < at]
        if missed:
            announce(missed)
    return until


def watch_embargoes():
    """A thread in each worker process (started by ArticlesConfig.ready): embargoes that lift are announced
    within RELEASE_POLL seconds, though nothing is saved then; after the first deploy, the stories already public
    are adopted (adopt_seeded), a batch at a time; every LOST_POLL seconds, deliveries and announcements lost
    with a killed worker are taken up again."""

    def watch():
        seeded, looked_for_lost = True, 0.0
        missed_since = timezone.now() - MISSED_LOOK_BACK
        while True:
            try:
                release_due()
                seeded = seeded and adopt_seeded()
                if time.monotonic() - looked_for_lost > LOST_POLL:
                    looked_for_lost = time.monotonic()
                    recover_lost_deliveries()
                    missed_since = announce_missed(missed_since)
            except DatabaseError:  # not migrated yet, the database restarting, SQLite's lock: next time
                log.warning("could not look for embargoes that lifted", exc_info=True)
                connection.close()  # this thread's own
            except Exception:
                log.exception("could not announce embargoes that lifted")
            time.sleep(RELEASE_POLL)

    threading.Thread(target=watch, name="webhooks-watch-embargoes", daemon=True).start()


# Delivering.


def send(delivery_ids):
    for pk in delivery_ids:
        deliver.enqueue(pk)


def ping(subscriber):
    """Queue a test delivery to the subscriber, once the transaction commits."""
    payload = {"event": Notice.PING, "subscriber": subscriber.name, "sent_at": timezone.now()}
    notice = Notice.objects.create(event=Notice.PING, payload=as_body(payload))
    delivery = Delivery.objects.create(subscriber=subscriber, notice=notice)
    transaction.on_commit(lambda: send([delivery.pk]))
    return delivery


def signature(secret, timestamp, body):
    """The X-Newsroom-Signature header: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def backoff(attempts):
    """Seconds before the next attempt, after `attempts` attempts: doubling, capped."""
    return min(settings.WEBHOOKS_RETRY_SECONDS * 2 ** (attempts - 1), settings.WEBHOOKS_RETRY_MAX_SECONDS)


@task
def deliver(delivery_id):
    """One attempt at a delivery, claimed (SENDING) so that no other worker sends it meanwhile; a failure queues
    the next one (same delivery id) or gives up."""
    waiting = Delivery.objects.filter(pk=delivery_id, status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING])
    delivery = waiting.select_related("subscriber", "notice").first()
    if delivery is None:
        return "nothing to send"  # delivered, given up, or being sent by another worker
    subscriber = delivery.subscriber
    now = timezone.now()
    if not subscriber.active:
        waiting.update(
            status=Delivery.Status.GAVE_UP, error="Not sent: the subscriber is paused.", next_attempt_at=None
        )
        return "paused"
    claimed = waiting.filter(attempts=delivery.attempts).update(
        status=Delivery.Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=None
    )
    if not claimed:
        return "sent by another worker"
    delivery.attempts += 1
    mine = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING, attempts=delivery.attempts)
    try:
        code = post(subscriber, delivery)
    except (ValueError, OSError, http.client.HTTPException) as exc:  # Refused is a ValueError
        code, error = None, describe(exc)
    except Exception as exc:  # noqa: BLE001 -- whatever it was, this attempt failed: retried, logged, not stuck
        log.exception("delivery %s failed unexpectedly", delivery.delivery_id)
        code, error = None, f"Failed in the worker: {exc!r}"
    else:
        error = "" if 200 <= code < 300 else f"The receiver answered {code}."
    if not error:
        mine.update(status=Delivery.Status.DELIVERED, response_code=code, error="")
        Subscriber.objects.filter(pk=subscriber.pk, failing_since__isnull=False).update(failing_since=None)
        return "delivered"
    return failed(delivery, mine, code, error, now)


def recover_lost_deliveries():
    """Attempts whose worker stopped while sending (killed, its machine restarted) are tried again: an attempt
    lasts at most a few timeouts, so one SENDING for LOST_AFTER is lost. Each worker's watcher looks every
    minute; the conditional update sends each once."""
    now = timezone.now()
    lost = Delivery.objects.filter(status=Delivery.Status.SENDING, last_attempt_at__lt=now - LOST_AFTER)
    day_old = now - timedelta(hours=settings.WEBHOOKS_PAUSE_AFTER_HOURS)
    for pk, attempts, created_at in lost.values_list("pk", "attempts", "created_at")[:BATCH]:
        error = "The worker sending it stopped before it finished."
        status = Delivery.Status.GAVE_UP if created_at <= day_old else Delivery.Status.RETRYING
        again = Delivery.objects.filter(pk=pk, status=Delivery.Status.SENDING, attempts=attempts).update(
            status=status, error=error
        )
        if again and status == Delivery.Status.RETRYING:
            deliver.enqueue(pk)


def failed(delivery, mine, code, error, now):
    """Try again later; or give up, the delivery being a day old; or pause a subscriber failing for a day."""
    subscriber = delivery.subscriber
    Subscriber.objects.filter(pk=subscriber.pk, failing_since__isnull=True).update(failing_since=now)
    failing_since = Subscriber.objects.values_list("failing_since", flat=True).get(pk=subscriber.pk)
    day = timedelta(hours=settings.WEBHOOKS_PAUSE_AFTER_HOURS)
    if failing_since <= now - day:
        mine.update(status=Delivery.Status.GAVE_UP, response_code=code, error=error)
        since = timezone.localtime(failing_since).strftime("%Y-%m-%d %H:%M %Z")
        pause(subscriber, f"Every delivery has failed since {since}. The last: {error}", now)
        return "paused"
    if delivery.created_at <= now - day:
        mine.update(status=Delivery.Status.GAVE_UP, response_code=code, error=f"{error} Gave up after a day.")
        return "gave up"
    after = now + timedelta(seconds=backoff(delivery.attempts))
    mine.update(status=Delivery.Status.RETRYING, response_code=code, error=error, next_attempt_at=after)
    deliver.using(run_after=after).enqueue(delivery.pk)
    return "will retry"


def pause(subscriber, reason, now=None):
    """Stop sending to the subscriber; what was waiting to be sent is given up (a paused receiver is resumed by
    an editor once it works again, and catches up from the API rather than from a day's backlog)."""
    Subscriber.objects.filter(pk=subscriber.pk, active=True).update(
        active=False, paused_at=now or timezone.now(), paused_reason=reason
    )
    waiting = Delivery.objects.filter(
        subscriber=subscriber, status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING]
    )
    waiting.filter(error="").update(error="Not sent: the subscriber was paused.")
    waiting.update(status=Delivery.Status.GAVE_UP, next_attempt_at=None)


def resume(subscriber):
    Subscriber.objects.filter(pk=subscriber.pk).update(
        active=True, paused_at=None, paused_reason="", failing_since=None
    )


def describe(exc):
    if isinstance(exc, Refused):
        return f"Refused: {exc}"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"No answer within {settings.WEBHOOKS_TIMEOUT_SECONDS} s."
    return f"Could not connect: {exc}" if isinstance(exc, OSError) else f"Bad answer: {exc!r}"


def post(subscriber, delivery):
    """POST the delivery to the subscriber, on a checked address; the receiver's status code. No redirects."""
    url = urlsplit(subscriber.url)
    check_scheme(url.scheme)
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = checked_addresses(url.hostname, port)
    cls = PinnedHTTPSConnection if url.scheme == "https" else PinnedHTTPConnection
    conn = cls(url.hostname, port, addresses=addresses, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS)
    body = delivery.notice.payload.encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Newsroom-Event": delivery.notice.event,
        "X-Newsroom-Delivery": str(delivery.delivery_id),
        "X-Newsroom-Signature": signature(subscriber.secret, int(time.time()), body),
    }
    try:
        conn.request("POST", url.path + (f"?{url.query}" if url.query else "") or "/", body, headers)
        response = conn.getresponse()
        response.read(64 * 1024)  # what the receiver says is not kept
        return response.status
    finally:
        conn.close()


def connect_to(addresses, port, timeout):
    """A connection to the first of these (checked) addresses that answers."""
    error = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked `addresses`, sending the URL's host name in the Host header."""

    def __init__(self, host, port, *, addresses, **kwargs):
        super().__init__(host, port, **kwargs)
        self.addresses = addresses

    def connect(self):
        self.sock = connect_to(self.addresses, self.port, self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked `addresses`, with the URL's host name in the Host header, SNI and the certificate's
    check."""

    def __init__(self, host, port, *, addresses, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self.addresses = addresses

    def connect(self):
        sock = connect_to(self.addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


# Where deliveries may go.


class Refused(ValueError):
    """A URL or address webhooks are not sent to; the message says why, for the editor."""


def check_url(value):
    """Refuse a subscriber's URL that deliveries may not go to (an editor's form calls this)."""
    url = urlsplit(value)
    check_scheme(url.scheme)
    if url.username or url.password:
        raise Refused("Put no user name or password in the URL: the signature proves the sender.")
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        raise Refused("The port is not a number from 1 to 65535.") from None
    checked_addresses(url.hostname, port)


def check_scheme(scheme):
    if scheme == "https" or (scheme == "http" and settings.WEBHOOKS_ALLOW_PRIVATE):
        return
    raise Refused("The URL must start with https://.")


def checked_addresses(host, port):
    """The addresses to connect to for `host`, as it resolves now: every one must be public (one that is not could
    be the one connected to next time); Refused otherwise."""
    if not host:
        raise Refused("The URL has no host.")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise Refused(f"{host} could not be found (DNS).") from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not settings.WEBHOOKS_ALLOW_PRIVATE:
        for address in addresses:
            if kind := not_public(address):
                shown = address if address == host else f"{host} resolves to {address}"
                article = "an" if kind[0] in "aeiou" else "a"
                raise Refused(f"{shown}, {article} {kind} address: webhooks go only to public addresses.")
    return addresses


def not_public(address):
    """What kind of non-public address this is ("loopback", "private"...), or None for a public one."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo and ip.teredo[1])
        if embedded:
            return not_public(str(embedded))
        if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64: an IPv4 address inside
            return not_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "non-public"
