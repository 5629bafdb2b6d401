//! A hook's `ctx.kv`: values with expiry, within a quota per hook.

use super::optional;
use crate::{OrgId, Store, StoreError};

/// How much `ctx.kv` one hook may hold (expired values do not count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvQuota {
    pub max_keys: usize,
    /// Bytes of values (UTF-8).
    pub max_bytes: usize,
}

impl Default for KvQuota {
    fn default() -> KvQuota {
        KvQuota { max_keys: 10_000, max_bytes: 10 * 1024 * 1024 }
    }
}

impl KvQuota {
    /// Whether a hook holding `keys` keys and `bytes` bytes of values is within the quota.
    pub fn admits(self, keys: usize, bytes: usize) -> Result<(), StoreError> {
        if keys > self.max_keys {
            return Err(StoreError::Quota(format!(
                "at most {} keys per hook (expired ones do not count); this set would make {keys}",
                self.max_keys
            )));
        }
        if bytes > self.max_bytes {
            return Err(StoreError::Quota(format!(
                "at most {} bytes of values per hook (expired ones do not count); this set would make {bytes}",
                self.max_bytes
            )));
        }
        Ok(())
    }
}

impl Store {
    /// A hook's `ctx.kv` value, unless absent or expired at `now` (RFC 3339, as
    /// [`crate::timestamp`] writes).
    pub fn kv_get(&self, org: &OrgId, hook_id: &str, key: &str, now: &str) -> Result<Option<String>, StoreError> {
        let rows = self.reader()?.query_text(
            "SELECT value FROM hook_kv WHERE org_id = $1 AND hook_id = $2 AND key = $3 AND expires_at > $4",
            &[Some(org.as_str()), Some(hook_id), Some(key), Some(now)],
        )?;
        Ok(rows.first().and_then(|row| optional(row, 0)))
    }

    /// Sets a hook's `ctx.kv` value until `expires_at`, replacing any previous one, if the
    /// hook stays within `quota` (values not expired at `now`, this key's old value left
    /// out): otherwise [`StoreError::Quota`], and nothing changes. `NotFound` when the
    /// organisation has no such hook. Two sets at once are counted one after the other (the
    /// hook's row is locked).
    #[allow(clippy::too_many_arguments)]
    pub fn kv_set(
        &self,
        org: &OrgId,
        hook_id: &str,
        key: &str,
        value: &str,
        expires_at: &str,
        now: &str,
        quota: KvQuota,
    ) -> Result<(), StoreError> {
        let mut db = self.db()?;
        crate::db::in_transaction(db.as_mut(), |db| {
            db.lock_row("hooks", org.as_str(), hook_id)?;
            let bytes = db.byte_length("value");
            let rows = db.query_text(
                &format!(
                    "SELECT CAST(COUNT(*) AS TEXT), CAST(COALESCE(SUM({bytes}), 0) AS TEXT) FROM hook_kv
                     WHERE org_id = $1 AND hook_id = $2 AND key <> $3 AND expires_at > $4"
                ),
                &[Some(org.as_str()), Some(hook_id), Some(key), Some(now)],
            )?;
            let kept_keys: usize =
                rows.first().and_then(|row| optional(row, 0)).and_then(|n| n.parse().ok()).unwrap_or(0);
            let kept_bytes: usize =
                rows.first().and_then(|row| optional(row, 1)).and_then(|n| n.parse().ok()).unwrap_or(0);
            quota.admits(kept_keys + 1, kept_bytes + value.len())?;
            let written = db.execute_text(
                "INSERT INTO hook_kv (org_id, hook_id, key, value, expires_at)
                 SELECT $1, id, $3, $4, $5 FROM hooks WHERE org_id = $1 AND id = $2
                 ON CONFLICT (hook_id, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                &[Some(org.as_str()), Some(hook_id), Some(key), Some(value), Some(expires_at)],
            )?;
            if written == 0 {
                return Err(StoreError::NotFound(format!("hook {hook_id:?}")));
            }
            Ok(())
        })
    }

    /// Deletes `ctx.kv` values expired at `now`, of every organisation; how many.
    pub fn prune_kv(&self, now: &str) -> Result<u64, StoreError> {
        Ok(self.db()?.execute_text("DELETE FROM hook_kv WHERE expires_at <= $1", &[Some(now)])?)
    }
}
