"""The database itself refuses to update or delete ledger entries and transactions."""
from peewee import SqliteDatabase

TABLES = ("entry", "ledger_transaction")


def up(migrator, db):
    if isinstance(db, SqliteDatabase):
        for table in TABLES:
            for action in ("UPDATE", "DELETE"):
                db.execute_sql(
                    f'CREATE TRIGGER "{table}_no_{action.lower()}" BEFORE {action} ON "{table}" '
                    "BEGIN SELECT RAISE(ABORT, 'ledger rows are immutable'); END"
                )
        return
    db.execute_sql(
        "CREATE FUNCTION ledger_immutable() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'ledger rows are immutable'; END $$ LANGUAGE plpgsql"
    )
    for table in TABLES:
        db.execute_sql(
            f'CREATE TRIGGER "{table}_immutable" BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION ledger_immutable()"
        )


def down(migrator, db):
    if isinstance(db, SqliteDatabase):
        for table in TABLES:
            for action in ("update", "delete"):
                db.execute_sql(f'DROP TRIGGER "{table}_no_{action}"')
        return
    for table in TABLES:
        db.execute_sql(f'DROP TRIGGER "{table}_immutable" ON "{table}"')
    db.execute_sql("DROP FUNCTION ledger_immutable()")
