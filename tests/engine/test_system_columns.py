"""PostgreSQL's system column names are refused at validation, at their JSON path, instead of
failing at apply."""

from __future__ import annotations

import pytest

from schemabuilder.engine import BlueprintInvalid, validate_payload


def payload(column: str, fence: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "schema_version": "1",
        "description": "d",
        "tables": [
            {
                "name": "t",
                "columns": [{"name": "ok", "type": "text"}, {"name": column, "type": "int"}],
            }
        ],
    }
    if fence:
        body["fence"] = {"column": fence}
    return body


@pytest.mark.parametrize("name", ["xmin", "xmax", "cmin", "cmax", "ctid", "tableoid", "XMIN"])
def test_a_system_column_name_is_refused_at_its_path(name):
    with pytest.raises(BlueprintInvalid) as refused:
        validate_payload(payload(name))
    [issue] = refused.value.issues
    assert issue.path == "payload.tables[0].columns[1].name"
    assert "system column" in issue.message and "choose another name" in issue.message


def test_the_fence_column_cannot_be_a_system_column():
    with pytest.raises(BlueprintInvalid) as refused:
        validate_payload(payload("amount", fence="ctid"))
    assert [i.path for i in refused.value.issues] == ["payload.fence.column"]


def test_oid_is_an_ordinary_name_since_postgresql_12():
    assert validate_payload(payload("oid")).tables
