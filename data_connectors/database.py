"""The toolkit's relational database: SQLite under the data dir by default, any SQLAlchemy URL by setting.

Appointments, the audit log and other small operational tables live here. One engine per URL per process;
SQLite gets a busy timeout so concurrent writers wait for the lock instead of failing, and foreign keys on.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from data_connectors.errors import BadInputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

DEFAULT_FILE = "toolkit.sqlite"


class DatabaseConfig(BaseModel):
    """Where operational tables live; e.g. ``GENAI_DATABASE__URL=postgresql+psycopg://user@host/genai``."""

    model_config = ConfigDict(frozen=True)

    url: str | None = Field(None, description=f"SQLAlchemy URL; default sqlite:///<data_dir>/{DEFAULT_FILE}")


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# PUBLIC API


def database_url(config: DatabaseConfig, data_dir: Path) -> str:
    """The configured URL, or the default SQLite file inside ``data_dir``."""
    return config.url or f"sqlite:///{Path(data_dir) / DEFAULT_FILE}"


@lru_cache(maxsize=8)
def create_database_engine(url: str) -> Engine:
    """One engine per URL per process (engines hold connection pools, so they are shared).

    Raises:
        BadInputError: the URL cannot be parsed or names a driver that is not installed.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(engine, "connect", _enable_sqlite_foreign_keys)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as error:
        raise BadInputError(
            f"Database URL {url!r} cannot be used ({error}); set database.url to a valid SQLAlchemy URL "
            "with an installed driver, or leave it empty for SQLite."
        ) from None
