//! Hook executions: the PULL queue (queued, claimed by compare-and-set), leases that show a
//! running one is alive, saves, and the pages of an execution list.

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;

use super::{Named, conflict_as};
use crate::{
    OrgId, Store, StoreError,
    db::{first_number, limit_offset},
    kinds::{ExecutionStatus, Trigger},
    model::new_id,
};

/// One execution of a hook.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub id: String,
    pub hook_id: String,
    pub status: ExecutionStatus,
    /// `manual` or `schedule` (PUSH: `event`).
    pub trigger: Trigger,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Per page: what the hook returned and what the sync made of it.
    pub pages: Value,
    /// The execution record (logs, HTTP requests, error, warnings) once finished.
    pub record: Option<Value>,
    pub error: Option<String>,
    /// PUSH: the change event delivered (`evt_<seq>`).
    pub event_id: Option<String>,
}

pub(super) const EXECUTION_COLUMNS: &str =
    "id, hook_id, status, trigger, started_at, finished_at, pages, record, error, event_id";

pub(super) fn execution(row: &[Option<String>]) -> Result<Execution, StoreError> {
    let row = Named::new(EXECUTION_COLUMNS, row);
    let json = |name| row.optional(name).and_then(|text| serde_json::from_str(&text).ok());
    Ok(Execution {
        id: row.text("id"),
        hook_id: row.text("hook_id"),
        status: row.spelled("status", ExecutionStatus::parse)?,
        trigger: row.spelled("trigger", Trigger::parse)?,
        started_at: row.text("started_at"),
        finished_at: row.optional("finished_at"),
        pages: json("pages").unwrap_or(Value::Array(Vec::new())),
        record: json("record"),
        error: row.optional("error"),
        event_id: row.optional("event_id"),
    })
}

/// How long a running execution is known alive after it last saved.
pub const EXECUTION_LEASE_SECONDS: i64 = 120;

pub(super) fn lease_from(at: chrono::DateTime<Utc>) -> String {
    crate::timestamp(at + chrono::Duration::seconds(EXECUTION_LEASE_SECONDS))
}

/// Which executions a list shows: all, or only those of a status, of a trigger, or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecutionFilter {
    pub status: Option<ExecutionStatus>,
    pub trigger: Option<Trigger>,
}

/// A PULL run waiting in the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedExecution {
    pub org: OrgId,
    pub id: String,
    pub hook_id: String,
}

impl Store {
    /// Executions of the hook (not counting skipped ones) started at or after `since`
    /// (RFC 3339 with microseconds, as executions are stamped).
    pub fn executions_since(&self, org: &OrgId, hook_id: &str, since: &str) -> Result<usize, StoreError> {
        let rows = self.reader()?.query_text(
            "SELECT id FROM executions WHERE org_id = $1 AND hook_id = $2 AND status <> 'skipped' AND started_at >= $3",
            &[Some(org.as_str()), Some(hook_id), Some(since)],
        )?;
        Ok(rows.len())
    }

    /// How many executions are kept, by status (every organisation; for metrics).
    pub fn execution_counts(&self) -> Result<Vec<(ExecutionStatus, u64)>, StoreError> {
        let rows = self.reader()?.query_text(
            "SELECT status, CAST(COUNT(*) AS TEXT) AS count FROM executions GROUP BY status ORDER BY status",
            &[],
        )?;
        rows.iter()
            .map(|row| {
                let row = Named::new("status, count", row);
                Ok((row.spelled("status", ExecutionStatus::parse)?, row.text("count").parse().unwrap_or(0)))
            })
            .collect()
    }

    /// Deletes the executions (of every organisation) that started before `before` and are
    /// finished (not queued, not running); how many.
    pub fn prune_executions(&self, before: &str) -> Result<u64, StoreError> {
        Ok(self.db()?.execute_text(
            "DELETE FROM executions WHERE status <> 'running' AND status <> 'queued' AND started_at < $1",
            &[Some(before)],
        )?)
    }

    /// Whether an execution of the hook is queued or running (a hook has one at a time).
    pub fn has_unfinished_execution(&self, org: &OrgId, hook_id: &str) -> Result<bool, StoreError> {
        let rows = self.reader()?.query_text(
            "SELECT id FROM executions WHERE org_id = $1 AND hook_id = $2 AND (status = 'queued' OR status = 'running')",
            &[Some(org.as_str()), Some(hook_id)],
        )?;
        Ok(!rows.is_empty())
    }

    /// Queues a PULL run of the hook (`manual` or `schedule`), asked for at `at`: any server
    /// may claim it ([`Store::claim_execution`]); it waits in the database, so a server that
    /// stops loses nothing queued. A hook has one execution queued or running at most: a
    /// second is a [`StoreError::Conflict`].
    pub fn queue_execution(
        &self,
        org: &OrgId,
        hook_id: &str,
        trigger: Trigger,
        at: &str,
    ) -> Result<Execution, StoreError> {
        self.insert_execution(org, hook_id, trigger, at, ExecutionStatus::Queued, None)
    }

