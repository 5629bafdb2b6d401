//! How entities sit in the tables, and their JSON representation (change events, export).

use chrono::NaiveDate;
use flowstate_sync::EntityType;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value, json};

pub(crate) fn table(entity: EntityType) -> &'static str {
    match entity {
        EntityType::Employee => "employees",
        EntityType::Contractor => "contractors",
        EntityType::Vacancy => "vacancies",
        EntityType::Project => "projects",
        EntityType::Team => "teams",
        EntityType::Assignment => "assignments",
    }
}

/// A new id: a prefix naming the type and a time-ordered UUID.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

pub(crate) fn id_prefix(entity: EntityType) -> &'static str {
    match entity {
        EntityType::Employee => "emp",
        EntityType::Contractor => "ctr",
        EntityType::Vacancy => "vac",
        EntityType::Project => "prj",
        EntityType::Team => "team",
        EntityType::Assignment => "asg",
    }
}

fn parse_json(text: Option<String>) -> Map<String, Value> {
    text.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
}

/// The entity as change events and exports show it, or `None` if it does not exist.
pub(crate) fn represent(
    connection: &Connection,
    org: &str,
    entity: EntityType,
    id: &str,
    today: NaiveDate,
) -> rusqlite::Result<Option<Value>> {
    if entity == EntityType::Assignment {
        return represent_assignment(connection, org, id);
    }
    let sql = format!(
        "SELECT external_id, fields, custom_attributes, created_at, updated_at FROM {} WHERE org_id = ?1 AND id = ?2",
        table(entity)
    );
    let row = connection
        .prepare_cached(&sql)?
        .query_row(params![org, id], |row| {
            Ok((
                row.get::<_, Option<String>>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
            ))
        })
        .optional()?;
    let Some((external_id, fields, custom, created_at, updated_at)) = row else { return Ok(None) };
    let mut object = Map::new();
    object.insert("id".into(), json!(id));
    object.insert("externalId".into(), json!(external_id));
    object.extend(parse_json(Some(fields)));
    object.insert("customAttributes".into(), Value::Object(parse_json(Some(custom))));
    if entity == EntityType::Vacancy {
        let (filler, is_filled) = vacancy_filler(connection, id, today)?;
        object.insert("filledBy".into(), filler);
        object.insert("isFilled".into(), json!(is_filled));
    }
    let resource = match entity {
        EntityType::Employee | EntityType::Contractor | EntityType::Vacancy => Some(entity.as_str()),
        _ => None,
    };
    if let Some(resource_type) = resource {
        let (teams, projects) = allocations(connection, resource_type, id)?;
        object.insert("teamAllocations".into(), teams);
        object.insert("projectAllocations".into(), projects);
    }
    match entity {
        EntityType::Employee => {
            object.insert("salaryAdjustments".into(), salary_adjustments(connection, id)?);
        }
        EntityType::Contractor => {
            object.insert("rateAdjustments".into(), rate_adjustments(connection, id)?);
        }
        _ => {}
    }
    object.insert("createdAt".into(), json!(created_at));
    object.insert("updatedAt".into(), json!(updated_at));
    Ok(Some(Value::Object(object)))
}

fn vacancy_filler(connection: &Connection, vacancy_id: &str, today: NaiveDate) -> rusqlite::Result<(Value, bool)> {
    let filler = connection
        .prepare_cached(
            "SELECT v.filled_by_employee_id, v.filled_by_contractor_id, COALESCE(e.external_id, c.external_id), COALESCE(e.fields, c.fields)
             FROM vacancies v LEFT JOIN employees e ON e.id = v.filled_by_employee_id LEFT JOIN contractors c ON c.id = v.filled_by_contractor_id
             WHERE v.id = ?1",
        )?
        .query_row(
            [vacancy_id],
            |row| Ok((row.get::<_, Option<String>>(0)?, row.get::<_, Option<String>>(1)?, row.get::<_, Option<String>>(2)?, row.get::<_, Option<String>>(3)?)),
        )
        .optional()?;
    let Some((employee, contractor, external_id, fields)) = filler else { return Ok((Value::Null, false)) };
    let (filler_type, filler_id) = match (employee, contractor) {
        (Some(id), _) => ("employee", id),
        (None, Some(id)) => ("contractor", id),
        (None, None) => return Ok((Value::Null, false)),
    };
    // Filled while the filler has no end date, or one still ahead.
    let end_date = parse_json(fields).get("endDate").and_then(Value::as_str).and_then(flowstate_sync::parse_date);
    let is_filled = end_date.is_none_or(|end| end >= today);
    Ok((json!({ "type": filler_type, "id": filler_id, "externalId": external_id }), is_filled))
}

