from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from oauth2_provider import urls as oauth2_urls
from oauth2_provider.views import AuthorizationView, TokenView
from rest_framework.routers import DefaultRouter

from authsettings.api import AuthenticationSettingViewSet
from contactcenter import operations
from contactcenter.api.views import ApiRootView
from contactcenter.identity_provider.authorization_server import DiscoveryView, leads_to_clients
from contactcenter.identity_provider.sign_in import throttled_token_view
from messaging.api import (
    ChannelInstanceViewSet,
    ContactViewSet,
    ConversationViewSet,
    DeploymentViewSet,
    RichMessageViewSet,
)
from workstreams.api import (
    ContextVariableViewSet,
    QueueViewSet,
    RoutingRuleViewSet,
    WorkstreamViewSet,
)

# The authorization server's endpoints (token, authorize, revoke, OpenID Connect), without
# django-oauth-toolkit's self-service application pages and dynamic client registration:
# clients are made in the admin or with `create_api_client`. Nor token introspection, which
# would let one API client read another's tokens; the discovery documents then leave it out.
# Its discovery document is the platform's own
# (contactcenter.identity_provider.authorization_server), its consent page may lead to
# clients' redirect URIs, and its token endpoint refuses addresses that failed too often
# (contactcenter.identity_provider.sign_in).
OWN_VIEWS = {
    "oidc-connect-discovery-info": re_path(
        r"^\.well-known/openid-configuration/?$",
        DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    "token": path("token/", throttled_token_view(TokenView.as_view()), name="token"),
    "authorize": path(
        "authorize/", leads_to_clients(AuthorizationView.as_view()), name="authorize"
    ),
}
LEFT_OUT = {"introspect"}
authorization_server = (
    [
        OWN_VIEWS.get(pattern.name, pattern)
        for pattern in oauth2_urls.metadata_urlpatterns
        + oauth2_urls.base_urlpatterns
        + oauth2_urls.oidc_urlpatterns
        if pattern.name not in LEFT_OUT
    ],
    "oauth2_provider",
)

router = DefaultRouter()
router.APIRootView = ApiRootView
router.register("authentication-settings", AuthenticationSettingViewSet)
router.register("workstreams", WorkstreamViewSet)
router.register("context-variables", ContextVariableViewSet)
router.register("queues", QueueViewSet)
router.register("routing-rules", RoutingRuleViewSet)
router.register("rich-messages", RichMessageViewSet)
router.register("channel-instances", ChannelInstanceViewSet)
router.register("deployments", DeploymentViewSet)
router.register("contacts", ContactViewSet)
router.register("conversations", ConversationViewSet)

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("healthz", operations.healthz, name="healthz"),
    path("metrics", operations.metrics_view, name="metrics"),
    path("o/", include(authorization_server, namespace="oauth2_provider")),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs page's script is a separate request, so the content security policy holds there.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("portal/", include("contactcenter.portal.urls")),
    path("", include("messaging.urls")),
]
