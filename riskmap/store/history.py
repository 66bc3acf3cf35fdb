"""Edit history: every ORM insert, update and delete of a feature is recorded (who, when, what).

Who and when: on PostgreSQL the server writes them (a trigger sets the session user and its own time
whatever the client sends; editors may insert history, never change or delete it). A GeoPackage file has
one local user, the login name of whoever has it open: anyone who may write the file may write any of it,
so its history is a record kept in good faith, not proof against its own user.
"""

from __future__ import annotations

import getpass

import shapely
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from riskmap.model import EditRecord, ProjectMeta, ZoneDecision

# Who and when of a history row come from the server, never from the client: an editor may INSERT history
# but could otherwise name anyone. session_user is the login (SET ROLE does not change it). Only a copy of
# recorded history (db push sets riskmap.copy_history) keeps its names and times, and only for a user who
# may rewrite history anyway (UPDATE on edit_history: the owner and riskmap_admin).
HISTORY_STAMP = """
CREATE OR REPLACE FUNCTION riskmap_history_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('riskmap.copy_history', true) = 'on'
     AND has_table_privilege(session_user, TG_RELID, 'UPDATE') THEN
    RETURN NEW;
  END IF;
  NEW."user" := session_user;
  NEW.at := date_trunc('second', now() AT TIME ZONE 'UTC');
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS riskmap_history_stamp ON edit_history;
CREATE TRIGGER riskmap_history_stamp BEFORE INSERT ON edit_history
  FOR EACH ROW EXECUTE FUNCTION riskmap_history_stamp();
"""

SKIP = (EditRecord, ProjectMeta, ZoneDecision)


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def _plain(value):
    if isinstance(value, shapely.Geometry):
        return value.wkt if len(value.wkt) <= 200 else f"{value.geom_type} ({shapely.get_num_coordinates(value)} points)"
    if isinstance(value, (bytes, bytearray, memoryview)):  # a plan's image: its size, not its bytes
        return f"{len(value)} bytes"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _changes(obj) -> dict:
    state = inspect(obj)
    out = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            out[attr.key] = [_plain(old), _plain(new)]
    return out


def track(session: Session, user: str | None = None) -> None:
    """Record edits of ``session`` in edit_history from now on."""
    user = user or current_user()
    pending_inserts: list = []

    @event.listens_for(session, "before_flush")
    def _before_flush(sess, _ctx, _instances):
        for obj in sess.dirty:
            if isinstance(obj, SKIP) or not sess.is_modified(obj):
                continue
            sess.add(EditRecord(user=user, table_name=obj.__tablename__, row_id=obj.id, action="update",
                                changes=_changes(obj)))
        for obj in sess.deleted:
            if isinstance(obj, SKIP):
                continue
            sess.add(EditRecord(user=user, table_name=obj.__tablename__, row_id=obj.id, action="delete",
                                changes={"name": _plain(getattr(obj, "name", None))}))
        pending_inserts.extend(o for o in sess.new if not isinstance(o, SKIP))

    @event.listens_for(session, "after_flush_postexec")
    def _after_flush(sess, _ctx):
        objs = list(pending_inserts)
        pending_inserts.clear()
        for obj in objs:
            sess.add(EditRecord(user=user, table_name=obj.__tablename__, row_id=obj.id, action="insert",
                                changes={"name": _plain(getattr(obj, "name", getattr(obj, "title", None)))}))
