//! Organisations, their custom attribute definitions, and API keys.

use chrono_tz::Tz;
use flowstate_sync::{CustomAttributeDefinition, CustomFieldType, EntityType};
use serde_json::Value;

use super::Store;
use crate::{
    OrgId, StoreError,
    db::{Db, DbError, DefinitionRow},
    keys::{ApiKey, ApiKeyRow, NewApiKey, Scope, new_secret, parse_token, same_secret, sha256_hex},
    model::new_id,
};

impl Store {
    /// Creates an organisation and returns its id.
    pub fn create_org(&self, name: &str, timezone: &str, currency: &str) -> Result<OrgId, StoreError> {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("the organisation name must not be blank".into()));
        }
        if flowstate_sync::CurrencyCode::parse(currency).is_none() {
            return Err(StoreError::Invalid(format!(
                "currency must be an ISO 4217 code such as GBP, got {currency:?}"
            )));
        }
        if timezone.parse::<Tz>().is_err() {
            return Err(StoreError::Invalid(format!(
                "timezone must be an IANA name such as Europe/London, got {timezone:?}"
            )));
        }
        let id = new_id("org");
        self.db()?.insert_org(&id, name, timezone, currency, &flowstate_time::now())?;
        Ok(OrgId(id))
    }

    /// Defines a custom attribute (`attributeKey`, `fieldType`, the entity types it applies to).
    pub fn define_custom_attribute(
        &self,
        org: &OrgId,
        name: &str,
        key: &str,
        field_type: CustomFieldType,
        entities: &[EntityType],
    ) -> Result<(), StoreError> {
        crate::reference::AttributeKey::parse(key)?;
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("a custom attribute needs a name".into()));
        }
        if entities.is_empty() || entities.contains(&EntityType::Assignment) {
            return Err(StoreError::Invalid(
                "entityTypes must be some of employee, contractor, vacancy, team and project".into(),
            ));
        }
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        let definition = DefinitionRow {
            id: new_id("cad"),
            name: name.to_string(),
            attribute_key: key.to_string(),
            field_type: serde_json::to_value(field_type).expect("serializes").as_str().unwrap_or_default().to_string(),
            entity_types: entities.iter().map(|entity| entity.as_str().to_uppercase()).collect(),
            created_at: flowstate_time::now(),
        };
        match db.insert_definition(org.as_str(), &definition) {
            Err(DbError::Constraint(_)) => Err(StoreError::Conflict(format!(
                "a custom attribute named {name:?} or keyed {key:?} is already defined"
            ))),
            other => Ok(other?),
        }
    }

    pub(super) fn custom_definitions(
        db: &mut dyn Db,
        org: &OrgId,
        entity: EntityType,
    ) -> Result<Vec<CustomAttributeDefinition>, StoreError> {
        let wanted = entity.as_str().to_uppercase();
        let mut definitions = Vec::new();
        for row in db.definitions(org.as_str())? {
            if !row.entity_types.contains(&wanted) {
                continue;
            }
            let field_type: CustomFieldType = serde_json::from_value(Value::String(row.field_type))
                .map_err(|error| StoreError::Database(error.to_string()))?;
            definitions.push(CustomAttributeDefinition { attribute_key: row.attribute_key, field_type });
        }
        Ok(definitions)
    }

    /// How many organisations exist (none: the database is new).
    pub fn organization_count(&self) -> Result<i64, StoreError> {
        Ok(self.reader()?.org_count()?)
    }

    /// Creates an API key of the organisation with these scopes (each one of
    /// [`Scope`]). The returned token is the only copy of its secret.
    pub fn create_api_key(&self, org: &OrgId, name: &str, scopes: &[Scope]) -> Result<NewApiKey, StoreError> {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("an API key needs a name".into()));
        }
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        let id = uuid::Uuid::now_v7().simple().to_string();
        let secret = new_secret();
        let row = ApiKeyRow {
            id: id.clone(),
            org_id: org.as_str().to_string(),
            name: name.to_string(),
            secret_sha256: sha256_hex(&secret),
            scopes: scopes.iter().map(|scope| scope.as_str().to_string()).collect(),
            created_at: flowstate_time::now(),
            revoked_at: None,
        };
        db.insert_api_key(&row)?;
        let key = ApiKey {
            id: row.id,
            org: org.clone(),
            name: row.name,
            scopes: scopes.to_vec(),
            created_at: row.created_at,
        };
        Ok(NewApiKey { key, token: crate::keys::token(&id, &secret) })
    }

    /// The key a bearer token stands for, if the token is one of ours and not revoked.
    pub fn authenticate(&self, token: &str) -> Result<Option<ApiKey>, StoreError> {
        let Some((id, secret)) = parse_token(token) else { return Ok(None) };
        let Some(row) = self.reader()?.api_key(id)? else { return Ok(None) };
        if row.revoked_at.is_some() || !same_secret(&row.secret_sha256, &sha256_hex(secret)) {
            return Ok(None);
        }
        Ok(Some(ApiKey {
            id: row.id,
            org: OrgId(row.org_id),
            name: row.name,
            // Spelled as `Scope` writes them; one no longer known grants nothing.
            scopes: row.scopes.iter().filter_map(|scope| Scope::parse(scope)).collect(),
            created_at: row.created_at,
        }))
    }

    /// Revokes one of the organisation's keys; whether it was live.
    pub fn revoke_api_key(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        Ok(db.revoke_api_key(org.as_str(), id, &flowstate_time::now())?)
    }
}
