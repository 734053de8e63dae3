"""Alembic builds the schema from empty, and takes it down again, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect

from app.db.migrate import downgrade_to_base, upgrade_to_head
from app.db.models import Base
from tests.conftest import sync_url


def _tables(url: str) -> set[str]:
    engine = create_sync_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_down_to_empty_and_up_to_the_models(database_url: str) -> None:
    downgrade_to_base(database_url)
    assert _tables(database_url) == set()
    upgrade_to_head(database_url)
    assert _tables(database_url) == set(Base.metadata.tables)
    engine = create_sync_engine(sync_url(database_url))
    try:
        inspector = inspect(engine)
        for table in Base.metadata.sorted_tables:
            assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.columns.keys()), table.name
    finally:
        engine.dispose()
