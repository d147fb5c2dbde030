from __future__ import annotations

from django.urls import path

from contactcenter.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login", views.login, name="login"),
    path("logout", views.logout, name="logout"),
    path("oidc/", views.oidc, name="oidc"),
    path("auth/token", views.token, name="token"),
    path("auth/publickey", views.public_key, name="public-key"),
    path("auth/keys", views.kid_list, name="keys"),
]
