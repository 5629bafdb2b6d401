//! Workforce resources on the wire (employees, contractors, vacancies, teams, projects,
//! assignments; their adjustment histories; the vacancy fill).
//!
//! Their rules live in one place, the sync's field tables (`flowstate_sync::schema`), which
//! the planner checks every write against. The schemas here are made from those tables, so
//! the document states what the planner checks: a field added there is documented here
//! without anyone writing it twice. Requests refuse unknown fields (`additionalProperties:
//! false`), as the planner does.

use flowstate_store::{fill, reference::CURRENCY_PATTERN};
use flowstate_sync::{
    EntityType, NestedKind,
    schema::{self, FieldKind, FieldSpec},
};
use serde_json::{Map, Value, json};

use super::{NO_NUL, NOT_BLANK};

/// The component name of an entity's answer (`Employee`); requests are `New…` and `…Change`.
pub(crate) fn name(entity: EntityType) -> &'static str {
    match entity {
        EntityType::Employee => "Employee",
        EntityType::Contractor => "Contractor",
        EntityType::Vacancy => "Vacancy",
        EntityType::Project => "Project",
        EntityType::Team => "Team",
        EntityType::Assignment => "Assignment",
    }
}

/// The component name of a nested row as it is written (`New…`) and read.
pub(crate) fn row_name(kind: NestedKind) -> &'static str {
    match kind {
        NestedKind::TeamAllocations => "TeamAllocation",
        NestedKind::ProjectAllocations => "ProjectAllocation",
        NestedKind::SalaryAdjustments => "SalaryAdjustment",
        NestedKind::RateAdjustments => "RateAdjustment",
    }
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// What a field of `kind` takes in a request. `required` fields of text kinds are not blank.
fn request_field(spec: &FieldSpec) -> Value {
    let text = |max: usize| {
        if spec.required {
            json!({ "type": "string", "minLength": 1, "maxLength": max, "pattern": NOT_BLANK })
        } else {
            json!({ "type": "string", "maxLength": max, "pattern": NO_NUL })
        }
    };
    match spec.kind {
        FieldKind::Text { max } => text(max),
        FieldKind::Id => json!({ "type": "string", "minLength": 1, "maxLength": 255, "pattern": NOT_BLANK }),
        FieldKind::Email => json!({ "type": "string", "format": "email", "maxLength": 254 }),
        FieldKind::Date => json!({ "type": "string", "format": "date" }),
        FieldKind::Enum(values) => json!({ "type": "string", "enum": values }),
        FieldKind::Number { min, max } => json!({ "type": "number", "minimum": min, "maximum": max }),
        FieldKind::Money => {
            json!({ "type": "number", "minimum": 0, "maximum": flowstate_sync::MAX_MONEY, "description": "Rounded to 2 decimals" })
        }
        FieldKind::Integer { min, max } => json!({ "type": "integer", "minimum": min, "maximum": max }),
        FieldKind::Currency => json!({ "type": "string", "pattern": CURRENCY_PATTERN, "description": "ISO 4217" }),
        FieldKind::JobRole => json!({ "anyOf": [
            { "type": "string", "minLength": 1, "maxLength": 255, "pattern": NOT_BLANK },
            { "type": "object", "required": ["title"], "additionalProperties": false, "properties": {
                "title": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": NOT_BLANK },
                "externalId": { "anyOf": [{ "type": "string", "minLength": 1, "pattern": NO_NUL }, { "type": "number" }, { "type": "null" }] },
            } },
        ], "description": "A title, or { title, externalId }: job roles are upserted by externalId, else by title" }),
    }
}

/// What a field of `kind` holds in an answer.
fn answer_field(kind: FieldKind) -> Value {
    match kind {
        FieldKind::Text { .. } | FieldKind::Id | FieldKind::Email | FieldKind::Currency => json!({ "type": "string" }),
        FieldKind::Date => json!({ "type": "string", "format": "date" }),
        FieldKind::Enum(values) => json!({ "type": "string", "enum": values }),
        FieldKind::Number { .. } | FieldKind::Money => json!({ "type": "number" }),
        FieldKind::Integer { .. } => json!({ "type": "integer" }),
        FieldKind::JobRole => json!({ "anyOf": [
            { "type": "string" },
            { "type": "object", "required": ["title", "externalId"], "properties": { "title": { "type": "string" }, "externalId": { "type": "string" } } },
        ] }),
    }
}

