from django.urls import path

from migrations_ui import views, views_proposals, views_resubmit, views_submit, views_tenants

app_name = "ui"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("proposals/", views_proposals.proposal_list, name="proposals"),
    path("proposals/new/", views_submit.proposal_new, name="proposal-new"),
    path("proposals/new/validate/", views_submit.proposal_validate, name="proposal-validate"),
    path("proposals/<uuid:pk>/", views_proposals.proposal_detail, name="proposal"),
    path("proposals/<uuid:pk>/status/", views_proposals.proposal_status, name="proposal-status"),
    path("proposals/<uuid:pk>/review/", views_proposals.proposal_review, name="proposal-review"),
    path("proposals/<uuid:pk>/cancel/", views_proposals.proposal_cancel, name="proposal-cancel"),
    path(
        "proposals/<uuid:pk>/resubmit-forced/",
        views_resubmit.proposal_resubmit_forced,
        name="proposal-resubmit-forced",
    ),
    path("tenants/<slug:slug>/", views_tenants.tenant_detail, name="tenant"),
    path(
        "tenants/<slug:slug>/<slug:environment>/versions/<int:pk>/revert/",
        views_resubmit.version_revert,
        name="version-revert",
    ),
    path(
        "tenants/<slug:slug>/<slug:environment>/versions/<int:pk>/",
        views_tenants.version_detail,
        name="version",
    ),
    path(
        "tenants/<slug:slug>/<slug:environment>/compare/",
        views_tenants.version_compare,
        name="compare",
    ),
]
