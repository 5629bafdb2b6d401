//! Entities as change events and exports show them, built from the rows of a [`World`]
//! (the loader brings an entity's nested rows, their targets and a vacancy's filler with it).

use chrono::NaiveDate;
use flowstate_sync::{EntityType, NestedKind};
use serde_json::{Map, Value, json};

use crate::world::{AssignmentRow, World};

/// The entity with this id, or `None` if the world has no such row.
pub(crate) fn represent(world: &World, entity: EntityType, id: &str, today: NaiveDate) -> Option<Value> {
    if entity == EntityType::Assignment {
        return world.assignment(id).map(|row| represent_assignment(world, row));
    }
    let row = world.entity(id)?;
    let mut object = Map::new();
    object.insert("id".into(), json!(id));
    object.insert("externalId".into(), json!(row.external_id));
    object.extend(row.fields.iter().map(|(key, value)| (key.clone(), value.clone())));
    object.insert("customAttributes".into(), Value::Object(row.custom.clone()));
    if entity == EntityType::Vacancy {
        let (filler, is_filled) = vacancy_filler(world, row, today);
        object.insert("filledBy".into(), filler);
        object.insert("isFilled".into(), json!(is_filled));
    }
    if matches!(entity, EntityType::Employee | EntityType::Contractor | EntityType::Vacancy) {
        let (teams, projects) = allocations(world, id);
        object.insert("teamAllocations".into(), teams);
        object.insert("projectAllocations".into(), projects);
    }
    match entity {
        EntityType::Employee => {
            object.insert("salaryAdjustments".into(), adjustments(world, id, NestedKind::SalaryAdjustments));
        }
        EntityType::Contractor => {
            object.insert("rateAdjustments".into(), adjustments(world, id, NestedKind::RateAdjustments));
        }
        _ => {}
    }
    object.insert("createdAt".into(), json!(row.created_at));
    object.insert("updatedAt".into(), json!(row.updated_at));
    Some(Value::Object(object))
}

fn vacancy_filler(world: &World, vacancy: &crate::world::EntityRow, today: NaiveDate) -> (Value, bool) {
    let (filler_type, filler_id) = match (&vacancy.filled_by_employee, &vacancy.filled_by_contractor) {
        (Some(id), _) => ("employee", id),
        (None, Some(id)) => ("contractor", id),
        (None, None) => return (Value::Null, false),
    };
    let filler = world.entity(filler_id);
    // Filled while the filler has no end date, or one still ahead.
    let end_date = filler
        .and_then(|filler| filler.fields.get("endDate"))
        .and_then(Value::as_str)
        .and_then(flowstate_sync::parse_date);
    let is_filled = end_date.is_none_or(|end| end >= today);
    let external_id = filler.and_then(|filler| filler.external_id.clone());
    (json!({ "type": filler_type, "id": filler_id, "externalId": external_id }), is_filled)
}

/// Team and project allocations of a resource (Assignment entities are listed apart), by
/// start date, then target.
fn allocations(world: &World, resource_id: &str) -> (Value, Value) {
    let mut rows: Vec<(&AssignmentRow, Option<&str>, Option<&str>)> = world
        .assignments_of(resource_id)
        .into_iter()
        .filter(|row| row.external_id.is_none())
        .map(|row| {
            let target = world.entity(&row.target_id);
            let external_id = target.and_then(|target| target.external_id.as_deref());
            let name = target.and_then(|target| target.fields.get("name")).and_then(Value::as_str);
            (row, external_id, name)
        })
        .collect();
    rows.sort_by(|a, b| (&a.0.start_date, a.1, &a.0.id).cmp(&(&b.0.start_date, b.1, &b.0.id)));
    let mut teams = Vec::new();
    let mut projects = Vec::new();
    for (row, external_id, name) in rows {
        let is_team = row.target_type == EntityType::Team;
        let (id_key, name_key) = if is_team { ("teamId", "teamName") } else { ("projectId", "projectName") };
        let allocation = json!({
            id_key: external_id,
            name_key: name,
            "fte": row.fte,
            "startDate": row.start_date,
            "endDate": row.end_date,
            "sourceSystem": row.source_system,
        });
        if is_team { teams.push(allocation) } else { projects.push(allocation) }
    }
    (Value::Array(teams), Value::Array(projects))
}

fn adjustments(world: &World, resource_id: &str, kind: NestedKind) -> Value {
    let mut rows: Vec<_> = world.adjustments_of(resource_id).into_iter().filter(|row| row.kind == kind).collect();
    rows.sort_by(|a, b| (&a.effective_date, &a.id).cmp(&(&b.effective_date, &b.id)));
    let rows = rows.into_iter().map(|row| {
        if kind == NestedKind::SalaryAdjustments {
            json!({
                "effectiveDate": row.effective_date, "salary": row.amount, "bonus": row.bonus,
                "currencyCode": row.currency_code, "reason": row.reason, "sourceSystem": row.source_system,
            })
        } else {
            json!({
                "effectiveDate": row.effective_date, "rateType": row.rate_type, "rate": row.amount,
                "currencyCode": row.currency_code, "reason": row.reason, "sourceSystem": row.source_system,
            })
        }
    });
    Value::Array(rows.collect())
}

fn represent_assignment(world: &World, row: &AssignmentRow) -> Value {
    let external_id_of = |id: &str| world.entity(id).and_then(|entity| entity.external_id.clone());
    json!({
        "id": row.id,
        "externalId": row.external_id,
        "resourceType": row.resource_type.as_str(),
        "resourceId": row.resource_id,
        "resourceExternalId": external_id_of(&row.resource_id),
        "targetType": row.target_type.as_str(),
        "targetId": row.target_id,
        "targetExternalId": external_id_of(&row.target_id),
        "fte": row.fte,
        "startDate": row.start_date,
        "endDate": row.end_date,
        "sourceSystem": row.source_system,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
    })
}
