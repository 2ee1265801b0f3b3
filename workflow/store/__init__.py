"""Persistence: tables, database engines, column types, migrations and the engine's settings."""
