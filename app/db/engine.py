"""Async engine and session factory, with the SQLite settings that make it safe under load."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.settings import DatabaseSettings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, settings: DatabaseSettings) -> AsyncEngine:
    if is_sqlite(url):
        # One connection per process: SQLite has a single writer anyway, and queueing on the
        # pool is an asyncio wait, whereas contending connections poll in SQLite's busy
        # handler with sleeps of up to 100 ms. Other processes still meet the busy timeout.
        engine = create_async_engine(
            url,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
            pool_size=1,
            max_overflow=0,
            pool_timeout=settings.sqlite_busy_timeout_ms / 1000,
        )
        _configure_sqlite(engine, settings)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def _configure_sqlite(engine: AsyncEngine, settings: DatabaseSettings) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves: pysqlite's implicit BEGIN is DEFERRED, and two
        # deferred writers that both read first deadlock on lock upgrade ("database is locked")
        # without the busy handler ever being called.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={settings.sqlite_busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
