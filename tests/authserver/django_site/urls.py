from django.urls import include, path

from aauth_django.authserver import auth_server_urls

from .server import server

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    *auth_server_urls(server),
]
