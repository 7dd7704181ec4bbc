"""Which target an envelope goes to: its own ``meta.environment`` wins.

A picker (the form's target list, the API's ``?environment=``) only fills in an environment
the envelope leaves out; when both are given and differ, that is a problem at
``meta.environment``, never a silent choice of one of them.
"""

from __future__ import annotations

from schemabuilder.engine import BlueprintInvalid, Issue

PATH = "meta.environment"


def disagreement(named: object, picked: str | None) -> Issue | None:
    """The issue when the envelope names one environment and the picker another."""
    if not named or not picked or named == picked:
        return None
    return Issue(
        PATH,
        f"this envelope is for the target '{named}' but '{picked}' was chosen: pick '{named}' "
        f"as the target, or change meta.environment to '{picked}'",
    )


def chosen_environment(named: str | None, picked: str | None) -> str | None:
    """The environment to submit to (None: the tenant's default); raises BlueprintInvalid
    when the two disagree."""
    issue = disagreement(named, picked)
    if issue is not None:
        raise BlueprintInvalid([issue])
    return named or picked or None