    /// Queued executions of every organisation, oldest first: at most `per_org` of each
    /// organisation (so one with a long queue cannot hide another's), `limit` in all.
    pub fn queued_executions(&self, per_org: usize, limit: usize) -> Result<Vec<QueuedExecution>, StoreError> {
        let sql = format!(
            "SELECT org_id, id, hook_id FROM (
                 SELECT org_id, id, hook_id, started_at,
                        ROW_NUMBER() OVER (PARTITION BY org_id ORDER BY started_at, id) AS place
                 FROM executions WHERE status = 'queued'
             ) queued WHERE place <= {per_org} ORDER BY started_at, id {}",
            limit_offset(1, limit)
        );
        let rows = self.reader()?.query_text(&sql, &[])?;
        Ok(rows
            .iter()
            .map(|row| {
                let row = Named::new("org_id, id, hook_id", row);
                QueuedExecution { org: OrgId(row.text("org_id")), id: row.text("id"), hook_id: row.text("hook_id") }
            })
            .collect())
    }

    /// Claims a queued execution for this server (compare-and-set from `queued` to
    /// `running`, with a lease from `now`): the execution if this caller got it.
    pub fn claim_execution(
        &self,
        org: &OrgId,
        id: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<Option<Execution>, StoreError> {
        let claimed = self.db()?.execute_text(
            "UPDATE executions SET status = 'running', node_id = $3, lease_until = $4
             WHERE org_id = $1 AND id = $2 AND status = 'queued'",
            &[Some(org.as_str()), Some(id), Some(self.node_id()), Some(&lease_from(now))],
        )?;
        if claimed != 1 {
            return Ok(None);
        }
        self.execution(org, id)
    }

    /// Puts an execution this server claimed but could not start back in the queue (another
    /// pass, or another server, takes it): whether it was still this server's.
    pub fn requeue_execution(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let requeued = self.db()?.execute_text(
            "UPDATE executions SET status = 'queued' WHERE org_id = $1 AND id = $2 AND node_id = $3 AND status = 'running'",
            &[Some(org.as_str()), Some(id), Some(self.node_id())],
        )?;
        Ok(requeued == 1)
    }

    /// Renews the lease of one execution this server runs, to `until`: whether it is still
    /// running here.
    pub fn renew_execution_lease(&self, org: &OrgId, id: &str, until: &str) -> Result<bool, StoreError> {
        let renewed = self.db()?.execute_text(
            "UPDATE executions SET lease_until = $4 WHERE org_id = $1 AND id = $2 AND node_id = $3 AND status = 'running'",
            &[Some(org.as_str()), Some(id), Some(self.node_id()), Some(until)],
        )?;
        Ok(renewed == 1)
    }

    /// Whether an execution of the hook is running.
    pub fn has_running_execution(&self, org: &OrgId, hook_id: &str) -> Result<bool, StoreError> {
        let rows = self.reader()?.query_text(
            "SELECT id FROM executions WHERE org_id = $1 AND hook_id = $2 AND status = 'running'",
            &[Some(org.as_str()), Some(hook_id)],
        )?;
        Ok(!rows.is_empty())
    }

    /// Records an execution that did not run, with the reason.
    pub fn record_skipped_execution(
        &self,
        org: &OrgId,
        hook_id: &str,
        trigger: Trigger,
        at: &str,
        reason: &str,
    ) -> Result<Execution, StoreError> {
        self.insert_execution(org, hook_id, trigger, at, ExecutionStatus::Skipped, Some(reason))
    }

    /// Marks as `failed` with the error `interrupted` every `running` execution whose lease
    /// has passed (its server stopped saving it) and, when `this_node_restarted`, every one
    /// this node was running (it cannot be running any more). Spans organisations.
    pub fn fail_interrupted_executions(&self, this_node_restarted: bool) -> Result<u64, StoreError> {
        self.fail_interrupted_executions_at(&flowstate_time::now(), this_node_restarted)
    }

    /// [`Store::fail_interrupted_executions`] at a given time (RFC 3339 with microseconds).
    pub fn fail_interrupted_executions_at(&self, now: &str, this_node_restarted: bool) -> Result<u64, StoreError> {
        let now = now.to_string();
        let mine = if this_node_restarted { Some(self.node_id()) } else { None };
        Ok(self.db()?.execute_text(
            "UPDATE executions SET status = 'failed', error = 'interrupted', finished_at = $1
             WHERE status = 'running' AND (lease_until IS NULL OR lease_until < $1 OR node_id = $2)",
            &[Some(&now), mine],
        )?)
    }

    /// Records a new execution of the hook, `running`.
    pub fn start_execution(&self, org: &OrgId, hook_id: &str, trigger: Trigger) -> Result<Execution, StoreError> {
        self.start_execution_at(org, hook_id, trigger, &flowstate_time::now())
    }

    /// [`Store::start_execution`] at a given time (RFC 3339 with microseconds). A hook has one
    /// running execution at most: a second is a [`StoreError::Conflict`].
    pub fn start_execution_at(
        &self,
        org: &OrgId,
        hook_id: &str,
        trigger: Trigger,
        at: &str,
    ) -> Result<Execution, StoreError> {
        self.insert_execution(org, hook_id, trigger, at, ExecutionStatus::Running, None)
    }

    pub(super) fn insert_execution(
        &self,
        org: &OrgId,
        hook_id: &str,
        trigger: Trigger,
        at: &str,
        status: ExecutionStatus,
        error: Option<&str>,
    ) -> Result<Execution, StoreError> {
        let finished = (!status.is_unfinished()).then(|| at.to_string());
        let execution = Execution {
            id: new_id("exec"),
            hook_id: hook_id.to_string(),
            status,
            trigger,
            started_at: at.to_string(),
            finished_at: finished,
            pages: Value::Array(Vec::new()),
            record: None,
            error: error.map(str::to_string),
            event_id: None,
        };
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        db.execute_text(
            &format!(
                "INSERT INTO executions (org_id, {EXECUTION_COLUMNS}, node_id, lease_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ),
            &[
                Some(org.as_str()),
                Some(&execution.id),
                Some(hook_id),
                Some(execution.status.as_str()),
                Some(trigger.as_str()),
                Some(&execution.started_at),
                execution.finished_at.as_deref(),
                Some("[]"),
                None,
                execution.error.as_deref(),
                None,
                Some(self.node_id()),
                Some(&lease_from(chrono::DateTime::parse_from_rfc3339(at).map_or_else(|_| Utc::now(), |at| at.with_timezone(&Utc)))),
            ],
        )
        .map_err(|error| conflict_as(error, "an execution of this hook is queued or running; one at a time".into()))?;
        Ok(execution)
    }

    /// Saves an execution's progress or outcome.
    /// Saves the progress or outcome of an execution this server is running: whether it was
    /// saved. An execution that another server has meanwhile failed as `interrupted` (its
    /// lease passed) stays so: a late save must not bring it back to `running`, beside the
    /// hook's next run.
    pub fn save_execution(&self, org: &OrgId, execution: &Execution) -> Result<bool, StoreError> {
        let pages = execution.pages.to_string();
        let record = execution.record.as_ref().map(Value::to_string);
        let saved = self.db()?.execute_text(
            "UPDATE executions SET status = $3, finished_at = $4, pages = $5, record = $6, error = $7, event_id = $8, lease_until = $9
             WHERE org_id = $1 AND id = $2 AND status = 'running' AND node_id = $10",
            &[
                Some(org.as_str()),
                Some(&execution.id),
                Some(execution.status.as_str()),
                execution.finished_at.as_deref(),
                Some(&pages),
                record.as_deref(),
                execution.error.as_deref(),
                execution.event_id.as_deref(),
                Some(&lease_from(Utc::now())),
                Some(self.node_id()),
            ],
        )?;
        Ok(saved == 1)
    }

    pub fn execution(&self, org: &OrgId, id: &str) -> Result<Option<Execution>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE org_id = $1 AND id = $2");
        db.query_text(&sql, &[Some(org.as_str()), Some(id)])?.first().map(|row| execution(row)).transpose()
    }

    /// The hook's executions, newest first.
    /// One page (1-based) of the hook's executions, newest first, and how many there are.
    /// A page of the hook's executions, newest first, with the total; only those of
    /// `filter`'s status and trigger where it names them.
    pub fn executions_page(
        &self,
        org: &OrgId,
        hook_id: &str,
        filter: ExecutionFilter,
        page: usize,
        limit: usize,
    ) -> Result<(Vec<Execution>, usize), StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let mut condition = String::from("org_id = $1 AND hook_id = $2");
        let mut parameters = vec![Some(org.as_str()), Some(hook_id)];
        for (column, value) in
            [("status", filter.status.map(ExecutionStatus::as_str)), ("trigger", filter.trigger.map(Trigger::as_str))]
        {
            if let Some(value) = value {
                parameters.push(Some(value));
                condition.push_str(&format!(" AND {column} = ${}", parameters.len()));
            }
        }
        let count = format!("SELECT CAST(COUNT(*) AS TEXT) FROM executions WHERE {condition}");
        let total = first_number(&db.query_text(&count, &parameters)?).unwrap_or(0);
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions WHERE {condition} ORDER BY started_at DESC, id DESC {}",
            limit_offset(page, limit)
        );
        let rows = db.query_text(&sql, &parameters)?;
        Ok((rows.iter().map(|row| execution(row)).collect::<Result<_, _>>()?, total))
    }

    pub fn executions(&self, org: &OrgId, hook_id: &str) -> Result<Vec<Execution>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions WHERE org_id = $1 AND hook_id = $2 ORDER BY started_at DESC, id DESC"
        );
        db.query_text(&sql, &[Some(org.as_str()), Some(hook_id)])?.iter().map(|row| execution(row)).collect()
    }
}
