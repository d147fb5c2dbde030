"""What operators' tools call (CONTRACT.md "Operations"): the health check a load balancer
polls and the metrics Prometheus scrapes."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from contactcenter import metrics
from contactcenter.lib.shared_cache import cache

HEALTH_KEY = "operations:healthz"


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def redis_answers() -> bool:
    """The shared cache (Redis) answers a write and a read."""
    try:
        cache.set(HEALTH_KEY, "ok", timeout=10)
        return cache.get(HEALTH_KEY) == "ok"
    except Exception:  # redis-py raises its own errors: any of them means no answer
        return False


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 `{"status": "ok"}` when the database and (where REDIS_URL is set) Redis answer;
    503 naming the one that does not."""
    checks = {"database": database_answers}
    if settings.REDIS_URL:
        checks["redis"] = redis_answers
    for name, answers in checks.items():
        if not answers():
            return JsonResponse({"status": "unavailable", "failing": name}, status=503)
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text for a bearer of CC_METRICS_TOKEN; 404 while it is unset, 401 without
    the token."""
    expected = settings.CC_METRICS_TOKEN
    if not expected:
        raise Http404("Metrics are off: set CC_METRICS_TOKEN.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.encode()):
        response = HttpResponse("Send Authorization: Bearer <CC_METRICS_TOKEN>.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        response["Content-Type"] = "text/plain; charset=utf-8"
        return response
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
