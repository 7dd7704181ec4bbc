"""The pure engine: blueprint → normalized desired state → DDL → plan.

Nothing in this package imports Django; a test enforces it. Callers use the names
re-exported here.
"""

__all__: list[str] = []
