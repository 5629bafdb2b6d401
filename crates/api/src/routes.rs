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
    pub scope: &'static str,
    handler: MethodRouter<AppState>,
}

fn operation<H, T>(method: Method, path: &str, scope: &'static str, handler: H) -> Operation
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
        operation(Method::GET, "/integrations", "integrations:read", i::list_integrations),
        operation(Method::POST, "/integrations", "integrations:write", i::create_integration),
        operation(Method::GET, "/integrations/{integrationId}", "integrations:read", i::get_integration),
        operation(Method::PATCH, "/integrations/{integrationId}", "integrations:write", i::update_integration),
        operation(Method::DELETE, "/integrations/{integrationId}", "integrations:write", i::delete_integration),
        operation(Method::GET, "/integrations/{integrationId}/secrets", "integrations:read", i::list_secrets),
        operation(Method::PUT, "/integrations/{integrationId}/secrets/{name}", "integrations:write", i::put_secret),
        operation(
            Method::DELETE,
            "/integrations/{integrationId}/secrets/{name}",
            "integrations:write",
            i::delete_secret,
        ),
        operation(Method::GET, "/integrations/{integrationId}/hooks", "integrations:read", i::list_hooks),
        operation(Method::POST, "/integrations/{integrationId}/hooks", "integrations:write", i::create_hook),
        operation(Method::GET, "/hooks/{hookId}", "integrations:read", i::get_hook),
        operation(Method::PATCH, "/hooks/{hookId}", "integrations:write", i::update_hook),
        operation(Method::DELETE, "/hooks/{hookId}", "integrations:write", i::delete_hook),
        operation(Method::POST, "/hooks/{hookId}/run", "integrations:write", i::run_hook),
        operation(Method::GET, "/hooks/{hookId}/executions", "executions:read", i::list_executions),
        operation(Method::GET, "/executions/{executionId}", "executions:read", i::get_execution),
        operation(Method::GET, "/job-roles", "job-roles:read", r::list_job_roles),
        operation(Method::POST, "/job-roles", "job-roles:write", r::create_job_role),
        operation(Method::GET, "/custom-attribute-definitions", "custom-attributes:read", r::list_definitions),
        operation(Method::POST, "/custom-attribute-definitions", "custom-attributes:write", r::create_definition),
        operation(Method::GET, "/exchange-rates", "exchange-rates:read", r::list_exchange_rates),
        operation(Method::POST, "/exchange-rates", "exchange-rates:write", r::put_exchange_rate),
        operation(Method::DELETE, "/exchange-rates/{rateId}", "exchange-rates:write", r::delete_exchange_rate),
        operation(Method::GET, "/work-types", "work-types:read", r::list_work_types),
        operation(Method::POST, "/work-types", "work-types:write", r::create_work_type),
        operation(Method::PATCH, "/work-types/{workTypeId}", "work-types:write", r::update_work_type),
        operation(Method::DELETE, "/work-types/{workTypeId}", "work-types:write", r::delete_work_type),
        operation(Method::GET, "/forecast", "forecast:read", forecast::forecast),
        // Also needs `employees:write` or `contractors:write`, by the body: checked in the handler.
        operation(Method::POST, "/vacancies/{id}/fill", "vacancies:write", resources::fill),
    ];
    for (entity, history, kind) in [
        (EntityType::Employee, "salary-adjustments", NestedKind::SalaryAdjustments),
        (EntityType::Contractor, "rate-adjustments", NestedKind::RateAdjustments),
    ] {
        let path = format!("/{}/{{id}}/{history}", segment(entity));
        table.push(operation(
            Method::GET,
            &path,
            "adjustments:read",
            move |state: State<AppState>, org: Org, id: Path<(String, String)>| {
                r::list_adjustments(kind, entity, state, org, id)
            },
        ));
        table.push(operation(
            Method::POST,
            &path,
            "adjustments:write",
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
pub(crate) fn scopes(entity: EntityType) -> (&'static str, &'static str) {
    match entity {
        EntityType::Employee => ("employees:read", "employees:write"),
        EntityType::Contractor => ("contractors:read", "contractors:write"),
        EntityType::Vacancy => ("vacancies:read", "vacancies:write"),
        EntityType::Team => ("teams:read", "teams:write"),
        EntityType::Project => ("projects:read", "projects:write"),
        EntityType::Assignment => ("assignments:read", "assignments:write"),
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
