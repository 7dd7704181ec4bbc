"""Validation of the blueprint contract: what is accepted, and what people are told otherwise."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from schemabuilder.engine import BlueprintInvalid, Issue, validate_envelope, validate_payload
from tests.engine.blueprint_examples import SHARED, VALID_PAYLOADS, envelope, seed_envelope


def payload(*tables: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"schema_version": "001", "description": "test", "tables": list(tables), **top}


def table(name: str = "people", *columns: dict[str, Any], **rest: Any) -> dict[str, Any]:
    return {"name": name, "columns": list(columns), **rest}


def col(name: str, type_: str = "TEXT", **rest: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **rest}


def issues_of(data: Any, *, whole_envelope: bool = False) -> list[Issue]:
    with pytest.raises(BlueprintInvalid) as info:
        if whole_envelope:
            validate_envelope(data)
        else:
            validate_payload(data)
    return info.value.issues


def messages_at(data: Any, path: str, **kwargs: Any) -> list[str]:
    found = [i.message for i in issues_of(data, **kwargs) if i.path == path]
    assert found, f"no issue at {path}: {issues_of(data, **kwargs)}"
    return found


def _seed_json_blocks(name: str) -> list[str]:
    text = (SHARED / "seeds" / name).read_text()
    return re.findall(r"```json\n(.*?)```", text, flags=re.S)


# The seeds -------------------------------------------------------------------------------


def test_it_accepts_the_seed_envelope_unchanged() -> None:
    original = seed_envelope()
    untouched = copy.deepcopy(original)
    accepted = validate_envelope(original)
    assert original == untouched
    assert [t.name for t in accepted.blueprint.tables] == ["patients"]


def test_it_accepts_the_architecture_seeds_input_table() -> None:
    text = (SHARED / "seeds" / "wf106-architecture-v2.md").read_text()
    section = text.split("## Data Flow: Table Creation")[1]
    start = section.index("{")
    raw = json.JSONDecoder().raw_decode(section[start:])[0]
    bp = validate_payload(payload(raw))
    assert [c.name for c in bp.tables[0].columns][:5] == [
        "id",
        "tenant_id",
        "created_at",
        "updated_at",
        "deleted_at",
    ]


def test_the_design_seeds_input_contract_is_refused_only_for_its_placeholders() -> None:
    # The design's contract is a template ("t_...", "safe|full", an index on "col1" and
    # "col2" that its table lacks). Every key of it is known; only placeholder values fail.
    contract = json.loads(_seed_json_blocks("wf106-design-v2.md")[0])
    paths = {i.path for i in issues_of(contract, whole_envelope=True)}
    assert paths == {
        "meta.timestamp_utc",
        "context.validation_profile",
        "payload.tables[0].indexes[0].columns[0]",
        "payload.tables[0].indexes[0].columns[1]",
    }


@pytest.mark.parametrize("name", sorted(VALID_PAYLOADS))
def test_it_accepts_every_valid_example(name: str) -> None:
    assert validate_payload(VALID_PAYLOADS[name]).tables


# Every error in one answer, with paths -------------------------------------------------


def test_it_reports_every_error_in_one_answer_with_json_paths() -> None:
    data = payload(
        table("people", col("email", not_nul=True), col("age", "INTEGER; DROP TABLE x")),
        table("People"),
        table(
            "visits",
            col("personId", "UUID", references="people.email"),
            col("at", "TIMESTAMPTZ", primary_key=True),
            col("on", "DATE", check="on > at + "),
            indexes=[{"name": "idx_visits_when", "columns": ["when"]}],
        ),
    )
    paths = [i.path for i in issues_of(data)]
    assert paths == [
        "payload.tables[0].columns[0].not_nul",
        "payload.tables[0].columns[1].type",
        "payload.tables[1].name",
        "payload.tables[2].columns[0].references",
        "payload.tables[2].columns[2].check",
        "payload.tables[2].indexes[0].columns[0]",
    ]


def test_a_broken_field_does_not_hide_the_other_problems_of_its_table() -> None:
    data = payload(
        table(
            "people",
            col("firstName", "TEXT)"),
            col("first_name"),
            policies=[{"name": "p", "command": "SELEC", "using": "true"}],
            indexes=[{"name": "idx_x", "columns": ["nickname"]}],
        )
    )
    paths = {i.path for i in issues_of(data)}
    assert paths == {
        "payload.tables[0].columns[0].type",
        "payload.tables[0].columns[1].name",
        "payload.tables[0].policies[0].command",
        "payload.tables[0].indexes[0].columns[0]",
    }


def test_validate_payload_uses_the_path_prefix_it_is_given() -> None:
    (issue,) = issues_of_prefixed(payload(table("people", col("a", "NOPE("))), "blueprint")
    assert issue.path == "blueprint.tables[0].columns[0].type"


def issues_of_prefixed(data: Any, prefix: str) -> list[Issue]:
    with pytest.raises(BlueprintInvalid) as info:
        validate_payload(data, path_prefix=prefix)
    return info.value.issues


def test_the_exception_lists_every_issue_when_printed() -> None:
    with pytest.raises(BlueprintInvalid) as info:
        validate_payload(payload(table("a b"), table("c", col("d", "E;"))))
    text = str(info.value)
    assert text.startswith("2 problems in the blueprint:")
    assert "- payload.tables[0].name: 'a b' is not a valid name" in text
    assert "- payload.tables[1].columns[0].type: type contains ';'" in text
    assert info.value.as_dicts()[0]["path"] == "payload.tables[0].name"


# Keys and types ---------------------------------------------------------------------------


def test_it_rejects_a_typo_in_a_column_key() -> None:
    (message,) = messages_at(
        payload(table("people", col("email", not_nul=True))),
        "payload.tables[0].columns[0].not_nul",
    )
    assert message.startswith("unknown key 'not_nul': did you mean 'not_null'?")


def test_it_rejects_a_typo_in_a_top_level_envelope_key() -> None:
    data = envelope(payload(table("people")))
    data["contxt"] = {}
    (message,) = messages_at(data, "contxt", whole_envelope=True)
    assert "did you mean 'context'?" in message


def test_it_rejects_wrong_json_types_and_says_what_was_expected() -> None:
    data = payload(table("people", col("email", not_null="yes")), force_apply=1)
    assert messages_at(data, "payload.tables[0].columns[0].not_null") == [
        "must be true or false, not a string"
    ]
    assert messages_at(data, "payload.force_apply") == ["must be true or false, not a number"]


def test_it_requires_at_least_one_table() -> None:
    assert messages_at(payload(), "payload.tables") == ["needs at least 1 item(s): add one"]


def test_it_refuses_rls_values_other_than_true_false_or_force() -> None:
    (message,) = messages_at(payload(table("people", rls="FORCE")), "payload.tables[0].rls")
    assert message.startswith('must be true, false or "force"')


def test_identity_is_by_default_or_always_and_never_beside_a_default() -> None:
    bp = validate_payload(
        payload(table("people", col("id", "BIGINT", primary_key=True, identity="BY  Default")))
    )
    assert bp.tables[0].columns[-1].identity == "BY DEFAULT"
    (message,) = messages_at(
        payload(table("people", col("id", "BIGINT", identity="sometimes"))),
        "payload.tables[0].columns[0].identity",
    )
    assert '"by default"' in message and '"always"' in message
    (message,) = messages_at(
        payload(table("people", col("id", "BIGINT", identity="always", default="1"))),
        "payload.tables[0].columns[0].identity",
    )
    assert "not both" in message


# Names --------------------------------------------------------------------------------------


def test_it_rejects_names_that_collide_after_normalization() -> None:
    (message,) = messages_at(
        payload(table("people", col("firstName"), col("first_name"))),
        "payload.tables[0].columns[1].name",
    )
    assert message == (
        "'first_name' is the same name as columns[0] ('firstName') once names are "
        "normalized to 'first_name': rename or remove one of them"
    )


def test_it_accepts_a_63_byte_name_and_rejects_a_64_byte_one() -> None:
    validate_payload(payload(table("t" * 63)))
    (message,) = messages_at(payload(table("t" * 64)), "payload.tables[0].name")
    assert "is 64 bytes long once normalized" in message


def test_it_counts_the_underscores_that_snake_case_adds_toward_63_bytes() -> None:
    name = "aB" * 32  # 64 characters, 96 bytes once normalized to a_ba_ba_b...
    (message,) = messages_at(payload(table(name)), "payload.tables[0].name")
    assert "96 bytes" in message


def test_it_rejects_unicode_and_control_characters_in_names() -> None:
    for bad in ("naïve", "a\x00b", "tab\tname", "a-b", ""):
        assert messages_at(payload(table(bad)), "payload.tables[0].name")


def test_reserved_words_are_fine_as_names() -> None:
    bp = validate_payload(payload(table("order", col("user"), col("select"), col("from"))))
    assert [c.name for c in bp.tables[0].columns][-3:] == ["user", "select", "from"]


# Cross-references ---------------------------------------------------------------------------


def test_it_rejects_a_unique_set_that_names_no_column_of_the_table() -> None:
    (message,) = messages_at(
        payload(table("people", col("email"), unique=[["email", "emial"]])),
        "payload.tables[0].unique[0][1]",
    )
    assert message.startswith("'emial' is not a column of table 'people' (did you mean 'email'?)")


def test_it_rejects_a_foreign_key_to_a_blueprint_column_that_is_not_unique() -> None:
    data = payload(
        table("clinics", col("code")),
        table("doctors", col("clinic_code", references="clinics.code")),
    )
    (message,) = messages_at(data, "payload.tables[1].columns[0].references")
    assert message.startswith("'clinics(code)' is neither the primary key nor unique")


def test_it_accepts_foreign_keys_to_primary_keys_unique_sets_and_unique_indexes() -> None:
    validate_payload(
        payload(
            table(
                "clinics",
                col("code"),
                col("region"),
                col("slug"),
                unique=[["region", "code"]],
                indexes=[{"name": "idx_clinics_slug", "columns": ["slug"], "unique": True}],
            ),
            table(
                "doctors",
                col("clinic_id", "UUID", references="clinics.id"),
                col("clinic_slug", references={"table": "clinics", "column": "slug"}),
                col("clinic_code"),
                col("clinic_region"),
                foreign_keys=[
                    {
                        "columns": ["clinic_code", "clinic_region"],
                        "references": {"table": "clinics", "columns": ["code", "region"]},
                        "on_delete": "CASCADE",
                    }
                ],
            ),
        )
    )


def test_a_partial_unique_index_does_not_make_a_foreign_key_target() -> None:
    data = payload(
        table(
            "clinics",
            col("slug"),
            indexes=[{"name": "i", "columns": ["slug"], "unique": True, "where": "slug <> ''"}],
        ),
        table("doctors", col("clinic_slug", references="clinics.slug")),
    )
    assert messages_at(data, "payload.tables[1].columns[0].references")


def test_it_allows_a_foreign_key_to_a_table_outside_the_blueprint() -> None:
    bp = validate_payload(payload(table("doctors", col("clinic_code", references="clinics.code"))))
    reference = bp.tables[0].columns[-1].references
    assert reference is not None and reference.table == "clinics"


def test_it_rejects_a_foreign_key_to_a_column_its_blueprint_table_lacks() -> None:
    data = payload(table("clinics"), table("doctors", col("clinic_id", references="clinics.idd")))
    (message,) = messages_at(data, "payload.tables[1].columns[0].references")
    assert message.startswith("'idd' is not a column of table 'clinics' (did you mean 'id'?)")


def test_it_rejects_an_index_on_an_unknown_column() -> None:
    data = payload(table("people", col("phone"), indexes=[{"name": "i", "columns": ["fone"]}]))
    (message,) = messages_at(data, "payload.tables[0].indexes[0].columns[0]")
    assert message.startswith("'fone' is not a column of table 'people' (did you mean 'phone'?)")


def test_an_index_may_use_an_auto_column() -> None:
    validate_payload(
        payload(table("people", indexes=[{"name": "i", "columns": ["deleted_at DESC"]}]))
    )


def test_it_rejects_a_policy_command_that_does_not_exist() -> None:
    data = payload(table("people", policies=[{"name": "p", "command": "UPSERT", "using": "true"}]))
    (message,) = messages_at(data, "payload.tables[0].policies[0].command")
    assert message.startswith("'UPSERT' is not a policy command: use one of ALL, SELECT,")


def test_two_primary_key_columns_make_one_composite_key_in_column_order() -> None:
    data = payload(
        table("grants", col("role", primary_key=True), col("perm", primary_key=True)),
        auto_columns=False,
    )
    assert validate_payload(data).tables[0].primary_key == ("role", "perm")


def test_it_rejects_policies_on_a_table_without_row_level_security() -> None:
    data = payload(table("people", rls=False, policies=[{"name": "p", "using": "true"}]))
    assert messages_at(data, "payload.tables[0].policies")


def test_it_rejects_an_insert_policy_with_a_using_expression() -> None:
    data = payload(table("people", policies=[{"name": "p", "command": "INSERT", "using": "x"}]))
    assert messages_at(data, "payload.tables[0].policies[0].using")
    assert messages_at(data, "payload.tables[0].policies[0].with_check")


def test_it_rejects_an_index_name_that_is_already_a_table_name() -> None:
    data = payload(table("people"), table("pets", indexes=[{"name": "people", "columns": ["id"]}]))
    (message,) = messages_at(data, "payload.tables[1].indexes[0].name")
    assert "share one namespace" in message


def test_it_rejects_a_rename_from_a_table_the_blueprint_keeps() -> None:
    data = payload(table("people"), table("persons", renamed_from="people"))
    assert messages_at(data, "payload.tables[1].renamed_from")


# The envelope ------------------------------------------------------------------------------


def test_only_payload_and_a_tenant_are_required() -> None:
    accepted = validate_envelope({"subject": {"tenant_id": "t_7"}, "payload": payload(table())})
    assert accepted.tenant_id == "t_7"
    assert accepted.idempotency_key.startswith("idem:wf106:t_7:001:")


def test_it_requires_a_tenant() -> None:
    (message,) = messages_at({"payload": payload(table())}, "meta.tenant_id", whole_envelope=True)
    assert message == "a tenant is required: set meta.tenant_id or subject.tenant_id"


def test_it_rejects_tenants_that_disagree() -> None:
    data = {"meta": {"tenant_id": "t_1"}, "subject": {"tenant_id": "t_2"}, "payload": payload()}
    issues = issues_of(data, whole_envelope=True)
    assert [i.path for i in issues] == ["payload.tables", "subject.tenant_id"]


def test_it_requires_the_payload() -> None:
    assert messages_at({"meta": {"tenant_id": "t_1"}}, "payload", whole_envelope=True)


def test_revert_of_is_part_of_the_contract_and_cannot_name_its_own_version() -> None:
    from schemabuilder.engine import BlueprintInvalid, validate_envelope

    payload = {
        "schema_version": "003",
        "description": "back",
        "revert_of": "001",
        "tables": [{"name": "patients", "columns": [{"name": "first_name", "type": "TEXT"}]}],
    }
    validated = validate_envelope({"meta": {"tenant_id": "t_demo"}, "payload": payload})
    assert validated.revert_of == "001"
    for bad, message in ((3, "must be a string"), ("003", "names this very version")):
        try:
            validate_envelope(
                {"meta": {"tenant_id": "t_demo"}, "payload": {**payload, "revert_of": bad}}
            )
        except BlueprintInvalid as exc:
            assert [i.path for i in exc.issues] == ["payload.revert_of"]
            assert message in exc.issues[0].message
        else:
            raise AssertionError("accepted")
