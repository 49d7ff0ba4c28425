"""Storage: SQLAlchemy models, Alembic migrations and audit queries.

SQLite through aiosqlite is the embedded default (a file in the data directory);
PostgreSQL through asyncpg when ``DATABASE_URL`` says so. Data access is a set of
keyword-only async functions taking an ``AsyncSession``, one module per noun:
:mod:`db.checks`, :mod:`db.reviews`, :mod:`db.chat_settings`, :mod:`db.audit`.
This package knows nothing of inference, the queue or the chat platforms.
"""
