"""Personal API tokens in the UI (list, create, revoke)."""

app_name = "tokens"

urlpatterns: list[object] = []
