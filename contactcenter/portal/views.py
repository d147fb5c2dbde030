"""The sample portal's pages, its token endpoint and its published keys."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from authsettings.models import AuthenticationSetting
from contactcenter.identity_provider.authorization_server import leads_to_clients
from contactcenter.portal import CUSTOMERS_GROUP, DEPLOYMENT_NAME, keys, tokens
from contactcenter.portal.forms import RoutingForm
from messaging.domains import platform_url
from messaging.models import Contact, Deployment

DEFAULT_ROUTING = {"cart_value": 10000, "vip": False}
SESSION_ROUTING = "portal_routing"


def is_portal_customer(user) -> bool:
    """Only members of the customers group get tokens; being staff is not enough."""
    return (
        user.is_authenticated
        and user.is_active
        and user.groups.filter(name=CUSTOMERS_GROUP).exists()
    )


def contact_of(user) -> Contact | None:
    if not user.email:
        return None
    return Contact.objects.filter(email__iexact=user.email, status=Contact.Status.ACTIVE).first()


def routing_of(session) -> dict:
    return {**DEFAULT_ROUTING, **session.get(SESSION_ROUTING, {})}


def home(request):
    customer = is_portal_customer(request.user)
    form = RoutingForm(initial=routing_of(request.session))
    if request.method == "POST" and customer:
        form = RoutingForm(request.POST)
        if form.is_valid():
            request.session[SESSION_ROUTING] = form.cleaned_data
            return redirect("portal:home")
    deployment = Deployment.objects.filter(
        name=DEPLOYMENT_NAME, status=Deployment.Status.ACTIVE
    ).first()
    return render(
        request,
        "portal/home.html",
        {
            "customer": customer,
            "contact": contact_of(request.user) if customer else None,
            "form": form,
            "snippet": deployment.snippet(platform_url(request)) if deployment else "",
        },
    )


@require_GET
def oidc(request):
    """A page whose chat signs visitors in with the code flow, through the platform's own
    OpenID Connect provider (/o/): the page gets an authorization code with PKCE, the widget
    exchanges it. Its chat is the newest active deployment whose widget uses a code flow; the
    redirect URI to register with the provider is this page's address."""
    deployment = (
        Deployment.objects.select_related("channel_instance__authentication_setting")
        .filter(
            status=Deployment.Status.ACTIVE,
            channel_instance__authentication_setting__authentication_type__in=(
                AuthenticationSetting.CODE_FLOWS
            ),
        )
        .order_by("-created_at", "-id")
        .first()
    )
    sign_in = None
    if deployment:
        setting = deployment.channel_instance.authentication_setting
        sign_in = {
            "authorize_url": reverse("oauth2_provider:authorize"),
            # Customers sign in on the portal, then go on to the provider's authorize page
            # (settings.LOGIN_URL is the same page, for visitors who go there directly).
            "login_url": reverse("portal:login"),
            "client_id": setting.client_id,
            "scope": setting.scope or "openid",
        }
    return render(
        request,
        "portal/oidc.html",
        {
            "sign_in": sign_in,
            "snippet": deployment.snippet(platform_url(request)) if deployment else "",
        },
    )


# The platform's OpenID Connect provider signs customers in here; a sign-in goes on to the
# client's redirect URI.
login = leads_to_clients(
    auth_views.LoginView.as_view(
        template_name="portal/login.html",
        next_page="portal:home",
        redirect_authenticated_user=True,
    )
)
logout = auth_views.LogoutView.as_view(next_page="portal:home")


def plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@require_GET
@never_cache
def token(request):
    """A fresh JWT for the signed-in customer, for the widget (text/plain); 401 otherwise."""
    if not is_portal_customer(request.user):
        return plain("Sign in as a portal customer to get a token.", status=401)
    contact = contact_of(request.user)
    if contact is None:
        return plain("No active contact has this account's email address.", status=403)
    routing = routing_of(request.session)
    return plain(
        tokens.issue(
            subject=str(contact.pk),
            context={
                "msdyn_cartvalue": str(routing["cart_value"]),
                "msdyn_isvip": "true" if routing["vip"] else "false",
                "portalcontactid": str(contact.pk),
            },
        )
    )


@require_GET
def public_key(request):
    """The current signing key's public half as PEM."""
    return HttpResponse(keys.current_key().public_key_pem, content_type="application/x-pem-file")


@require_GET
def kid_list(request):
    """Every unexpired public key as a kid list: [{"kid", "publicKey", "expiry"}]."""
    return JsonResponse([key.published() for key in keys.published_keys()], safe=False)
