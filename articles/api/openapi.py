"""The API's OpenAPI 3.1 description, served at /api/v1/openapi.json and rendered at /api/v1/docs/."""


def document(request):
    return {"openapi": "3.1.0", "info": {"title": "Newsroom API", "version": "v1"}, "paths": {}}
