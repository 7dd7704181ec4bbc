"""Hazards of extensions: INSTALLS_EXTENSION.

None of the other kinds says it: an extension is not access to rows (CHANGES_ACCESS), and
it changes no table. Installing one is INFO: the deployment's allowlist (``SB_EXTENSIONS``)
already decided which extensions are safe to install, and PostgreSQL marks them trusted;
what a reviewer should still know is that the extension is shared by the whole database
(one copy, in the schema named, for every schema of it) and that no plan removes it.
"""

from __future__ import annotations

from schemabuilder.engine.hazards import Hazard, HazardKind, Severity


def installs_extension(name: str, schema: str, version: str | None) -> Hazard:
    """An allowlisted extension, not installed yet, installed in ``schema``."""
    return Hazard(
        HazardKind.INSTALLS_EXTENSION,
        Severity.INFO,
        f"installs the extension {name}{f' {version}' if version else ''} in schema {schema}, "
        "for the whole database; it stays when the blueprint no longer lists it",
        "",
        {"extension": name, "version": version},
    )
