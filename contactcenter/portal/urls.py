from __future__ import annotations

from django.urls import path

from contactcenter.portal import apple_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login", views.login, name="login"),
    path("logout", views.logout, name="logout"),
    path("oidc/", views.oidc, name="oidc"),
    path("auth/token", views.token, name="token"),
    path("auth/publickey", views.public_key, name="public-key"),
    path("auth/keys", views.kid_list, name="keys"),
    path("apple/", apple_views.messages_page, name="apple"),
    path("apple/messages", apple_views.messages_since, name="apple-messages"),
    path("apple/send", apple_views.send_text, name="apple-send"),
    path("apple/sign-in-reply", apple_views.send_sign_in_reply, name="apple-sign-in-reply"),
    path("apple/gateway/message", apple_views.gateway_message, name="apple-gateway-message"),
    path(
        "apple/gateway/authenticate",
        apple_views.gateway_authenticate,
        name="apple-gateway-authenticate",
    ),
]
