"""Full-text search over stories, on SQLite (FTS5) or PostgreSQL (tsvector + GIN), behind one interface.

The index is kept by database triggers, not Django signals, because the importer writes with bulk_create()
and update(), which send no signals. `install()` creates the index and its triggers; a migration runs it,
and so does every `migrate` (post_migrate), because SQLite drops a table's triggers whenever Django
rebuilds that table for an unrelated schema change.

Readers' words never reach the database as query syntax: `terms()` keeps letters and digits only, so
quotes, SQL, FTS operators, emoji and 10,000-character queries get results or nothing, never an error.
"""

import re
from collections.abc import Sequence

from django.db import connection
from django.utils.html import escape
from django.utils.safestring import mark_safe

MAX_QUERY_CHARS = 1000
MAX_TERMS = 12
WORD = re.compile(r"[^\W_]+")
# Private-use characters mark matches in snippets until the text is HTML-escaped; then they become <mark>.
START, STOP = "\ue000", "\ue001"


def terms(query):
    """The words of a reader's query, lower-cased, at most MAX_TERMS of them."""
    return [word.lower() for word in WORD.findall(query[:MAX_QUERY_CHARS])][:MAX_TERMS]


def highlight(snippet):
    return mark_safe(escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>"))


class Results(Sequence):
    """Stories of `queryset` matching `query`, best first; slicing fetches one page, with snippets."""

    def __init__(self, queryset, query):
        self.queryset = queryset
        self.terms = terms(query)
        self.backend = BACKENDS[connection.vendor]
        self._count = None

    def count(self):
        if self._count is None:
            self._count = self.backend.count(self._candidates(), self.terms) if self.terms else 0
        return self._count

    __len__ = count

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _ = index.indices(self.count())
        if stop <= start:
            return []
        ids = self.backend.ranked_ids(self._candidates(), self.terms, start, stop - start)
        snippets = self.backend.snippets(ids, self.terms)
        articles = self.queryset.in_bulk(ids)
        page = []
        for pk in ids:
            article = articles[pk]
            article.snippet = highlight(snippets.get(pk) or article.summary)
            page.append(article)
        return page

    def _candidates(self):
        return self.queryset.order_by().values("pk").query.sql_with_params()


class SQLiteBackend:
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
        "articles_search_caption_insert": """
            CREATE TRIGGER articles_search_caption_insert AFTER INSERT ON articles_caption BEGIN
              UPDATE articles_search SET captions = (
                SELECT coalesce(group_concat(text, ' '), '') FROM articles_caption WHERE article_id = new.article_id
              ) WHERE rowid = new.article_id;
            END""",
        "articles_search_caption_update": """
            CREATE TRIGGER articles_search_caption_update AFTER UPDATE ON articles_caption BEGIN
              UPDATE articles_search SET captions = (
                SELECT coalesce(group_concat(text, ' '), '') FROM articles_caption
                WHERE article_id = articles_search.rowid
              ) WHERE rowid IN (old.article_id, new.article_id);
            END""",
        "articles_search_caption_delete": """
            CREATE TRIGGER articles_search_caption_delete AFTER DELETE ON articles_caption BEGIN
              UPDATE articles_search SET captions = (
                SELECT coalesce(group_concat(text, ' '), '') FROM articles_caption WHERE article_id = old.article_id
              ) WHERE rowid = old.article_id;
            END""",
    }

    # Triggers of earlier versions, replaced by the ones above.
    OBSOLETE = ["articles_search_article_insert"]

    def install(self, cursor):
        cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'articles_search%%'")
        existing = {name for (name,) in cursor.fetchall()}
        for name in self.OBSOLETE:
            if name in existing:
                cursor.execute(f"DROP TRIGGER {name}")
                existing.discard(name)
        if "articles_search" in existing and existing.issuperset(self.TRIGGERS):
            return
        cursor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS articles_search USING fts5("
            "headline, standfirst, body, captions, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        for name, sql in self.TRIGGERS.items():
            if name not in existing:
                cursor.execute(sql)
        self.rebuild(cursor)

    def uninstall(self, cursor):
        for name in [*self.TRIGGERS, *self.OBSOLETE]:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute("DROP TABLE IF EXISTS articles_search")

    def rebuild(self, cursor):
        cursor.execute("DELETE FROM articles_search")
        cursor.execute(
            "INSERT INTO articles_search(rowid, headline, standfirst, body, captions) "
            "SELECT a.id, a.headline, a.standfirst, a.body, coalesce(("
            "  SELECT group_concat(c.text, ' ') FROM articles_caption c WHERE c.article_id = a.id), '') "
            "FROM articles_article a"
        )

    # "+rowid": the unary plus keeps FTS5 from turning "rowid IN (candidates)" into one full-text lookup
    # per candidate, which is quadratic; the match runs once and the candidates filter its rows.

    def match(self, words):
        # Every word quoted: FTS5 sees phrases, never operators, and ANDs them.
        return " ".join(f'"{word}"' for word in words)

    def count(self, candidates, words):
        sql, params = candidates
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM articles_search WHERE articles_search MATCH %s AND +rowid IN ({sql})",
                [self.match(words), *params],
            )
            return cursor.fetchone()[0]

    def ranked_ids(self, candidates, words, offset, limit):
        sql, params = candidates
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid FROM articles_search WHERE articles_search MATCH %s AND +rowid IN ({sql}) "
                f"ORDER BY {self.RANK}, rowid DESC LIMIT %s OFFSET %s",
                [self.match(words), *params, limit, offset],
            )
            return [pk for (pk,) in cursor.fetchall()]

    def snippets(self, ids, words):
        if not ids:
            return {}
        placeholders = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, snippet(articles_search, -1, %s, %s, '…', 32) FROM articles_search "
                f"WHERE articles_search MATCH %s AND rowid IN ({placeholders})",
                [START, STOP, self.match(words), *ids],
            )
            return dict(cursor.fetchall())


