"""Django's SQLite backend, with one question asked where it cannot wait for an import.

Django asks whether SQLite has JSON (features.supports_json_field) once per connection, by running a query in a
transaction; with transaction_mode IMMEDIATE (settings.py) that transaction takes the write lock, which an import
holds for minutes. A process started meanwhile (gunicorn replacing a worker, a deploy) gave up after the busy
timeout, believed "no JSON" for its life, and answered every page with story cards (JSONObject) with a 500.
JSON is a property of the SQLite library, not of the database file: it is asked of an in-memory database.
"""

import sqlite3

from django.db.backends.sqlite3 import base, features
from django.utils.functional import cached_property


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def supports_json_field(self):
        library = sqlite3.connect(":memory:")
        try:
            library.execute("""SELECT JSON('{"a": "b"}')""")
        except sqlite3.OperationalError:
            return False
        finally:
            library.close()
        return True


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
