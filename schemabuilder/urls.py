from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from migrations_ui import views
from migrations_ui.api import api

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("settings/tokens/", include("migrations_ui.urls_tokens")),
    path("", include("migrations_ui.urls")),
]
