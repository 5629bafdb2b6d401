//! An integration's secrets, kept sealed (the server seals and opens them with its master
//! key; the store never sees a value), and resealing them under a new key.

use super::Named;
use crate::{OrgId, Store, StoreError};

/// A secret as the store keeps it: sealed by the server with the master key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedSecret {
    pub name: String,
    pub nonce: String,
    pub ciphertext: String,
    pub updated_at: String,
}

const SECRET_COLUMNS: &str = "name, nonce, ciphertext, updated_at";

fn sealed(row: &Named<'_>) -> SealedSecret {
    SealedSecret {
        name: row.text("name"),
        nonce: row.text("nonce"),
        ciphertext: row.text("ciphertext"),
        // Sealed before timestamps had one format (`…+00:00`, nanoseconds): rewritten.
        updated_at: flowstate_time::normalise(&row.text("updated_at")),
    }
}

impl Store {
    /// Sets (or replaces) a sealed secret of the integration.
    pub fn put_secret(&self, org: &OrgId, integration_id: &str, secret: &SealedSecret) -> Result<(), StoreError> {
        if !super::is_key(&secret.name) {
            return Err(StoreError::Invalid(format!(
                "a secret name is letters, digits, - and _ (at most 100), got {:?}",
                secret.name
            )));
        }
        self.require_integration(org, integration_id)?;
        self.db()?.execute_text(
            "INSERT INTO integration_secrets (integration_id, org_id, name, nonce, ciphertext, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (integration_id, name) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
            &[
                Some(integration_id),
                Some(org.as_str()),
                Some(&secret.name),
                Some(&secret.nonce),
                Some(&secret.ciphertext),
                Some(&secret.updated_at),
            ],
        )?;
        Ok(())
    }

    pub fn delete_secret(&self, org: &OrgId, integration_id: &str, name: &str) -> Result<bool, StoreError> {
        self.require_integration(org, integration_id)?;
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        let deleted = db.execute_text(
            "DELETE FROM integration_secrets WHERE integration_id = $1 AND org_id = $2 AND name = $3",
            &[Some(integration_id), Some(org.as_str()), Some(name)],
        )?;
        Ok(deleted == 1)
    }

    /// The integration's secrets, sealed, by name.
    pub fn secrets(&self, org: &OrgId, integration_id: &str) -> Result<Vec<SealedSecret>, StoreError> {
        self.require_integration(org, integration_id)?;
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let rows = db.query_text(
            &format!(
                "SELECT {SECRET_COLUMNS} FROM integration_secrets WHERE integration_id = $1 AND org_id = $2 ORDER BY name"
            ),
            &[Some(integration_id), Some(org.as_str())],
        )?;
        Ok(rows.iter().map(|row| sealed(&Named::new(SECRET_COLUMNS, row))).collect())
    }

    /// One sealed secret of any organisation (to tell which master key is in use), with its
    /// integration id.
    pub fn any_sealed_secret(&self) -> Result<Option<(String, SealedSecret)>, StoreError> {
        let columns = format!("integration_id, {SECRET_COLUMNS}");
        let rows = self.reader()?.query_text(
            &format!("SELECT {columns} FROM integration_secrets ORDER BY integration_id, name LIMIT 1"),
            &[],
        )?;
        Ok(rows.first().map(|row| {
            let row = Named::new(&columns, row);
            (row.text("integration_id"), sealed(&row))
        }))
    }

    /// Re-seals every secret of every organisation in one transaction (key rotation):
    /// `reseal` gets the integration id and the sealed secret and returns it sealed anew, or
    /// `None` if it cannot open it, which rolls everything back. How many were re-sealed.
    pub fn reseal_secrets(
        &self,
        reseal: impl Fn(&str, &SealedSecret) -> Option<SealedSecret>,
    ) -> Result<usize, StoreError> {
        let mut db = self.db()?;
        crate::db::in_transaction(db.as_mut(), |db| {
            let columns = format!("integration_id, org_id, {SECRET_COLUMNS}");
            let rows = db
                .query_text(&format!("SELECT {columns} FROM integration_secrets ORDER BY integration_id, name"), &[])?;
            for row in &rows {
                let row = Named::new(&columns, row);
                let (integration_id, org_id) = (row.text("integration_id"), row.text("org_id"));
                let secret = sealed(&row);
                let Some(resealed) = reseal(&integration_id, &secret) else {
                    return Err(StoreError::Invalid(format!(
                        "secret {:?} of integration {integration_id} cannot be opened with the current master key; nothing was changed",
                        secret.name
                    )));
                };
                db.execute_text(
                    "UPDATE integration_secrets SET nonce = $4, ciphertext = $5 WHERE integration_id = $1 AND org_id = $2 AND name = $3",
                    &[Some(&integration_id), Some(&org_id), Some(&secret.name), Some(&resealed.nonce), Some(&resealed.ciphertext)],
                )?;
            }
            Ok(rows.len())
        })
    }
}
