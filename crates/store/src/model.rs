//! How entities sit in the tables: table names and ids.

use flowstate_sync::EntityType;

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
