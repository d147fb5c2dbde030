from django.contrib.auth import views as auth_views
from django.urls import path

from messaging import views, widget_sign_in
from messaging.apple import callback, inbound

urlpatterns = [
    path("widget/loader.js", views.loader, name="widget-loader"),
    path("widget/transport.js", views.transport, name="widget-transport"),
    path("widget/<uuid:widget_id>/config", views.widget_config, name="widget-config"),
    path(
        "widget/deployment/<uuid:deployment_id>/config",
        views.deployment_config,
        name="deployment-config",
    ),
    path(
        "widget/<uuid:widget_id>/auth/exchange",
        widget_sign_in.exchange,
        name="widget-auth-exchange",
    ),
    path(
        "widget/<uuid:widget_id>/auth/refresh", widget_sign_in.refresh, name="widget-auth-refresh"
    ),
    path("widget/<uuid:widget_id>/auth/logout", widget_sign_in.logout, name="widget-auth-logout"),
    path("apple/message", inbound.receive, name="apple-message"),
    path("apple/auth/<int:setting_id>/callback", callback.callback, name="apple-auth-callback"),
    path("agent/", views.agent_console, name="agent-console"),
    path(
        "agent/login/",
        auth_views.LoginView.as_view(template_name="messaging/agent_login.html"),
        name="agent-login",
    ),
    path(
        "agent/logout/", auth_views.LogoutView.as_view(next_page="agent-login"), name="agent-logout"
    ),
]