/// `schema`, or `null` (a field a request may clear, or an answer may leave empty).
fn nullable(mut schema: Value) -> Value {
    if schema.get("$ref").is_some() {
        return json!({ "anyOf": [schema, { "type": "null" }] });
    }
    if let Some(any_of) = schema.get_mut("anyOf").and_then(Value::as_array_mut) {
        any_of.push(json!({ "type": "null" }));
        return schema;
    }
    if let Some(kind) = schema.get("type").cloned() {
        schema["type"] = json!([kind, "null"]);
    }
    if let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut) {
        values.push(Value::Null);
    }
    schema
}

fn object(properties: Map<String, Value>, required: Vec<&str>, description: Option<String>) -> Value {
    let mut schema = json!({ "type": "object", "additionalProperties": false, "properties": properties });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    if let Some(description) = description {
        schema["description"] = json!(description);
    }
    schema
}

/// Whether a request creates the entity (required fields required) or changes it.
#[derive(Clone, Copy, PartialEq)]
enum Write {
    Create,
    Change,
}

fn request(entity: EntityType, write: Write) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    if write == Write::Create {
        let external_id = json!({ "type": "string", "minLength": 1, "maxLength": 255, "pattern": NOT_BLANK, "description": "Unique per organisation and entity type; fixed once set" });
        if entity == EntityType::Assignment {
            required.push("externalId");
            properties.insert("externalId".into(), external_id);
        } else {
            properties.insert("externalId".into(), nullable(external_id));
        }
    }
    for spec in schema::fields(entity) {
        let field = request_field(spec);
        if spec.required {
            if write == Write::Create {
                required.push(spec.name);
            }
            properties.insert(spec.name.into(), field);
        } else {
            properties.insert(spec.name.into(), nullable(field));
        }
    }
    for kind in entity.nested_kinds() {
        properties.insert(
            kind.key().into(),
            json!({ "type": "array", "items": reference(&format!("New{}", row_name(*kind))),
                "description": "Replaces the rows this API owns: absent keeps them, [] deletes them" }),
        );
    }
    {
        properties.insert(
            "customAttributes".into(),
            json!({ "type": ["object", "null"], "description": "Values by attributeKey, each as its definition's fieldType says (STRING text, NUMBER a number, DATE a date, DATE_RANGE { start, end }); null clears one; keys with no active definition for this entity type are ignored" }),
        );
    }
    if entity == EntityType::Vacancy {
        let id = json!({ "anyOf": [{ "type": "string", "minLength": 1, "pattern": NOT_BLANK }, { "type": "number" }] });
        properties.insert(
            "filledBy".into(),
            json!({ "type": ["object", "null"], "required": ["externalId"], "properties": { "externalId": id },
                "description": "The employee or contractor filling it, by externalId; null opens the vacancy again" }),
        );
        properties.insert("filledByExternalId".into(), nullable(id));
    }
    let verb = if write == Write::Create { "creates" } else { "changes (the fields given; null clears)" };
    let description = format!(
        "The fields of a PULL record's data for {entity} (data-model.md); a write {verb}. Rules between fields (an end date before its start, a fill naming nobody, a team cycle) are 400s naming the field."
    );
    object(properties, required, Some(description))
}

