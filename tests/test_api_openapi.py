"""The API's OpenAPI description: valid OpenAPI 3.1, true to what every path answers, and readable as a page."""

import json

import pytest
from jsonschema import Draft202012Validator
from jsonschema_path import SchemaPath
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from articles.api.views import SCHEMA_FILE
from tests.ninjs import assert_ninjs, validator

pytestmark = pytest.mark.django_db


def openapi(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_the_description_is_valid_openapi_3_1(client):
    document = openapi(client)

    assert document["openapi"] == "3.1.0"
    # Its references resolved through the site itself: the ninjs schema is fetched from where the API serves it.
    fetched = []

    def fetch(url):
        fetched.append(url)
        if not url.startswith("http://testserver/"):
            # ninjs's `places` refers to GeoJSON's schema, on the internet, which the tests do not reach (and the
            # stories have no places): taken as any JSON.
            return {}
        response = client.get(url.removeprefix("http://testserver"))
        assert response.status_code == 200, url
        return json.loads(response.content)

    OpenAPIV31SpecValidator(SchemaPath.from_dict(document, handlers={"http": fetch, "https": fetch})).validate()
    assert fetched[0] == "http://testserver/api/v1/schemas/ninjs-2.2.json"


def test_the_stories_schema_is_the_ninjs_schema_the_api_serves(client):
    document = openapi(client)
    story = document["components"]["schemas"]["Story"]
    response = client.get(story["$ref"].removeprefix("http://testserver"))

    assert response.status_code == 200
    assert json.loads(response.content) == json.loads(SCHEMA_FILE.read_text())
    assert validator().schema["$id"].startswith("http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json")


def test_every_path_answers_as_described(client, reader_site, withdrawn_article):
    """Each operation, asked as its parameters say, answers with one of its documented statuses and, for JSON,
    a body valid against the schema it documents (stories against ninjs 2.2)."""
    document = openapi(client)
    base = document["servers"][0]["url"].removeprefix("http://testserver").rstrip("/")
    schema_url = document["components"]["schemas"]["Story"]["$ref"]
    ninjs = json.loads(SCHEMA_FILE.read_text())
    registry = Registry().with_resources(
        [
            (schema_url, Resource.from_contents(ninjs)),
            (
                "urn:openapi",
                Resource.from_contents({"components": document["components"]}, default_specification=DRAFT202012),
            ),
        ]
    )
    examples = {
        "id": reader_site.pk,
        "url": reader_site.get_absolute_url(),
        "section": "world",
        "topic": "weather",
        "author": "jane-reporter",
        "since": "2020-01-01",
        "until": "2100-01-01",
        "updated_since": "2020-01-01T00:00:00Z",
        "q": "floods",
        "page_size": 5,
    }
    asked = 0
    for path, methods in document["paths"].items():
        operation = methods["get"]
        parameters = operation.get("parameters", [])
        url = base + path.replace("{id}", str(examples["id"]))
        query = {p["name"]: examples[p["name"]] for p in parameters if p["in"] == "query" and p["name"] in examples}
        response = client.get(url, query)
        asked += 1
        status = str(response.status_code)
        assert status in operation["responses"], (path, status)
        described = operation["responses"][status]
        if "$ref" in described:
            described = document["components"]["responses"][described["$ref"].rsplit("/", 1)[1]]
        [content_type] = described["content"]
        assert response["Content-Type"].split(";")[0] == content_type, path
        if content_type == "application/json":
            schema = described["content"][content_type]["schema"]
            schema = {"$ref": "urn:openapi#" + schema["$ref"][1:]} if "$ref" in schema else schema
            Draft202012Validator(schema, registry=registry).validate(response.json())
            if path.startswith("/stories/"):
                for story in response.json().get("items", [response.json()]):
                    assert_ninjs(story)
    assert asked == len(document["paths"]) == 7
    # The tombstone, as described for 410.
    gone = client.get(f"{base}/stories/{withdrawn_article.pk}/")
    assert "410" in document["paths"]["/stories/{id}/"]["get"]["responses"]
    assert_ninjs(gone.json())


def test_the_docs_page_renders_the_description_under_the_sites_csp(client):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "<code>GET /stories/</code>" in page
    assert "page_size" in page and "ninjs 2.2" in page
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "<script" not in page and "style=" not in page
    assert 'href="/static/css/site.css"' in page or "site.css" in page