class PostgreSQLBackend:
    # Ranking uses ts_rank (weights A-D from headline, standfirst, body, captions): ts_rank_cd ranked
    # 100,000 matches three times slower.
    # English stories get stemming ("floods" finds "flooded"); other languages are indexed word for word.
    CONFIG = "(CASE WHEN {language} LIKE 'en%%' THEN 'english' ELSE 'simple' END)::regconfig"
    QUERY = "(plainto_tsquery('english', %s) || plainto_tsquery('simple', %s))"

    FUNCTION = """
        CREATE OR REPLACE FUNCTION articles_search_document() RETURNS trigger AS $$
        DECLARE config regconfig := {config};
        BEGIN
          NEW.search_document :=
            setweight(to_tsvector(config, coalesce(NEW.headline, '')), 'A') ||
            setweight(to_tsvector(config, coalesce(NEW.standfirst, '')), 'B') ||
            setweight(to_tsvector(config, coalesce(NEW.body, '')), 'C') ||
            setweight(to_tsvector(config, coalesce(
              (SELECT string_agg(text, ' ' ORDER BY "order") FROM articles_caption WHERE article_id = NEW.id), ''
            )), 'D');
          RETURN NEW;
        END $$ LANGUAGE plpgsql""".replace("{config}", CONFIG.format(language="NEW.language").replace("%%", "%"))

    # A caption change sets search_document to NULL, which makes the article trigger recompute it.
    CAPTION_FUNCTION = """
        CREATE OR REPLACE FUNCTION articles_search_caption_changed() RETURNS trigger AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE articles_article SET search_document = NULL WHERE id = OLD.article_id;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE articles_article SET search_document = NULL WHERE id = NEW.article_id;
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql"""

    def install(self, cursor):
        cursor.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'articles_article' AND column_name = 'search_document'"
        )
        existed = cursor.fetchone() is not None
        cursor.execute(self.FUNCTION)
        cursor.execute(self.CAPTION_FUNCTION)
        cursor.execute(
            "SELECT count(*) FROM pg_trigger "
            "WHERE tgname IN ('articles_search_document', 'articles_search_caption') AND NOT tgisinternal"
        )
        if existed and cursor.fetchone()[0] == 2:
            return
        cursor.execute("ALTER TABLE articles_article ADD COLUMN IF NOT EXISTS search_document tsvector")
        cursor.execute(
            "CREATE OR REPLACE TRIGGER articles_search_document "
            "BEFORE INSERT OR UPDATE OF headline, standfirst, body, language, search_document ON articles_article "
            "FOR EACH ROW EXECUTE FUNCTION articles_search_document()"
        )
        cursor.execute(
            "CREATE OR REPLACE TRIGGER articles_search_caption AFTER INSERT OR UPDATE OR DELETE ON articles_caption "
            "FOR EACH ROW EXECUTE FUNCTION articles_search_caption_changed()"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS articles_search_document_gin ON articles_article USING gin (search_document)"
        )
        if not existed:
            self.rebuild(cursor)

    def uninstall(self, cursor):
        cursor.execute("DROP TRIGGER IF EXISTS articles_search_caption ON articles_caption")
        cursor.execute("DROP TRIGGER IF EXISTS articles_search_document ON articles_article")
        cursor.execute("DROP FUNCTION IF EXISTS articles_search_caption_changed()")
        cursor.execute("DROP FUNCTION IF EXISTS articles_search_document()")
        cursor.execute("ALTER TABLE articles_article DROP COLUMN IF EXISTS search_document")

    def rebuild(self, cursor):
        cursor.execute("UPDATE articles_article SET search_document = NULL")

    def count(self, candidates, words):
        sql, params = candidates
        text = " ".join(words)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM articles_article WHERE search_document @@ {self.QUERY} AND id IN ({sql})",
                [text, text, *params],
            )
            return cursor.fetchone()[0]

    def ranked_ids(self, candidates, words, offset, limit):
        sql, params = candidates
        text = " ".join(words)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM articles_article, (SELECT {self.QUERY} AS query) AS q "
                f"WHERE search_document @@ q.query AND id IN ({sql}) "
                "ORDER BY ts_rank(search_document, q.query) DESC, id DESC LIMIT %s OFFSET %s",
                [text, text, *params, limit, offset],
            )
            return [pk for (pk,) in cursor.fetchall()]

    def snippets(self, ids, words):
        if not ids:
            return {}
        text = " ".join(words)
        config = self.CONFIG.format(language="language")
        options = f'StartSel={START}, StopSel={STOP}, MaxWords=40, MinWords=20, MaxFragments=2, FragmentDelimiter=" … "'
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, ts_headline({config}, standfirst || ' ' || body, {self.QUERY}, %s) "
                "FROM articles_article WHERE id = ANY(%s)",
                [text, text, options, list(ids)],
            )
            return dict(cursor.fetchall())


BACKENDS = {"sqlite": SQLiteBackend(), "postgresql": PostgreSQLBackend()}


def install(conn=connection):
    """Create the search index and the triggers that keep it current, filling the index if it is new."""
    with conn.cursor() as cursor:
        BACKENDS[conn.vendor].install(cursor)


def uninstall(conn=connection):
    with conn.cursor() as cursor:
        BACKENDS[conn.vendor].uninstall(cursor)


def rebuild(conn=connection):
    """Re-index every story (the triggers keep the index current; this is for repairs)."""
    with conn.cursor() as cursor:
        BACKENDS[conn.vendor].rebuild(cursor)
