//! Every operation of an organisation, once: its method, its path as the OpenAPI document
//! spells it, the scope it needs, and its handler. The router is made from this table, and a
//! test holds the document to it (every operation served is documented with its scope, and
//! nothing is documented that is not served).
//!
//! The preamble every handler would otherwise repeat happens here, before the handler and
//! before the body is read: `auth::authenticate` (a live key of the path's organisation) for
//! all of them, then `auth::require_scope` with the operation's scope. Handlers take the
//! checked organisation as `auth::Org`.

use std::collections::{BTreeMap, HashMap};

use axum::{
    Router,
    extract::{Path, Query, State},
    handler::Handler,
    http::Method,
    routing::{MethodFilter, MethodRouter, on},
};
use flowstate_store::keys::Scope;
use flowstate_sync::{EntityType, NestedKind};

use crate::{
    AppState,
    auth::{Org, authenticate, require_scope},
    forecast, integrations, reference,
    resources::{self, RESOURCES},
};

/// The prefix of every organisation's operations.
pub(crate) const ORG: &str = "/api/v1/org/{orgId}";

/// One operation.
pub(crate) struct Operation {
    /// Routed through `handler` (made by [`operation`] from it); read again by the test
    /// that holds the document to this table.
    #[cfg_attr(not(test), allow(dead_code))]
    pub method: Method,
    /// As the document spells it: `/api/v1/org/{orgId}/hooks/{hookId}`.
    pub path: String,
    pub scope: Scope,
    handler: MethodRouter<AppState>,
}

fn operation<H, T>(method: Method, path: &str, scope: Scope, handler: H) -> Operation
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method axum routes");
    Operation { method, path: format!("{ORG}{path}"), scope, handler: on(filter, handler) }
}

