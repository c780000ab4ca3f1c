"""Full-text search over stories, on SQLite (FTS5, sqlite.py) or PostgreSQL (tsvector + GIN, postgresql.py),
behind one interface: Results, and install(), uninstall() and rebuild() of the index.

The index is kept by database triggers, not Django signals, because the importer writes with bulk_create()
and update(), which send no signals. Django cannot express triggers, so each engine installs its own; the
columns and the GIN index of PostgreSQL's are Article's fields and Meta.indexes, made by migrations (0014).
`install()` runs in that migration and after every `migrate` (post_migrate), because SQLite drops a table's
triggers whenever Django rebuilds that table for an unrelated schema change.

Arabic is searched as readers type it, who seldom write what a story prints: hamza on an alef or not
("اعلنت" for "أعلنت"), a haa for a taa marbuta ("الطاقه"), a yaa for an alef maqsura, no diacritics or
tatweel, and a word with or without its article ("سعودية", "السعودية"). FOLDING is that rule, in one
place: each engine's triggers index the story's text folded by it (SQL built from the table), and `terms()`
folds the query the same way; `alternatives()` matches a word with and without the article. Readers see
the story's own text: snippets made from the folded index are put back into it by `restore()`.

Readers' words never reach the database as query syntax: `terms()` keeps letters and digits only, so
quotes, SQL, FTS operators, emoji and 10,000-character queries get results or nothing, never an error.

Only the newest matches are ranked: at most `settings.SEARCH_RANKED_MATCHES` (1,000) of them, newest by id,
which is the order in which stories were created (imported or written). A query whose words are in nearly
every story ("said") would otherwise rank and count every story in the archive (0.3-0.8 s at 100,000).
Both databases find the newest matches without ranking or counting the rest: FTS5 reads its index in
descending rowid order and stops; PostgreSQL walks the primary key backwards, or takes the GIN index's
matches among the newest ids (see postgresql.newest). Past the cap the page says "More than 1,000 results"
and pages through the newest 1,000, best first; filters apply before the cap. A query with fewer matches
than the cap is ranked over all of them, exactly as before.
"""

import re
from bisect import bisect_right
from collections.abc import Sequence
from importlib import import_module

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils.html import escape
from django.utils.safestring import mark_safe

MAX_QUERY_CHARS = 1000
MAX_TERMS = 12
RANKED_MATCHES = 1000  # the default of settings.SEARCH_RANKED_MATCHES
WORD = re.compile(r"[^\W_]+")
# Private-use characters mark matches in snippets until the text is HTML-escaped; then they become <mark>.
START, STOP = "\ue000", "\ue001"
ENGINES = {"sqlite", "postgresql"}


# Arabic letters folded to the one readers type, and marks removed (tashkeel U+064B-U+0652, the
# superscript alef U+0670, tatweel U+0640): {character: what it becomes}. Single characters, so that the
# SQL of both engines (translate(), nested replace()) folds text exactly as fold() does.
FOLDING = {
    "\u0623": "\u0627",  # أ -> ا
    "\u0625": "\u0627",  # إ -> ا
    "\u0622": "\u0627",  # آ -> ا
    "\u0671": "\u0627",  # ٱ -> ا
    "\u0629": "\u0647",  # ة -> ه
    "\u0649": "\u064a",  # ى -> ي
    **{chr(mark): "" for mark in [*range(0x064B, 0x0653), 0x0670, 0x0640]},
}
REMOVED = re.compile("[" + "".join(char for char, to in FOLDING.items() if not to) + "]")
ARABIC_LETTER = re.compile(r"[\u0620-\u064a\u066e-\u06d3]")
# The definite article, alone or after a conjunction or preposition, longest first; a word keeps at least
# STEM letters ("الله" is not "له").
ARTICLES = ("وال", "بال", "كال", "فال", "لل", "ال")
STEM = 3
# FTS5 ends a snippet that does not reach the end of its column with this; ts_headline joins fragments with it.
ELLIPSIS = "…"


def fold(text):
    """Text as the search index holds it (see FOLDING)."""
    # A replace() a character, as SQLite does: str.translate() with a table took 3 ms for a 6,000-character
    # Arabic story (on every page of results), these 8 µs.
    for char, to in FOLDING.items():
        if char in text:
            text = text.replace(char, to)
    return text


def alternatives(word):
    """The forms of a folded query word that match it: an Arabic word with and without its article."""
    if not ARABIC_LETTER.search(word):
        return [word]
    stem = next((word[len(a) :] for a in ARTICLES if word.startswith(a) and len(word) - len(a) >= STEM), word)
    return list(dict.fromkeys([word, stem, *(article + stem for article in ARTICLES)]))


