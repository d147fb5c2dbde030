"""API clients send their bearer token in the Authorization header, and only there: a token
in the URL ends up in access logs and browser history, one in the body in request dumps."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from contactcenter.api.permissions import ApiClientOrStaff
from tests.api_clients import ALL_SCOPES, bearer, create_api_client, fetch_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def access_token() -> str:
    return fetch_token(create_api_client("Provisioning", ALL_SCOPES))["access_token"]


def test_a_token_in_the_authorization_header_is_accepted(access_token):
    assert bearer(access_token).get("/api/v1/workstreams/").status_code == 200


def test_a_token_in_the_query_string_is_not_accepted(access_token):
    response = Client().get("/api/v1/workstreams/", {"access_token": access_token})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_in_a_form_body_is_not_accepted(access_token):
    response = Client().post(
        "/api/v1/workstreams/",
        f"access_token={access_token}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 401


def test_a_token_in_a_json_body_is_not_accepted(access_token):
    body = {"name": "Support", "channel_type": "live_chat", "access_token": access_token}
    response = Client().post(
        "/api/v1/workstreams/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 401


def test_a_request_carrying_a_token_in_the_url_is_refused_even_beside_a_header_token(
    access_token,
):
    weak = fetch_token(create_api_client("Reader", "config:read"))["access_token"]
    response = bearer(weak).post(
        f"/api/v1/workstreams/?access_token={access_token}",
        {"name": "Support", "channel_type": "live_chat"},
    )
    assert response.status_code == 401


class DefaultAuthenticationView(APIView):
    """A view that, like any added later, takes the project's default authentication; it
    reads forms, as an upload view would."""

    parser_classes = [FormParser, JSONParser]
    permission_classes = [ApiClientOrStaff]

    def post(self, request):
        return Response({"client": request.auth.application.name})


@pytest.mark.parametrize(
    ("location", "accepted"), [("header", True), ("form", False), ("json", False)]
)
def test_a_view_with_default_authentication_reads_the_token_from_the_header_only(
    access_token, location, accepted
):
    factory = APIRequestFactory()
    if location == "header":
        request = factory.post("/", headers={"Authorization": f"Bearer {access_token}"})
    elif location == "form":
        request = factory.post(
            "/",
            f"access_token={access_token}",
            content_type="application/x-www-form-urlencoded",
        )
    else:
        request = factory.post("/", {"access_token": access_token}, format="json")

    response = DefaultAuthenticationView.as_view()(request)

    assert response.status_code == (200 if accepted else 401)