/// Team and project allocations of a resource, in one query.
fn allocations(connection: &Connection, resource_type: &str, resource_id: &str) -> rusqlite::Result<(Value, Value)> {
    let mut statement = connection.prepare_cached(
        "SELECT a.target_type, COALESCE(t.external_id, p.external_id), json_extract(COALESCE(t.fields, p.fields), '$.name'),
                a.fte, a.start_date, a.end_date, a.source_system
         FROM assignments a
         LEFT JOIN teams t ON a.target_type = 'team' AND t.id = a.target_id
         LEFT JOIN projects p ON a.target_type = 'project' AND p.id = a.target_id
         WHERE a.resource_type = ?1 AND a.resource_id = ?2 AND a.external_id IS NULL
         ORDER BY a.start_date, 2",
    )?;
    let mut teams = Vec::new();
    let mut projects = Vec::new();
    let mut rows = statement.query(params![resource_type, resource_id])?;
    while let Some(row) = rows.next()? {
        let is_team = row.get::<_, String>(0)? == "team";
        let (id_key, name_key) = if is_team { ("teamId", "teamName") } else { ("projectId", "projectName") };
        let allocation = json!({
            id_key: row.get::<_, Option<String>>(1)?,
            name_key: row.get::<_, Option<String>>(2)?,
            "fte": row.get::<_, f64>(3)?,
            "startDate": row.get::<_, String>(4)?,
            "endDate": row.get::<_, Option<String>>(5)?,
            "sourceSystem": row.get::<_, Option<String>>(6)?,
        });
        if is_team { teams.push(allocation) } else { projects.push(allocation) }
    }
    Ok((Value::Array(teams), Value::Array(projects)))
}

fn salary_adjustments(connection: &Connection, employee_id: &str) -> rusqlite::Result<Value> {
    let mut statement = connection.prepare_cached(
        "SELECT effective_date, salary, bonus, currency_code, reason, source_system FROM salary_adjustments WHERE employee_id = ?1 ORDER BY effective_date",
    )?;
    let rows = statement.query_map([employee_id], |row| {
        Ok(json!({
            "effectiveDate": row.get::<_, String>(0)?, "salary": row.get::<_, f64>(1)?, "bonus": row.get::<_, Option<f64>>(2)?,
            "currencyCode": row.get::<_, String>(3)?, "reason": row.get::<_, Option<String>>(4)?, "sourceSystem": row.get::<_, Option<String>>(5)?,
        }))
    })?;
    Ok(Value::Array(rows.collect::<rusqlite::Result<_>>()?))
}

fn rate_adjustments(connection: &Connection, contractor_id: &str) -> rusqlite::Result<Value> {
    let mut statement = connection.prepare_cached(
        "SELECT effective_date, rate_type, rate, currency_code, reason, source_system FROM rate_adjustments WHERE contractor_id = ?1 ORDER BY effective_date",
    )?;
    let rows = statement.query_map([contractor_id], |row| {
        Ok(json!({
            "effectiveDate": row.get::<_, String>(0)?, "rateType": row.get::<_, String>(1)?, "rate": row.get::<_, f64>(2)?,
            "currencyCode": row.get::<_, String>(3)?, "reason": row.get::<_, Option<String>>(4)?, "sourceSystem": row.get::<_, Option<String>>(5)?,
        }))
    })?;
    Ok(Value::Array(rows.collect::<rusqlite::Result<_>>()?))
}

fn represent_assignment(connection: &Connection, org: &str, id: &str) -> rusqlite::Result<Option<Value>> {
    connection
        .query_row(
            "SELECT external_id, resource_type, resource_id, target_type, target_id, fte, start_date, end_date, source_system, created_at, updated_at
             FROM assignments WHERE org_id = ?1 AND id = ?2",
            params![org, id],
            |row| {
                let resource_type: String = row.get(1)?;
                let target_type: String = row.get(3)?;
                let resource_id: String = row.get(2)?;
                let target_id: String = row.get(4)?;
                Ok(json!({
                    "id": id,
                    "externalId": row.get::<_, Option<String>>(0)?,
                    "resourceType": resource_type,
                    "resourceId": resource_id,
                    "resourceExternalId": external_id_of(connection, &resource_type, &resource_id),
                    "targetType": target_type,
                    "targetId": target_id,
                    "targetExternalId": external_id_of(connection, &target_type, &target_id),
                    "fte": row.get::<_, f64>(5)?,
                    "startDate": row.get::<_, String>(6)?,
                    "endDate": row.get::<_, Option<String>>(7)?,
                    "sourceSystem": row.get::<_, Option<String>>(8)?,
                    "createdAt": row.get::<_, String>(9)?,
                    "updatedAt": row.get::<_, String>(10)?,
                }))
            },
        )
        .optional()
}

fn external_id_of(connection: &Connection, entity: &str, id: &str) -> Option<String> {
    let table = table(entity.parse().ok()?);
    connection
        .query_row(&format!("SELECT external_id FROM {table} WHERE id = ?1"), [id], |row| row.get(0))
        .optional()
        .ok()
        .flatten()
        .flatten()
}
