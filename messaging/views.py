"""HTTP endpoints of the widget runtime and the agent console page."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from messaging.agent_rights import is_agent
from messaging.models import ChannelInstance, Deployment

TRANSPORT_SDK = Path(__file__).parent / "static" / "messaging" / "widget" / "transport.js"


def public_config(widget: ChannelInstance) -> dict:
    """What any page may know of a widget: never a secret."""
    setting = widget.authentication_setting
    return {
        "widget_id": str(widget.widget_id),
        "authentication": None
        if setting is None
        else {
            "type": setting.authentication_type,
            "javascript_client_function": setting.javascript_client_function or None,
        },
        "require_authentication": widget.require_authentication,
    }


def widget_json(widget: ChannelInstance, **more: str) -> JsonResponse:
    response = JsonResponse({**public_config(widget), **more})
    # The widget runs on customers' sites: the public config may be read from anywhere.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "no-cache"
    return response


def refusal(status: int, code: str, detail: str) -> JsonResponse:
    """An error the widget can show, in the socket's `{"code", "detail"}` shape."""
    response = JsonResponse({"code": code, "detail": detail}, status=status)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def widget_config(request, widget_id):
    widget = ChannelInstance.find_widget(widget_id)
    if widget is None:
        return refusal(404, "not_found", "No chat widget has this id.")
    return widget_json(widget)


@require_GET
def deployment_config(request, deployment_id):
    """The widget config of an active deployment, with its id: what the snippet and native
    apps start from."""
    deployment = (
        Deployment.objects.select_related("channel_instance__authentication_setting")
        .filter(deployment_id=deployment_id)
        .first()
    )
    if deployment is None:
        return refusal(
            404, "not_found", "No deployment has this id; check the snippet or the app's id."
        )
    if deployment.status != Deployment.Status.ACTIVE:
        return refusal(403, "deployment_inactive", "This deployment is inactive; activate it.")
    return widget_json(deployment.channel_instance, deployment_id=str(deployment.deployment_id))


def script(source: str | bytes) -> HttpResponse:
    response = HttpResponse(source, content_type="text/javascript")
    # Customers' pages load it from their own origin, some of them under
    # Cross-Origin-Embedder-Policy: require-corp; the static files it loads say the same.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_GET
@cache_control(public=True, max_age=300)
def loader(request):
    return script(render_to_string("messaging/loader.js"))


@require_GET
@cache_control(public=True, max_age=300)
def transport(request):
    """The transport SDK at an address that stays the same across versions, for native apps
    and for pages that draw their own chat."""
    return script(TRANSPORT_SDK.read_bytes())


@login_required(login_url="agent-login")
def agent_console(request):
    if not is_agent(request.user):
        raise PermissionDenied("The agent console is for users in the Agents group.")
    return render(request, "messaging/agent_console.html")
