"""``access_from_rows`` on rows built by hand: grants said whole, or left alone and listed."""

from __future__ import annotations

from schemabuilder.engine.importer.access import AclRow, access_from_rows

ME = "migrator"


def _table(grantee: str | None, privilege: str | None, *, grantable: bool = False) -> AclRow:
    return AclRow("table", ME, "t", None, grantee, privilege, grantable, True)


def _default(
    code: str, grantee: str, privilege: str, *, owner: str = ME, grantable: bool = False
) -> AclRow:
    return AclRow("default", owner, None, code, grantee, privilege, grantable, True)


OWNER_ALL = [
    _table(ME, p)
    for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
]


def test_all_is_what_this_server_has_and_public_is_written_public() -> None:
    every = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]
    rows = [*OWNER_ALL, *(_table("service_role", p) for p in every), _table("0", "SELECT")]
    on_16 = access_from_rows(rows, importer=ME, server_version=160000)
    assert on_16.grants["t"] == [
        {"role": "PUBLIC", "privileges": ["SELECT"]},
        {"role": "service_role", "privileges": ["ALL"]},
    ]
    # From 17 on, ALL includes MAINTAIN: the same privileges are not all of them.
    on_17 = access_from_rows(rows, importer=ME, server_version=170000)
    assert on_17.grants["t"][1] == {"role": "service_role", "privileges": every}
    assert [o.kind for o in on_17.left_out] == ["owner privileges"]  # the owner lacks MAINTAIN


def test_an_acl_emptied_of_everyone_is_an_empty_list() -> None:
    access = access_from_rows([_table(None, None)], importer=ME, server_version=160000)
    assert access.grants == {"t": []}
    assert access.left_out[0].why is not None
    assert access.left_out[0].why.startswith("the owner holds nothing of its own")


def test_default_privileges_to_a_role_it_cannot_name_are_left_alone() -> None:
    rows = [_default("r", "anon", "SELECT"), _default("r", "ReportsReader", "SELECT")]
    access = access_from_rows(rows, importer=ME, server_version=160000)
    # Written without the role, the next plan would revoke its default: none are written.
    assert access.default_privileges is None
    assert [(o.kind, o.name) for o in access.left_out] == [
        ("default privileges", f"{ME} on tables")
    ]


def test_default_privileges_with_grant_option_and_of_other_roles_are_listed() -> None:
    rows = [
        _default("f", "authenticated", "EXECUTE", grantable=True),
        _default("r", "anon", "SELECT", owner="someone_else"),
        _default("T", "anon", "USAGE"),
    ]
    access = access_from_rows(rows, importer=ME, server_version=160000)
    assert access.default_privileges == [
        {"role": "authenticated", "on": "functions", "privileges": ["EXECUTE"]}
    ]
    why = {o.name: o.why for o in access.left_out}
    assert why["authenticated on new functions"] == (
        "EXECUTE WITH GRANT OPTION: a blueprint grants without it"
    )
    assert "a blueprint says only the applying role's (migrator)" in why["someone_else on tables"]
    assert why[f"{ME} on types"].startswith("new types grant USAGE to anon")


def test_no_default_privileges_of_the_importer_leaves_them_alone() -> None:
    rows = [_default("r", "anon", "SELECT", owner="someone_else")]
    assert access_from_rows(rows, importer=ME, server_version=160000).default_privileges is None
