"""Schema migrations: a fresh or older database is brought to the current schema by
``create_app`` itself, and the models match what the migrations build."""

from __future__ import annotations

from portal_testing import make_app
from portal.store import db, migrate
from portal.store.models import ALL_MODELS


def test_an_older_database_is_upgraded_by_create_app(empty_db_url, site_dir):
    old = db.bind(empty_db_url)
    with db.connection():
        assert migrate.upgrade(old, target="0001_accounts_and_ledger") == ["0001_accounts_and_ledger"]
        assert "deposit" not in old.get_tables()
    make_app(empty_db_url, site_dir)
    with db.connection():
        assert migrate.pending(db.database.obj) == []
        assert {"deposit", "consent"} <= set(db.database.get_tables())


def test_models_match_the_migrated_schema(app):
    with db.connection():
        for model in ALL_MODELS:
            columns = {c.name for c in db.database.get_columns(model._meta.table_name)}
            assert columns == {f.column_name for f in model._meta.sorted_fields}, model.__name__


def test_running_the_migrations_again_changes_nothing(app):
    with db.connection():
        assert migrate.upgrade(db.database.obj) == []
