from django.urls import path

from migrations_ui import views

app_name = "ui"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
