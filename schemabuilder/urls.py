from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from migrations_ui.api import api, webhook_api
from migrations_ui.web.urls import token_urlpatterns
from migrations_ui.web.views import dashboard

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", dashboard.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # The seed's webhook (POST /wf106/schema-builder), described in /api/v1/openapi.json.
    path("wf106/", webhook_api.urls),
    path("settings/tokens/", include(token_urlpatterns)),
    path("", include("migrations_ui.web.urls")),
]
