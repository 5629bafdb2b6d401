//! The entity types a PULL hook can sync.

use std::{fmt, str::FromStr};

/// A workforce entity type, as named on the command line and in change events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityType {
    Employee,
    Contractor,
    Vacancy,
    Project,
    Team,
    Assignment,
}

impl EntityType {
    /// Every entity type, in a stable order.
    pub const ALL: [EntityType; 6] = [
        EntityType::Employee,
        EntityType::Contractor,
        EntityType::Vacancy,
        EntityType::Project,
        EntityType::Team,
        EntityType::Assignment,
    ];

    /// The lower-case name (`employee`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Employee => "employee",
            EntityType::Contractor => "contractor",
            EntityType::Vacancy => "vacancy",
            EntityType::Project => "project",
            EntityType::Team => "team",
            EntityType::Assignment => "assignment",
        }
    }

    /// The spellings, for messages: `employee, contractor, …`.
    pub fn listed() -> String {
        EntityType::ALL.iter().map(|entity| entity.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// The nested arrays a record of this type may carry.
    pub fn nested_kinds(self) -> &'static [NestedKind] {
        use NestedKind::*;
        match self {
            EntityType::Employee => &[TeamAllocations, ProjectAllocations, SalaryAdjustments],
            EntityType::Contractor => &[TeamAllocations, ProjectAllocations, RateAdjustments],
            EntityType::Vacancy => &[TeamAllocations, ProjectAllocations],
            EntityType::Project | EntityType::Team | EntityType::Assignment => &[],
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityType {
    type Err = UnknownEntityType;

    fn from_str(text: &str) -> Result<EntityType, UnknownEntityType> {
        EntityType::ALL
            .into_iter()
            .find(|entity| entity.as_str() == text)
            .ok_or_else(|| UnknownEntityType(text.to_string()))
    }
}

/// A name that is no entity type's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownEntityType(pub String);

impl fmt::Display for UnknownEntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown entity type {:?} (expected one of {})", self.0, EntityType::listed())
    }
}

impl std::error::Error for UnknownEntityType {}

/// The nested arrays of resource records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NestedKind {
    TeamAllocations,
    ProjectAllocations,
    SalaryAdjustments,
    RateAdjustments,
}

impl NestedKind {
    /// Every kind, in a stable order.
    pub const ALL: [NestedKind; 4] = [
        NestedKind::TeamAllocations,
        NestedKind::ProjectAllocations,
        NestedKind::SalaryAdjustments,
        NestedKind::RateAdjustments,
    ];

    /// The key in a record's `data`.
    pub fn key(self) -> &'static str {
        match self {
            NestedKind::TeamAllocations => "teamAllocations",
            NestedKind::ProjectAllocations => "projectAllocations",
            NestedKind::SalaryAdjustments => "salaryAdjustments",
            NestedKind::RateAdjustments => "rateAdjustments",
        }
    }
}
