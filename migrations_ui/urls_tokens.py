"""Personal API tokens in the UI (list, create, revoke), under /settings/tokens/."""

from django.urls import path

from migrations_ui import views_tokens

app_name = "tokens"

urlpatterns = [
    path("", views_tokens.token_list, name="list"),
    path("<int:pk>/revoke/", views_tokens.token_revoke, name="revoke"),
]
