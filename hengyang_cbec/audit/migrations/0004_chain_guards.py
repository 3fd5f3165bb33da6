"""The database guards the chain: no TRUNCATE of the log, and a head that only advances.

PostgreSQL refuses TRUNCATE of the events and the head, DELETE of the head, and any head other than
the newest event (so "empty the log, reset the head" is refused). SQLite (embedded mode) refuses a
head that does not name the newest event; its test flush empties tables with DELETE, so deletes
there are refused by the application only. Rewriting with the triggers disabled is what the keyed
chain and the anchors outside the database catch.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log cannot be truncated (% on % refused)', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_auditevent_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_auditchainhead_no_truncate
    BEFORE TRUNCATE ON audit_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();

CREATE OR REPLACE FUNCTION audit_chainhead_guard() RETURNS trigger AS $$
DECLARE
    newest_id bigint;
    newest_hash varchar;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit chain head cannot be deleted';
    END IF;
    SELECT id, hash INTO newest_id, newest_hash FROM audit_auditevent ORDER BY id DESC LIMIT 1;
    IF NEW.id = 1 AND (
        (newest_id IS NULL AND TG_OP = 'INSERT' AND NEW.last_id = 0
         AND NEW.last_hash = repeat('0', 64))
        OR (NEW.last_id = newest_id AND NEW.last_hash = newest_hash
            AND (TG_OP = 'INSERT' OR NEW.last_id >= OLD.last_id))
    ) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit chain head may only name the newest event (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_auditchainhead_guard
    BEFORE INSERT OR UPDATE OR DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_chainhead_guard();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS audit_auditchainhead_guard ON audit_auditchainhead;
DROP FUNCTION IF EXISTS audit_chainhead_guard();
DROP TRIGGER IF EXISTS audit_auditchainhead_no_truncate ON audit_auditchainhead;
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_refuse_truncate();
"""
# Adding key_id made SQLite rebuild the events table, which dropped its trigger: it is put back.
SQLITE_UP = [
    "DROP TRIGGER IF EXISTS audit_auditevent_no_update",
    """
    CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN
        SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)');
    END
    """,
    """
    CREATE TRIGGER audit_auditchainhead_guard BEFORE UPDATE ON audit_auditchainhead
    WHEN NEW.id IS NOT OLD.id OR NEW.last_id < OLD.last_id
        OR NEW.last_id IS NOT (SELECT max(id) FROM audit_auditevent)
        OR NEW.last_hash IS NOT (SELECT hash FROM audit_auditevent WHERE id = NEW.last_id)
    BEGIN
        SELECT RAISE(ABORT, 'the audit chain head may only name the newest event');
    END
    """,
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS audit_auditchainhead_guard"]


def name_the_newest_event(apps, schema_editor):
    """Existing heads learn the id of the event they point at (before the guard exists)."""
    head_model = apps.get_model("audit", "AuditChainHead")
    event_model = apps.get_model("audit", "AuditEvent")
    for head in head_model.objects.all():
        newest = event_model.objects.filter(hash=head.last_hash).values_list("pk", flat=True)
        head.last_id = newest.first() or 0
        head.save(update_fields=["last_id"])


def forwards(apps, schema_editor):
    name_the_newest_event(apps, schema_editor)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_keyed_chain")]
    operations = [migrations.RunPython(forwards, backwards)]