def restore(snippet, original):
    """The snippet, made from fold(original), in the original's own characters (with its hamzas, marks
    and tatweel), the matches still marked; None if the snippet is not made from that text."""
    folded = fold(original)
    # Where folded character j is in the original: j plus the removed characters before it.
    removed_before = [n - k for k, n in enumerate(m.start() for m in REMOVED.finditer(original))]

    def at(j):
        return j + bisect_right(removed_before, j)

    out = []
    for piece in re.split(f"({ELLIPSIS})", snippet):
        # The spaces around a fragment may be the delimiter's, not the text's.
        core = piece.strip()
        text = core.replace(START, "").replace(STOP, "")
        if piece == ELLIPSIS or not text:
            out.append(piece)
            continue
        j = folded.find(text)
        if j < 0:
            return None
        out.append(piece[: piece.index(core)])
        for part in re.split(f"([{START}{STOP}])", core):
            if part in (START, STOP):
                out.append(part)
            elif part:
                out.append(original[at(j) : at(j + len(part))])
                j += len(part)
        out.append(piece[piece.index(core) + len(core) :])
    return "".join(out)


def engine(conn):
    """The search engine of a connection's database: the module articles.search.sqlite or .postgresql."""
    if conn.vendor not in ENGINES:
        raise ImproperlyConfigured(f"Search works on SQLite and PostgreSQL, not on {conn.display_name}.")
    return import_module(f"{__name__}.{conn.vendor}")


def terms(query):
    """The words of a reader's query, lower-cased and folded, at most MAX_TERMS of them."""
    # Folded first: Python's \w does not take tashkeel, which would split a word at each mark.
    return [word.lower() for word in WORD.findall(fold(query[:MAX_QUERY_CHARS]))][:MAX_TERMS]


def highlight(snippet):
    return mark_safe(escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>"))


class Results(Sequence):
    """Stories of `queryset` matching `query`, best first; slicing fetches one page, with snippets.

    Only the newest `limit` matches are ranked and counted; `more` says whether older ones match too. The
    engine finds them with their scores in one query (each scored as it is read), and they are sorted
    here: at most `limit` pairs. The page's stories are read from `stories` (by default the model's
    manager) by primary key alone: the match has applied the queryset's filters already, and with them
    repeated SQLite walked the listing index over every published story (14 ms at 100,000) instead of
    looking up ten stories by key.
    """

    def __init__(self, queryset, query, stories=None):
        self.queryset = queryset
        self.stories = queryset.model._default_manager.all() if stories is None else stories
        self.terms = terms(query)
        self.engine = engine(connection)
        self.limit = getattr(settings, "SEARCH_RANKED_MATCHES", RANKED_MATCHES)
        self._newest = None
        self._ranked = None

    def newest(self):
        """(id, score) of the newest matches, newest first, one more than the limit if there are as many;
        the lower the score, the better the match."""
        if self._newest is None:
            self._newest = self.engine.newest(self.queryset, self.terms, self.limit + 1) if self.terms else []
        return self._newest

    def ranked(self):
        if self._ranked is None:
            self._ranked = [pk for pk, _ in sorted(self.newest()[: self.limit], key=lambda row: (row[1], -row[0]))]
        return self._ranked

    @property
    def more(self):
        return len(self.newest()) > self.limit

    def count(self):
        return min(len(self.newest()), self.limit)

    __len__ = count

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _ = index.indices(self.count())
        if stop <= start:
            return []
        ids = self.ranked()[start:stop]
        articles = self.stories.in_bulk(ids)
        snippets = self.engine.snippets([articles[pk] for pk in ids if pk in articles], self.terms)
        page = []
        for pk in ids:
            if pk in articles:  # else deleted since it matched
                article = articles[pk]
                article.snippet = highlight(snippets.get(pk) or article.summary)
                page.append(article)
        return page


def install(conn=connection):
    """Create the triggers that keep the search index current (on SQLite its FTS5 table too), filling the
    index if they are new: returns whether it did."""
    with conn.cursor() as cursor:
        return engine(conn).install(cursor)


def uninstall(conn=connection):
    with conn.cursor() as cursor:
        engine(conn).uninstall(cursor)


def rebuild(conn=connection):
    """Re-index every story (the triggers keep the index current; this is for repairs)."""
    with conn.cursor() as cursor:
        engine(conn).rebuild(cursor)


class SearchIndex(GinIndex):
    """A GIN index on PostgreSQL; on other databases none. SQLite's search index is the FTS5 table that
    sqlite.py installs, and the same models and migrations serve both databases."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return ""
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model, schema_editor, **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return ""
        return super().remove_sql(model, schema_editor, **kwargs)
