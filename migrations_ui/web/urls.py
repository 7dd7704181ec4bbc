"""The HTML pages' URLs: the app's pages (namespace ``ui``) and the personal API tokens under
/settings/tokens/ (namespace ``tokens``, included by ``schemabuilder.urls``)."""

from django.urls import path

from migrations_ui.web.views import (
    baseline,
    dashboard,
    proposals,
    reference,
    resubmit,
    submit,
    tenants,
    tokens,
)

app_name = "ui"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("proposals/", proposals.proposal_list, name="proposals"),
    path("proposals/new/", submit.proposal_new, name="proposal-new"),
    path("proposals/new/validate/", submit.proposal_validate, name="proposal-validate"),
    path("docs/blueprint/", reference.blueprint_reference, name="blueprint-reference"),
    path("proposals/<uuid:pk>/", proposals.proposal_detail, name="proposal"),
    path("proposals/<uuid:pk>/status/", proposals.proposal_status, name="proposal-status"),
    path("proposals/<uuid:pk>/review/", proposals.proposal_review, name="proposal-review"),
    path("proposals/<uuid:pk>/cancel/", proposals.proposal_cancel, name="proposal-cancel"),
    path(
        "proposals/<uuid:pk>/resubmit-forced/",
        resubmit.proposal_resubmit_forced,
        name="proposal-resubmit-forced",
    ),
    path("tenants/<slug:slug>/", tenants.tenant_detail, name="tenant"),
    path(
        "tenants/<slug:slug>/<slug:environment>/import/",
        baseline.target_import,
        name="target-import",
    ),
    path(
        "tenants/<slug:slug>/<slug:environment>/versions/<int:pk>/revert/",
        resubmit.version_revert,
        name="version-revert",
    ),
    path(
        "tenants/<slug:slug>/<slug:environment>/versions/<int:pk>/",
        tenants.version_detail,
        name="version",
    ),
    path(
        "tenants/<slug:slug>/<slug:environment>/compare/",
        tenants.version_compare,
        name="compare",
    ),
]

# Personal API tokens (list, create, revoke).
token_urlpatterns = (
    [
        path("", tokens.token_list, name="list"),
        path("<int:pk>/revoke/", tokens.token_revoke, name="revoke"),
    ],
    "tokens",
)
