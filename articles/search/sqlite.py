"""Search on SQLite: an FTS5 table, articles_search, beside the article table (its rowid is the story's id),
kept current by triggers."""

from django.db import connection
from django.db.models.expressions import RawSQL

from . import START, STOP

# Column weights for bm25(): headline, standfirst, body, captions.
RANK = "bm25(articles_search, 10.0, 4.0, 1.0, 2.0)"

TRIGGERS = {
    # The article's captions are read here too: the importer writes a story's captions before the story
    # itself, so each story is indexed once. (Every caption written after it re-indexes the whole story:
    # an FTS5 update is a delete and an insert of the row.)
    "articles_search_article_insert_with_captions": """
        CREATE TRIGGER articles_search_article_insert_with_captions AFTER INSERT ON articles_article BEGIN
          INSERT INTO articles_search(rowid, headline, standfirst, body, captions)
          VALUES (new.id, new.headline, new.standfirst, new.body, coalesce(
            (SELECT group_concat(text, ' ') FROM articles_caption WHERE article_id = new.id), ''));
        END""",
    "articles_search_article_update": """
        CREATE TRIGGER articles_search_article_update AFTER UPDATE OF headline, standfirst, body
        ON articles_article BEGIN
          UPDATE articles_search SET headline = new.headline, standfirst = new.standfirst, body = new.body
          WHERE rowid = new.id;
        END""",
    "articles_search_article_delete": """
        CREATE TRIGGER articles_search_article_delete AFTER DELETE ON articles_article BEGIN
          DELETE FROM articles_search WHERE rowid = old.id;
        END""",
    **{
        f"articles_search_caption_{event.lower()}": f"""
        CREATE TRIGGER articles_search_caption_{event.lower()} AFTER {event} ON articles_caption BEGIN
          UPDATE articles_search SET captions = (
            SELECT coalesce(group_concat(text, ' '), '') FROM articles_caption WHERE article_id = {row}.article_id
          ) WHERE rowid = {row}.article_id;
        END"""
        for event, row in [("INSERT", "new"), ("DELETE", "old")]
    },
    # A caption moved to another story changes both stories' captions.
    "articles_search_caption_update": """
        CREATE TRIGGER articles_search_caption_update AFTER UPDATE ON articles_caption BEGIN
          UPDATE articles_search SET captions = (
            SELECT coalesce(group_concat(text, ' '), '') FROM articles_caption
            WHERE article_id = articles_search.rowid
          ) WHERE rowid IN (old.article_id, new.article_id);
        END""",
}

# Triggers of earlier versions, replaced by the ones above.
OBSOLETE = ["articles_search_article_insert"]


def install(cursor):
    cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'articles_search%%'")
    existing = {name for (name,) in cursor.fetchall()}
    for name in OBSOLETE:
        if name in existing:
            cursor.execute(f"DROP TRIGGER {name}")
            existing.discard(name)
    if "articles_search" in existing and existing.issuperset(TRIGGERS):
        return
    cursor.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS articles_search USING fts5("
        "headline, standfirst, body, captions, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    for name, sql in TRIGGERS.items():
        if name not in existing:
            cursor.execute(sql)
    rebuild(cursor)


def uninstall(cursor):
    for name in [*TRIGGERS, *OBSOLETE]:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    cursor.execute("DROP TABLE IF EXISTS articles_search")


def rebuild(cursor):
    cursor.execute("DELETE FROM articles_search")
    cursor.execute(
        "INSERT INTO articles_search(rowid, headline, standfirst, body, captions) "
        "SELECT a.id, a.headline, a.standfirst, a.body, coalesce(("
        "  SELECT group_concat(c.text, ' ') FROM articles_caption c WHERE c.article_id = a.id), '') "
        "FROM articles_article a"
    )


def match(words):
    # Every word quoted: FTS5 sees phrases, never operators, and ANDs them.
    return " ".join(f'"{word}"' for word in words)


# Fewer candidates than this (a narrow filter) are listed first, then the matches are checked against
# the list; more are looked up one by one as FTS5 finds matches, newest first, until it has enough.
FEW = 5000


def candidate(queryset):
    """SQL that is true when the index row is one of the queryset's stories; None if there are none."""
    candidates = queryset.order_by().values("pk")
    sql, params = candidates[:FEW].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql})", params)
        count = cursor.fetchone()[0]
    if not count:
        return None, []
    if count < FEW:
        # The unary plus: without it FTS5 runs the full-text query once per candidate.
        sql, params = candidates.query.sql_with_params()
        return f"+rowid IN ({sql})", params
    # Listing every published story first took 50 ms at 100,000, twice a page; looked up by key for each
    # match, FTS5's matches drive the query and it stops at the LIMIT.
    sql, params = candidates.filter(pk=RawSQL("articles_search.rowid", ())).query.sql_with_params()
    return f"EXISTS ({sql})", params


def newest(queryset, words, limit):
    condition, params = candidate(queryset)
    if condition is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, {RANK} FROM articles_search WHERE articles_search MATCH %s AND {condition} "
            "ORDER BY rowid DESC LIMIT %s",
            [match(words), *params, limit],
        )
        return cursor.fetchall()


def snippets(stories, words):
    """{id: snippet} of these stories, matches between START and STOP; FTS5 makes them from its index."""
    ids = [story.pk for story in stories]
    if not ids:
        return {}
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, snippet(articles_search, -1, %s, %s, '…', 32) FROM articles_search "
            f"WHERE articles_search MATCH %s AND rowid IN ({placeholders})",
            [START, STOP, match(words), *ids],
        )
        return dict(cursor.fetchall())
