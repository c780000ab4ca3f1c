"""The API's OpenAPI 3.1 description, served at /api/v1/openapi.json and rendered as a page at /api/v1/docs/.

Written by hand, beside the views it describes (views.py): the stories' schema is IPTC's ninjs 2.2 itself,
served by the API, which the description refers to rather than copies. tests/test_api_openapi.py checks that
the document is valid OpenAPI and that every path answers as it says.
"""

from django.conf import settings
from django.urls import reverse

from .. import search
from . import views

ERROR = {"$ref": "#/components/responses/Error"}
NOT_MODIFIED = {"description": "Not modified since the `ETag` in `If-None-Match` (or the `If-Modified-Since` time)."}


def parameter(name, description, schema=None, where="query", **extra):
    return {"name": name, "in": where, "description": description, "schema": schema or {"type": "string"}, **extra}


def listing_parameters():
    return [
        parameter("section", "A section's slug, e.g. `world`."),
        parameter("topic", "A topic's slug, e.g. `weather`."),
        parameter("author", "An author's slug, e.g. `jane-reporter`."),
        parameter(
            "since",
            "Published at or after this date (the whole day, in the newsroom's time zone) or date-time "
            "(ISO 8601, e.g. `2026-12-03T09:30:00Z`).",
        ),
        parameter("until", "Published before the end of this date, or before this date-time."),
        parameter("updated_since", "Changed (edited or published) at or after this date or date-time."),
        parameter(
            "q",
            "Search words, as the site's search reads them (Arabic folded as readers type it); the newest "
            f"{getattr(settings, 'SEARCH_RANKED_MATCHES', search.RANKED_MATCHES):,} matches, newest first.",
        ),
        parameter("cursor", "Where the previous page ended: take the `next` link as it is."),
        parameter(
            "page_size",
            f"Stories a page, 1 to {views.MAX_PAGE_SIZE}.",
            {"type": "integer", "minimum": 1, "maximum": views.MAX_PAGE_SIZE, "default": views.PAGE_SIZE},
        ),
    ]


def json_content(schema):
    return {"application/json": {"schema": schema}}


def story_responses():
    return {
        "200": {
            "description": "The story, in ninjs 2.2.",
            "headers": {
                "ETag": {"schema": {"type": "string"}},
                "Last-Modified": {"schema": {"type": "string"}},
            },
            "content": json_content({"$ref": "#/components/schemas/Story"}),
        },
        "304": NOT_MODIFIED,
        "404": ERROR,
        "410": {
            "description": "Withdrawn: the story's tombstone (`pubstatus` `canceled`, the editors' reason).",
            "content": json_content({"$ref": "#/components/schemas/Story"}),
        },
    }


def document(request):
    """The OpenAPI document, its addresses on the host the request came in on."""
    schema_url = request.build_absolute_uri(reverse("api:ninjs-schema"))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{settings.SITE_NAME} API",
            "version": "v1",
            "summary": "Published stories in IPTC ninjs 2.2.",
            "description": (
                "Read-only. Published stories only: drafts, stories in review and embargoed stories are never "
                "returned; a withdrawn story answers 410 with its tombstone. Answers carry an ETag (and stories a "
                "Last-Modified) and answer conditional requests with 304."
            ),
        },
        "servers": [{"url": request.build_absolute_uri(reverse("api:index"))}],
        "paths": {
            "/": {
                "get": {
                    "operationId": "index",
                    "summary": "Links to everything below",
                    "responses": {"200": {"description": "Links.", "content": json_content({"type": "object"})}},
                }
            },
            "/stories/": {
                "get": {
                    "operationId": "listStories",
                    "summary": "Published stories, newest first",
                    "description": (
                        "Newest first by publication time, the id breaking ties; a page at a time, the `next` link "
                        "leading to the following page (null on the last). Filters combine."
                    ),
                    "parameters": listing_parameters(),
                    "responses": {
                        "200": {
                            "description": "A page of stories.",
                            "headers": {"ETag": {"schema": {"type": "string"}}},
                            "content": json_content({"$ref": "#/components/schemas/StoryPage"}),
                        },
                        "304": NOT_MODIFIED,
                        "400": ERROR,
                    },
                }
            },
            "/stories/{id}/": {
                "get": {
                    "operationId": "getStory",
                    "summary": "A story by its id",
                    "parameters": [
                        parameter("id", "The story's id.", {"type": "integer"}, where="path", required=True)
                    ],
                    "responses": story_responses(),
                }
            },
            "/stories/lookup/": {
                "get": {
                    "operationId": "lookupStory",
                    "summary": "A story by its public URL",
                    "description": "Its page's URL or path; an old URL that redirects finds the story too.",
                    "parameters": [
                        parameter("url", "The story's public URL, or its path.", required=True),
                    ],
                    "responses": story_responses() | {"400": ERROR},
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This description",
                    "responses": {"200": {"description": "OpenAPI 3.1.", "content": json_content({"type": "object"})}},
                }
            },
            "/docs/": {
                "get": {
                    "operationId": "docs",
                    "summary": "This description, as a page",
                    "responses": {
                        "200": {"description": "HTML.", "content": {"text/html": {"schema": {"type": "string"}}}}
                    },
                }
            },
            "/schemas/ninjs-2.2.json": {
                "get": {
                    "operationId": "ninjsSchema",
                    "summary": "The IPTC ninjs 2.2 JSON Schema the stories follow",
                    "responses": {
                        "200": {
                            "description": "JSON Schema (draft 2020-12), under the IPTC's MIT licence.",
                            "content": {"application/schema+json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Story": {
                    "$ref": schema_url,
                    "description": "A story (or a withdrawn story's tombstone) in ninjs 2.2.",
                },
                "StoryPage": {
                    "type": "object",
                    "required": ["items", "page_size", "next"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Story"}},
                        "page_size": {"type": "integer"},
                        "next": {"type": ["string", "null"], "format": "uri"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["status", "message"],
                            "properties": {
                                "status": {"type": "integer"},
                                "message": {"type": "string"},
                                "parameter": {"type": "string", "description": "The parameter at fault."},
                            },
                        }
                    },
                },
            },
            "responses": {
                "Error": {
                    "description": "What is wrong (for a 400, the parameter at fault).",
                    "content": json_content({"$ref": "#/components/schemas/Error"}),
                }
            },
        },
    }
