"""Change notices of the shared database: statement triggers that ``NOTIFY riskmap_changes`` with the table and
the ids changed (read by :class:`riskmap.store.postgis.ChangeListener`), shared by the schema and its migrations."""

from __future__ import annotations

CHANNEL = "riskmap_changes"
NOTIFY_MAX_IDS = 500  # more rows in one statement: the notice says "reload the table" (ids None)
# no change notices: every edit writes history too; zone decisions change only with their zone's level
# (which is announced), and zoning writes them row by row (100k notices would cost ~6 s)
QUIET_TABLES = ("edit_history", "zone_decisions")

NOTIFY_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION riskmap_notify_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint; ids json;
BEGIN
  IF TG_OP = 'DELETE' THEN
    SELECT count(*), json_agg(id ORDER BY id) INTO n, ids FROM (SELECT id FROM old_rows LIMIT {NOTIFY_MAX_IDS + 1}) s;
  ELSE
    SELECT count(*), json_agg(id ORDER BY id) INTO n, ids FROM (SELECT id FROM new_rows LIMIT {NOTIFY_MAX_IDS + 1}) s;
  END IF;
  IF n = 0 THEN RETURN NULL; END IF;
  IF n > {NOTIFY_MAX_IDS} THEN ids := NULL; END IF;
  PERFORM pg_notify('{CHANNEL}', json_build_object('table', TG_TABLE_NAME, 'op', lower(TG_OP), 'ids', ids)::text);
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION riskmap_notify_table() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', json_build_object('table', TG_TABLE_NAME, 'op', lower(TG_OP), 'ids', NULL)::text);
  RETURN NULL;
END $$;
"""


def notify_triggers(table: str, has_id: bool) -> str:
    out = []
    for op, ref in (("insert", "NEW TABLE AS new_rows"), ("update", "NEW TABLE AS new_rows"),
                    ("delete", "OLD TABLE AS old_rows")):
        name = f"riskmap_notify_{op}"
        out.append(f"DROP TRIGGER IF EXISTS {name} ON {table};")
        if has_id:
            out.append(f"CREATE TRIGGER {name} AFTER {op.upper()} ON {table} REFERENCING {ref} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION riskmap_notify_rows();")
        else:
            out.append(f"CREATE TRIGGER {name} AFTER {op.upper()} ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION riskmap_notify_table();")
    return "\n".join(out)
