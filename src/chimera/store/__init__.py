"""The run store: every run, agent, call, fact and finding in one local SQLite file."""

from chimera.store.db import Store, default_db_path

__all__ = ["Store", "default_db_path"]