/// The table.
pub(crate) fn operations() -> Vec<Operation> {
    use integrations as i;
    use reference as r;
    let mut table = vec![
        operation(Method::GET, "/integrations", Scope::IntegrationsRead, i::list_integrations),
        operation(Method::POST, "/integrations", Scope::IntegrationsWrite, i::create_integration),
        operation(Method::GET, "/integrations/{integrationId}", Scope::IntegrationsRead, i::get_integration),
        operation(Method::PATCH, "/integrations/{integrationId}", Scope::IntegrationsWrite, i::update_integration),
        operation(Method::DELETE, "/integrations/{integrationId}", Scope::IntegrationsWrite, i::delete_integration),
        operation(Method::GET, "/integrations/{integrationId}/secrets", Scope::IntegrationsRead, i::list_secrets),
        operation(Method::PUT, "/integrations/{integrationId}/secrets/{name}", Scope::IntegrationsWrite, i::put_secret),
        operation(
            Method::DELETE,
            "/integrations/{integrationId}/secrets/{name}",
            Scope::IntegrationsWrite,
            i::delete_secret,
        ),
        operation(Method::GET, "/integrations/{integrationId}/hooks", Scope::IntegrationsRead, i::list_hooks),
        operation(Method::POST, "/integrations/{integrationId}/hooks", Scope::IntegrationsWrite, i::create_hook),
        operation(Method::GET, "/hooks/{hookId}", Scope::IntegrationsRead, i::get_hook),
        operation(Method::PATCH, "/hooks/{hookId}", Scope::IntegrationsWrite, i::update_hook),
        operation(Method::DELETE, "/hooks/{hookId}", Scope::IntegrationsWrite, i::delete_hook),
        operation(Method::POST, "/hooks/{hookId}/run", Scope::IntegrationsWrite, i::run_hook),
        operation(Method::GET, "/hooks/{hookId}/executions", Scope::ExecutionsRead, i::list_executions),
        operation(Method::GET, "/executions/{executionId}", Scope::ExecutionsRead, i::get_execution),
        operation(Method::GET, "/job-roles", Scope::JobRolesRead, r::list_job_roles),
        operation(Method::POST, "/job-roles", Scope::JobRolesWrite, r::create_job_role),
        operation(Method::GET, "/custom-attribute-definitions", Scope::CustomAttributesRead, r::list_definitions),
        operation(Method::POST, "/custom-attribute-definitions", Scope::CustomAttributesWrite, r::create_definition),
        operation(Method::GET, "/exchange-rates", Scope::ExchangeRatesRead, r::list_exchange_rates),
        operation(Method::POST, "/exchange-rates", Scope::ExchangeRatesWrite, r::put_exchange_rate),
        operation(Method::DELETE, "/exchange-rates/{rateId}", Scope::ExchangeRatesWrite, r::delete_exchange_rate),
        operation(Method::GET, "/work-types", Scope::WorkTypesRead, r::list_work_types),
        operation(Method::POST, "/work-types", Scope::WorkTypesWrite, r::create_work_type),
        operation(Method::PATCH, "/work-types/{workTypeId}", Scope::WorkTypesWrite, r::update_work_type),
        operation(Method::DELETE, "/work-types/{workTypeId}", Scope::WorkTypesWrite, r::delete_work_type),
        operation(Method::GET, "/forecast", Scope::ForecastRead, forecast::forecast),
        // Also needs `employees:write` or `contractors:write`, by the body: checked in the handler.
        operation(Method::POST, "/vacancies/{id}/fill", Scope::VacanciesWrite, resources::fill),
    ];
    for (entity, history, kind) in [
        (EntityType::Employee, "salary-adjustments", NestedKind::SalaryAdjustments),
        (EntityType::Contractor, "rate-adjustments", NestedKind::RateAdjustments),
    ] {
        let path = format!("/{}/{{id}}/{history}", segment(entity));
        table.push(operation(
            Method::GET,
            &path,
            Scope::AdjustmentsRead,
            move |state: State<AppState>, org: Org, id: Path<(String, String)>| {
                r::list_adjustments(kind, entity, state, org, id)
            },
        ));
        table.push(operation(
            Method::POST,
            &path,
            Scope::AdjustmentsWrite,
            move |state: State<AppState>, org: Org, id: Path<(String, String)>, body: axum::body::Bytes| {
                r::add_adjustment(kind, entity, state, org, id, body)
            },
        ));
    }
    for (segment, entity) in RESOURCES {
        let (read, write) = scopes(entity);
        let (all, one) = (format!("/{segment}"), format!("/{segment}/{{id}}"));
        table.extend([
            operation(
                Method::GET,
                &all,
                read,
                move |state: State<AppState>, org: Org, query: Query<HashMap<String, String>>| {
                    resources::list(entity, state, org, query)
                },
            ),
            operation(Method::POST, &all, write, move |state: State<AppState>, org: Org, body: axum::body::Bytes| {
                resources::create(entity, state, org, body)
            }),
            operation(Method::GET, &one, read, move |state: State<AppState>, org: Org, id: Path<(String, String)>| {
                resources::get_one(entity, state, org, id)
            }),
            operation(
                Method::PATCH,
                &one,
                write,
                move |state: State<AppState>, org: Org, id: Path<(String, String)>, body: axum::body::Bytes| {
                    resources::update(entity, state, org, id, body)
                },
            ),
            operation(
                Method::DELETE,
                &one,
                write,
                move |state: State<AppState>, org: Org, id: Path<(String, String)>| {
                    resources::delete(entity, state, org, id)
                },
            ),
        ]);
    }
    table
}

fn segment(entity: EntityType) -> &'static str {
    RESOURCES.iter().find(|(_, listed)| *listed == entity).expect("a resource").0
}

/// A resource's read and write scopes (`employees:read`, `employees:write`).
pub(crate) fn scopes(entity: EntityType) -> (Scope, Scope) {
    match entity {
        EntityType::Employee => (Scope::EmployeesRead, Scope::EmployeesWrite),
        EntityType::Contractor => (Scope::ContractorsRead, Scope::ContractorsWrite),
        EntityType::Vacancy => (Scope::VacanciesRead, Scope::VacanciesWrite),
        EntityType::Team => (Scope::TeamsRead, Scope::TeamsWrite),
        EntityType::Project => (Scope::ProjectsRead, Scope::ProjectsWrite),
        EntityType::Assignment => (Scope::AssignmentsRead, Scope::AssignmentsWrite),
    }
}

/// The organisation's operations as one router: each path's methods together, each with its
/// scope, all behind `authenticate`.
pub(crate) fn organisation(state: &AppState) -> Router<AppState> {
    let mut paths: BTreeMap<String, MethodRouter<AppState>> = BTreeMap::new();
    for Operation { path, scope, handler, .. } in operations() {
        let handler = handler.route_layer(axum::middleware::from_fn_with_state(scope, require_scope));
        let merged = match paths.remove(&path) {
            Some(methods) => methods.merge(handler),
            None => handler,
        };
        paths.insert(path, merged);
    }
    let mut router = Router::new();
    for (path, methods) in paths {
        router = router.route(&path, methods);
    }
    // The key before anything else, the body included.
    router.route_layer(axum::middleware::from_fn_with_state(state.clone(), authenticate))
}