fn answer(entity: EntityType) -> Value {
    let mut properties = Map::new();
    let mut required = vec!["id", "externalId", "createdAt", "updatedAt"];
    properties.insert("id".into(), json!({ "type": "string" }));
    properties.insert("externalId".into(), json!({ "type": ["string", "null"] }));
    if entity == EntityType::Assignment {
        for (name, schema) in [
            ("resourceType", json!({ "type": "string", "enum": ["employee", "contractor", "vacancy", "team"] })),
            ("resourceId", json!({ "type": "string" })),
            ("resourceExternalId", json!({ "type": ["string", "null"] })),
            ("targetType", json!({ "type": "string", "enum": ["team", "project"] })),
            ("targetId", json!({ "type": "string" })),
            ("targetExternalId", json!({ "type": ["string", "null"] })),
            ("fte", json!({ "type": "number" })),
            ("startDate", json!({ "type": "string", "format": "date" })),
            ("endDate", json!({ "type": ["string", "null"], "format": "date" })),
            ("sourceSystem", json!({ "type": ["string", "null"] })),
        ] {
            required.push(name);
            properties.insert(name.into(), schema);
        }
    } else {
        for spec in schema::fields(entity) {
            properties.insert(spec.name.into(), nullable(answer_field(spec.kind)));
        }
        required.push("customAttributes");
        properties.insert("customAttributes".into(), json!({ "type": "object" }));
        for kind in entity.nested_kinds() {
            required.push(kind.key());
            properties.insert(kind.key().into(), json!({ "type": "array", "items": reference(row_name(*kind)) }));
        }
        if entity == EntityType::Vacancy {
            required.extend(["filledBy", "isFilled"]);
            properties.insert(
                "filledBy".into(),
                json!({ "type": ["object", "null"], "required": ["type", "id", "externalId"], "additionalProperties": false, "properties": {
                    "type": { "type": "string", "enum": ["employee", "contractor"] },
                    "id": { "type": "string" },
                    "externalId": { "type": ["string", "null"] } } }),
            );
            properties.insert(
                "isFilled".into(),
                json!({ "type": "boolean", "description": "A filler is linked and its endDate is null or not past" }),
            );
        }
    }
    properties.insert("createdAt".into(), json!({ "type": "string", "format": "date-time" }));
    properties.insert("updatedAt".into(), json!({ "type": "string", "format": "date-time" }));
    object(properties, required, None)
}

/// A nested row as a request writes it.
fn new_row(kind: NestedKind) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for spec in schema::row_fields(kind) {
        let field = request_field(spec);
        if spec.required {
            required.push(spec.name);
            properties.insert(spec.name.into(), field);
        } else {
            properties.insert(spec.name.into(), nullable(field));
        }
    }
    object(properties, required, None)
}

/// A nested row as an answer shows it: every field, and the source that owns it (`null`:
/// made over the API).
fn row(kind: NestedKind) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for spec in schema::row_fields(kind) {
        required.push(spec.name);
        let field = match spec.name {
            // A target's external id and name as they are now (a team made over the API may
            // have neither).
            "teamId" | "projectId" | "teamName" | "projectName" => nullable(answer_field(spec.kind)),
            _ if spec.required => answer_field(spec.kind),
            _ => nullable(answer_field(spec.kind)),
        };
        properties.insert(spec.name.into(), field);
    }
    required.push("sourceSystem");
    properties.insert("sourceSystem".into(), json!({ "type": ["string", "null"] }));
    object(properties, required, None)
}

/// `POST /vacancies/{id}/fill`: an employee (`fillerType` absent or `employee`) or a
/// contractor, with the fields the store's fill takes, each as its entity checks it.
fn fill_request(filler: EntityType) -> Value {
    let (needed, optional) = fill::fields(filler);
    let specs = schema::fields(filler);
    let spec = |name: &str| *specs.iter().find(|spec| spec.name == name).expect("a fill field is an entity field");
    let mut properties = Map::new();
    let mut required = Vec::new();
    if filler == EntityType::Employee {
        properties.insert(
            "fillerType".into(),
            json!({ "type": ["string", "null"], "enum": ["employee", null], "default": "employee" }),
        );
    } else {
        required.push("fillerType");
        properties.insert("fillerType".into(), json!({ "type": "string", "enum": ["contractor"] }));
    }
    properties.insert(
        "externalId".into(),
        json!({ "type": ["string", "null"], "minLength": 1, "maxLength": 255, "pattern": NOT_BLANK, "description": "The filler's externalId" }),
    );
    for name in needed {
        required.push(name);
        properties.insert((*name).into(), request_field(&FieldSpec { required: true, ..spec(name) }));
    }
    for name in optional {
        properties.insert((*name).into(), nullable(request_field(&FieldSpec { required: false, ..spec(name) })));
    }
    let description = if filler == EntityType::Employee {
        properties
            .insert("salary".into(), nullable(reference(&format!("New{}", row_name(NestedKind::SalaryAdjustments)))));
        "Fill with a new employee; salary is the first salary adjustment"
    } else {
        "Fill with a new contractor; rate, rateType and currencyCode make the first rate adjustment, effective on startDate (else today)"
    };
    object(properties, required, Some(description.into()))
}

