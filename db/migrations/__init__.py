"""Alembic migration scripts (run through :mod:`db.schema`)."""
