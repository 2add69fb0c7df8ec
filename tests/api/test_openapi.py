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


def test_each_app_gets_the_areas_api_routes_and_paths_from_their_register_calls(app):
    """Registration is explicit (``register(api)`` from the factory): a second app gets the same routes
    and document, and building one adds nothing to the other's."""
    from mhfa import api, create_app

    other = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": app.instance_path,
                        "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for application in (app, other):
        endpoints = {rule.endpoint for rule in application.url_map.iter_rules()}
        assert {"api.list_courses", "api.get_course", "api.create_booking", "api.show_booking"} <= endpoints
        document = application.blueprints["api"].openapi
        assert {"/courses", "/courses/{course_id}", "/courses/{course_id}/bookings"} <= set(document["paths"])
    assert app.blueprints["api"] is not other.blueprints["api"]
    assert "/courses" not in api.OPENAPI["paths"]  # the shared starting document stays as it was
