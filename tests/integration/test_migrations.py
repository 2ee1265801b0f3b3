"""The migrations build exactly the schema the code declares, and can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from workflow.store.database import make_engine
from workflow.store.migrate import downgrade, upgrade
from workflow.store.tables import metadata


def test_upgrade_matches_the_models_and_downgrade_removes_everything(
    fresh_database_url: str,
) -> None:
    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
        assert differences == []
        tables = set(inspect(engine).get_table_names())
        assert {"dossier", "history", "assignment", "task", "payment_decision"} <= tables
        upgrade(engine)  # a second run is a no-op
        downgrade(engine)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) == tables
    finally:
        engine.dispose()
