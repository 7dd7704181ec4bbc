from django.apps import AppConfig


class MigrationsUiConfig(AppConfig):
    name = "migrations_ui"
    verbose_name = "Schema Auto-Builder"
    default_auto_field = "django.db.models.BigAutoField"
