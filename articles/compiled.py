"""Querysets compiled to SQL once per process, then run with new values.

Django builds and compiles a queryset's SQL every time it runs. For the small indexed queries of a public
page that took five to ten times as long as the database took to answer them (docs/performance.md), on
every request, for SQL that never changes. A `CompiledQuery` builds its queryset once, with marker values
in place of the real ones, keeps the SQL, and on each call puts the call's values where the markers were.
The rows become model instances as the queryset itself would make them (select_related included).
"""

import copy
from datetime import UTC, datetime

from django.db import connections
from django.db.models import QuerySet

# Marker values: none of them can be a value a page asks for.
STRING_MARKER = "\x00marker-{}"
NUMBER_MARKER = -(2**31) + 7
DATETIME_MARKER = datetime(1001, 1, 1, tzinfo=UTC)


class CompiledQuery:
    """`CompiledQuery(build, str, datetime)` runs `build("<marker>", <marker>)` once per database; calling
    it with ("some-slug", now) then returns the list that `build("some-slug", now)` would give.

    `build` must use each argument only as a value to compare with (filters, not slices or lookups
    chosen by value); the test suite runs every compiled query against its plain queryset.
    """

    def __init__(self, build, *types):
        self.build = build
        self.types = types
        self._compiled = {}  # database alias -> (queryset, compiler, sql, params, [(param index, arg index)])

    def __call__(self, *values, start=0, stop=None, using="default"):
        """The rows for these values; with `stop`, only those of the slice [start:stop]."""
        compiled = self._compiled.get(using) or self._compile(using)
        queryset, compiler, sql, params, slots = compiled
        connection = connections[using]
        params = list(params)
        for index, arg in slots:
            value = values[arg]
            params[index] = connection.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value
        if stop is not None:
            # Django writes a slice's bounds into the SQL itself; here they are parameters, so that one SQL
            # serves every page. Both databases take LIMIT and OFFSET as parameters.
            sql = f"{sql} LIMIT %s OFFSET %s"
            params += [max(stop - start, 0), start]
        run = copy.copy(compiler)
        run.as_sql = lambda *args, **kwargs: (sql, tuple(params))
        query = copy.copy(queryset.query)
        query.get_compiler = lambda *args, **kwargs: run
        # A new QuerySet rather than queryset._clone(), which would clone the whole query tree.
        fresh = QuerySet(model=queryset.model, query=query, using=using)
        fresh._iterable_class = queryset._iterable_class
        fresh._fields = queryset._fields
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
        slots = [(index, adapted.index(param)) for index, param in enumerate(params) if param in adapted]
        if sorted({arg for _, arg in slots}) != list(range(len(markers))):
            raise ValueError(f"every argument of a compiled query must be a value in its SQL: {sql}")
        self._compiled[using] = compiled = (queryset, compiler, sql, params, slots)
        return compiled

    @staticmethod
    def marker(kind, n):
        if kind is str:
            return STRING_MARKER.format(n)
        if kind is int:
            return NUMBER_MARKER + n
        if kind is datetime:
            return DATETIME_MARKER.replace(year=DATETIME_MARKER.year + n)
        raise TypeError(f"no marker for {kind}")
