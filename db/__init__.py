"""Storage: SQLAlchemy models, Alembic migrations and audit queries."""
