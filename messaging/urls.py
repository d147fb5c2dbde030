from django.contrib.auth import views as auth_views
from django.urls import path

from messaging import views

urlpatterns = [
    path("widget/loader.js", views.loader, name="widget-loader"),
    path("widget/<uuid:widget_id>/config", views.widget_config, name="widget-config"),
    path(
        "widget/deployment/<uuid:deployment_id>/config",
        views.deployment_config,
        name="deployment-config",
    ),
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
