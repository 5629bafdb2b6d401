//! Who fills a vacancy (data-model.md, "Vacancy fill").

/// The entity a `filledBy` externalId resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filler<Id> {
    Employee(Id),
    Contractor(Id),
}

/// Decides the filler from the employees and contractors of the org whose externalId is
/// `external_id`. The error text is the record error's message for `filledBy`.
///
/// ```
/// use flowstate_sync::{resolve_fill, Filler};
/// assert_eq!(resolve_fill("EMP-1", &[7], &[] as &[i64]), Ok(Filler::Employee(7)));
/// assert!(resolve_fill("X", &[1], &[2]).unwrap_err().contains("ambiguous"));
/// assert!(resolve_fill("X", &[] as &[i64], &[]).unwrap_err().contains("not found"));
/// ```
pub fn resolve_fill<Id: Clone>(external_id: &str, employees: &[Id], contractors: &[Id]) -> Result<Filler<Id>, String> {
    match (employees, contractors) {
        ([employee], []) => Ok(Filler::Employee(employee.clone())),
        ([], [contractor]) => Ok(Filler::Contractor(contractor.clone())),
        ([], []) => Err(format!("filler {external_id:?} not found: no employee or contractor has this externalId")),
        _ => Err(format!(
            "filler {external_id:?} is ambiguous: {} employee(s) and {} contractor(s) have this externalId",
            employees.len(),
            contractors.len()
        )),
    }
}
