"""Querysets compiled to SQL once per process, then run with new values.

Django builds and compiles a queryset's SQL every time it runs. For the small indexed queries of a public
page that took five to ten times as long as the database took to answer them (docs/performance.md), on
every request, for SQL that never changes. A `CompiledQuery` builds its queryset once, with marker values
in place of the real ones, keeps the SQL, and on each call puts the call's values where the markers were.
The rows become model instances as the queryset itself would make them (select_related included).
"""

import copy
import re
from datetime import UTC, datetime

from django.db import connections
from django.db.models import QuerySet

# Marker values: none of them can be a value a page asks for.
STRING_MARKER = "\x00marker-{}"
NUMBER_MARKER = -(2**31) + 7
DATETIME_MARKER = datetime(1001, 1, 1, tzinfo=UTC)
# A slice [start:stop]: Django writes its bounds into the SQL ("LIMIT 123457 OFFSET 987654321"), where
# they become parameters, so that one SQL serves every page. Both databases take them as parameters.
SLICE_START, SLICE_LENGTH = 987_654_321, 123_457


class CompiledQuery:
    """`CompiledQuery(build, str, datetime)` runs `build("<marker>", <marker>)` once per database; calling
    it with ("some-slug", now) then returns the list that `build("some-slug", now)` would give.

    `build` must use each argument only as a value to compare with (a filter), or, for an argument of
    type `slice`, as the bounds of one slice (`queryset[page]`, a subquery's too). The test suite runs
    every compiled query against its plain queryset.
    """

    def __init__(self, build, *types):
        self.build = build
        self.types = types
        self._compiled = {}  # database alias -> (queryset, compiler, sql, [parameter sources])

    def __call__(self, *values, using="default"):
        queryset, compiler, sql, sources = self._compiled.get(using) or self._compile(using)
        connection = connections[using]
        adapt = connection.ops.adapt_datetimefield_value
        params = []
        for source, value in sources:
            if source == "value":
                params.append(value)
            elif source == "limit":
                page = values[value]
                params.append(max(page.stop - (page.start or 0), 0))
            elif source == "offset":
                params.append(values[value].start or 0)
            else:
                value = values[value]
                params.append(adapt(value) if isinstance(value, datetime) else value)
        run = copy.copy(compiler)
        run.connection = connection  # this thread's: the compiler kept the compiling thread's
        run.as_sql = lambda *args, **kwargs: (sql, tuple(params))
        query = copy.copy(queryset.query)
        query.get_compiler = lambda *args, **kwargs: run
        # A new QuerySet rather than queryset._clone(), which would clone the whole query tree.
        fresh = QuerySet(model=queryset.model, query=query, using=using)
        fresh._iterable_class = queryset._iterable_class
        fresh._fields = queryset._fields
        fresh._fetch_mode = queryset._fetch_mode
        return list(fresh)

    def _compile(self, using):
        markers = [self.marker(kind, n) for n, kind in enumerate(self.types)]
        queryset = self.build(*markers).using(using)
        connection = connections[using]
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()  # also sets what turns rows into objects (select, klass_info)
        adapted = [
            connection.ops.adapt_datetimefield_value(marker) if isinstance(marker, datetime) else marker
            for marker in markers
        ]
        sources = [("arg", adapted.index(p)) if p in adapted else ("value", p) for p in params]
        used = {n for source, n in sources if source == "arg"}
        for n, kind in enumerate(self.types):
            if kind is slice:
                sql, sources = self._unslice(sql, sources, n)
                used.add(n)
        if used != set(range(len(markers))):
            raise ValueError(f"every argument of a compiled query must be a value in its SQL: {sql}")
        self._compiled[using] = compiled = (queryset, compiler, sql, sources)
        return compiled

    @staticmethod
    def _unslice(sql, sources, n):
        """The slice marker's literal LIMIT and OFFSET, made parameters."""
        literal = re.compile(rf"\bLIMIT {SLICE_LENGTH} OFFSET {SLICE_START + n}\b")
        found = list(literal.finditer(sql))
        if len(found) != 1:
            raise ValueError(f"a slice argument must slice the query once: {sql}")
        before = sql[: found[0].start()].count("%s")
        sql = f"{sql[: found[0].start()]}LIMIT %s OFFSET %s{sql[found[0].end() :]}"
        return sql, [*sources[:before], ("limit", n), ("offset", n), *sources[before:]]

    @staticmethod
    def marker(kind, n):
        if kind is str:
            return STRING_MARKER.format(n)
        if kind is int:
            return NUMBER_MARKER + n
        if kind is datetime:
            return DATETIME_MARKER.replace(year=DATETIME_MARKER.year + n)
        if kind is slice:
            return slice(SLICE_START + n, SLICE_START + n + SLICE_LENGTH)
        raise TypeError(f"no marker for {kind}")
