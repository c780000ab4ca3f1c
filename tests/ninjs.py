"""Checking the API's stories against the IPTC ninjs 2.2 JSON Schema the repository carries."""

import json
from functools import cache
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker

from articles.api.views import SCHEMA_FILE

# jsonschema checks "uri" only with an optional package (rfc3987) the project does not need: an absolute URI has
# a scheme and, for http(s), a host.
formats = FormatChecker()


@formats.checks("uri")
def absolute_uri(value):
    parts = urlsplit(value)
    return bool(parts.scheme) and (parts.scheme not in ("http", "https") or bool(parts.netloc)) and " " not in value


@cache
def validator():
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=formats)


def assert_ninjs(data):
    """Fail with every way `data` breaks the schema."""
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator().iter_errors(data)]
    assert not errors, "\n".join(errors)
    return data
