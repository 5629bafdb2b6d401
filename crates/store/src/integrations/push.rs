//! PUSH cursors: where each PUSH hook is in the change-event stream, and the lease that
//! lets one server at a time deliver its events.

use super::{
    Hook, Named,
    hooks::{HOOK_COLUMNS, hook},
};
use crate::{
    OrgId, Store, StoreError,
    db::{DbError, first_number},
};

impl Store {
    /// The newest change event's number, of every organisation (the dispatcher's cue that
    /// something changed); `Some(0)` before the first.
    pub fn latest_event_seq(&self) -> Result<Option<i64>, StoreError> {
        let rows = self.reader()?.query_text("SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM change_events", &[])?;
        Ok(first_number(&rows))
    }

    /// Every enabled PUSH hook, of every organisation (the dispatcher's view).
    pub fn push_hooks(&self) -> Result<Vec<(OrgId, Hook)>, StoreError> {
        let select = format!("{HOOK_COLUMNS}, org_id");
        let sql =
            format!("SELECT {select} FROM hooks WHERE hook_type = 'PUSH' AND enabled = 'true' ORDER BY created_at, id");
        let rows = self.reader()?.query_text(&sql, &[])?;
        rows.iter()
            .map(|row| {
                let row = Named::new(&select, row);
                Ok((OrgId(row.text("org_id")), hook(&row)?))
            })
            .collect()
    }

    /// The last change event (seq) the PUSH hook is done with; `None` before its first use.
    pub fn push_cursor(&self, org: &OrgId, hook_id: &str) -> Result<Option<i64>, StoreError> {
        let rows = self.reader()?.query_text(
            "SELECT last_seq FROM push_cursors WHERE org_id = $1 AND hook_id = $2",
            &[Some(org.as_str()), Some(hook_id)],
        )?;
        Ok(first_number(&rows))
    }

    /// Starts the hook's cursor at the organisation's newest event (history is not
    /// replayed); returns where it starts. A cursor that exists is left as it is.
    pub fn start_push_cursor(&self, org: &OrgId, hook_id: &str) -> Result<i64, StoreError> {
        let mut db = self.db()?;
        let rows = db.query_text(
            "SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM change_events WHERE org_id = $1",
            &[Some(org.as_str())],
        )?;
        let newest = first_number(&rows).unwrap_or(0i64);
        let now = flowstate_time::now();
        let started = db.execute_text(
            "INSERT INTO push_cursors (hook_id, org_id, last_seq, updated_at) VALUES ($1, $2, $3, $4)",
            &[Some(hook_id), Some(org.as_str()), Some(&newest.to_string()), Some(&now)],
        );
        drop(db);
        match started {
            Ok(_) => Ok(newest),
            Err(DbError::Constraint(_)) => Ok(self.push_cursor(org, hook_id)?.unwrap_or(newest)),
            Err(error) => Err(error.into()),
        }
    }

    /// Takes (or renews) the lease on delivering the hook's events until `until`, if no other
    /// server holds a lease that is still running at `now`: whether this server holds it.
    pub fn lease_push_cursor(&self, org: &OrgId, hook_id: &str, now: &str, until: &str) -> Result<bool, StoreError> {
        let taken = self.db()?.execute_text(
            "UPDATE push_cursors SET lease_owner = $3, lease_until = $5
             WHERE org_id = $1 AND hook_id = $2 AND (lease_owner IS NULL OR lease_owner = $3 OR lease_until < $4)",
            &[Some(org.as_str()), Some(hook_id), Some(self.node_id()), Some(now), Some(until)],
        )?;
        Ok(taken == 1)
    }

    /// Moves the cursor from `from` to `to` (compare-and-set): whether this caller moved it.
    pub fn advance_push_cursor(&self, org: &OrgId, hook_id: &str, from: i64, to: i64) -> Result<bool, StoreError> {
        let changed = self.db()?.execute_text(
            "UPDATE push_cursors SET last_seq = $4, updated_at = $5 WHERE org_id = $1 AND hook_id = $2 AND last_seq = $3",
            &[Some(org.as_str()), Some(hook_id), Some(&from.to_string()), Some(&to.to_string()), Some(&flowstate_time::now())],
        )?;
        Ok(changed == 1)
    }
}
