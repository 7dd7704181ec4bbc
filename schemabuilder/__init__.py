"""Schema Auto-Builder: reviewed, safe, audited PostgreSQL schema changes."""
