from django.apps import AppConfig


class MigrationsUiConfig(AppConfig):
    name = "migrations_ui"
    verbose_name = "Schema Auto-Builder"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # After the admin's autodiscovery: API tokens get their admin page.
        from migrations_ui.admin import tokens as admin_tokens

        admin_tokens.register()