/// Every schema of this family, by component name.
pub(crate) fn schemas() -> Vec<(String, Value)> {
    let mut schemas = Vec::new();
    for entity in EntityType::ALL {
        let name = name(entity);
        schemas.push((format!("New{name}"), request(entity, Write::Create)));
        schemas.push((format!("{name}Change"), request(entity, Write::Change)));
        schemas.push((name.to_string(), answer(entity)));
    }
    for kind in NestedKind::ALL {
        schemas.push((format!("New{}", row_name(kind)), new_row(kind)));
        schemas.push((row_name(kind).to_string(), row(kind)));
    }
    schemas.push(("EmployeeFill".into(), fill_request(EntityType::Employee)));
    schemas.push(("ContractorFill".into(), fill_request(EntityType::Contractor)));
    schemas.push(("VacancyFill".into(), json!({ "oneOf": [reference("EmployeeFill"), reference("ContractorFill")] })));
    let filled = |filler: EntityType| {
        let mut properties = Map::new();
        properties.insert("vacancy".into(), reference(name(EntityType::Vacancy)));
        properties.insert(filler.as_str().into(), reference(name(filler)));
        object(properties, vec!["vacancy", filler.as_str()], None)
    };
    schemas.push((
        "Filled".into(),
        json!({ "oneOf": [filled(EntityType::Employee), filled(EntityType::Contractor)],
            "description": "The vacancy, filled, and the employee or contractor that fills it" }),
    ));
    schemas
}

#[cfg(test)]
mod tests {
    use flowstate_sync::parse_record;

    use super::*;

    /// Values that land on each side of every rule a field kind has.
    fn samples() -> Vec<Value> {
        let mut samples = vec![
            Value::Null,
            json!(""),
            json!("  "),
            json!("a"),
            json!("x\u{0}y"),
            json!("a".repeat(255)),
            json!("a".repeat(256)),
            json!("a".repeat(1001)),
            json!("a".repeat(10_001)),
            json!(0),
            json!(-1),
            json!(0.5),
            json!(1),
            json!(1.0),
            json!(11),
            json!(1.5),
            json!(1e16),
            json!(2_147_483_648_i64),
            json!(true),
            json!([]),
            json!({}),
            json!("2026-02-28"),
            json!("2026-02-30"),
            json!("26-01-01"),
            json!("+026-01-01"),
            json!("2026-1-01"),
            json!("ada@example.com"),
            json!("not-an-email"),
            json!("ada@example"),
            json!("GBP"),
            json!("gbp"),
            json!("hourly"),
            json!("open"),
            json!("active"),
            json!("employee"),
            json!("team"),
            json!({ "title": "Engineer" }),
            json!({ "title": "Engineer", "externalId": "JR-1" }),
            json!({ "title": "Engineer", "externalId": 7 }),
            json!({ "title": " " }),
            json!({ "title": "Engineer", "level": 3 }),
            json!({ "externalId": "EMP-1" }),
            json!({ "externalId": " " }),
            json!({ "start": "2026-01-01" }),
        ];
        samples.push(json!(format!("{}@example.com", "a".repeat(250))));
        samples
    }

    /// A record of `entity` that passes, with only its required fields.
    fn base(entity: EntityType) -> Map<String, Value> {
        let mut record = Map::new();
        for spec in schema::fields(entity).iter().filter(|spec| spec.required) {
            let value = match spec.kind {
                FieldKind::Email => json!("ada@example.com"),
                FieldKind::Date => json!("1900-01-01"),
                FieldKind::Enum(values) => json!(values[0]),
                FieldKind::Number { max, .. } => json!(max.min(1.0)),
                _ => json!("value"),
            };
            record.insert(spec.name.into(), value);
        }
        record
    }

