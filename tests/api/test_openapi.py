"""The API shell: its OpenAPI document and token authentication."""


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    assert document["servers"][0]["url"] == "http://reach.test/api/v1"
    assert "bearerAuth" in document["components"]["securitySchemes"]


def test_api_errors_are_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json == {"error": "Page not found"}