    fn row(kind: NestedKind) -> Map<String, Value> {
        let mut row = Map::new();
        for spec in schema::row_fields(kind).iter().filter(|spec| spec.required) {
            let value = match spec.kind {
                FieldKind::Date => json!("1900-01-01"),
                FieldKind::Enum(values) => json!(values[0]),
                FieldKind::Number { max, .. } => json!(max.min(1.0)),
                FieldKind::Money => json!(100),
                FieldKind::Currency => json!("GBP"),
                _ => json!("value"),
            };
            row.insert(spec.name.into(), value);
        }
        row
    }

    fn schema_takes(name: &str, body: &Map<String, Value>) -> bool {
        let components = super::super::components();
        super::super::validate::problems(&components[name], &Value::Object(body.clone()), components).is_empty()
    }

    /// The document states what the planner checks: for every field of every entity and
    /// nested row, on each side of each rule, the generated request schema takes a record
    /// exactly when the sync's `parse_record` does (creating, and changing).
    #[test]
    fn the_schemas_take_what_the_planner_takes() {
        let mut disagreements = Vec::new();
        for entity in EntityType::ALL {
            let name = name(entity);
            let mut fields: Vec<&str> = schema::fields(entity).iter().map(|spec| spec.name).collect();
            fields.extend(["customAttributes", "unknownField"]);
            if entity == EntityType::Vacancy {
                fields.extend(["filledBy", "filledByExternalId"]);
            }
            for field in fields {
                for value in samples() {
                    let mut created = base(entity);
                    created.insert(field.into(), value.clone());
                    let mut changed = Map::new();
                    changed.insert(field.into(), value.clone());
                    // The handler takes `externalId` off before the planner sees the record.
                    let mut created_with_id = created.clone();
                    created_with_id.insert("externalId".into(), json!("X-1"));
                    for (schema, body, planned) in [
                        (format!("New{name}"), &created_with_id, &created),
                        (format!("{name}Change"), &changed, &changed),
                    ] {
                        let planner = parse_record(entity, "X-1", planned, &[]).is_ok();
                        if schema_takes(&schema, body) != planner {
                            disagreements.push(format!("{schema}.{field} = {value}: the planner takes it: {planner}"));
                        }
                    }
                }
            }
            for kind in entity.nested_kinds() {
                let row_fields = schema::row_fields(*kind).iter().map(|spec| spec.name).chain(["unknownField"]);
                for field in row_fields {
                    for value in samples() {
                        let mut item = row(*kind);
                        item.insert(field.into(), value.clone());
                        let mut body = Map::new();
                        body.insert(kind.key().into(), json!([item]));
                        let planner = parse_record(entity, "X-1", &body, &[]).is_ok();
                        if schema_takes(&format!("{name}Change"), &body) != planner {
                            disagreements
                                .push(format!("{}[0].{field} = {value}: the planner takes it: {planner}", kind.key()));
                        }
                    }
                }
                let mut body = Map::new();
                body.insert(kind.key().into(), Value::Null);
                assert!(
                    !schema_takes(&format!("{name}Change"), &body) && parse_record(entity, "X-1", &body, &[]).is_err()
                );
            }
        }
        assert!(disagreements.is_empty(), "{} disagreements:\n{}", disagreements.len(), disagreements.join("\n"));
    }

    /// A fill's optional salary may be left out or null, as the store's fill takes it.
    #[test]
    fn a_fill_may_say_no_salary_with_null() {
        let mut fill = Map::new();
        for (key, value) in [
            ("firstName", json!("Ada")),
            ("lastName", json!("L")),
            ("email", json!("ada@example.com")),
            ("startDate", json!("2026-01-01")),
        ] {
            fill.insert(key.into(), value);
        }
        assert!(schema_takes("VacancyFill", &fill));
        fill.insert("salary".into(), Value::Null);
        assert!(schema_takes("VacancyFill", &fill));
        fill.insert("salary".into(), json!({ "effectiveDate": "2026-01-01", "salary": 1, "currencyCode": "GBP" }));
        assert!(schema_takes("VacancyFill", &fill));
        fill.insert("salary".into(), json!("high"));
        assert!(!schema_takes("VacancyFill", &fill));
    }
}
