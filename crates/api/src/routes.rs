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

use serde_json::{Value, json};

use crate::{
    AppState,
    auth::{Org, authenticate, require_one_of, require_scope},
    contract::{self, list, reference, resources as typed, single},
    forecast, integrations,
    list::{MAX_LIMIT, MAX_PAGE},
    reference as refs_module, resources,
};

/// A month as the forecast takes it: `YYYY-MM`.
pub(crate) const MONTH_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";

/// The prefix of every organisation's operations.
pub(crate) const ORG: &str = "/api/v1/org/{orgId}";

/// One operation.
pub(crate) struct Operation {
    /// Routed through `handler` (made by [`operation`] from it); the document reads it too.
    pub method: Method,
    /// As the document spells it: `/api/v1/org/{orgId}/hooks/{hookId}`.
    pub path: String,
    pub scope: Scope,
    /// One of these too, before the body is read (which one, the body says; the handler
    /// checks it).
    pub one_of: Option<&'static [Scope]>,
    pub doc: Doc,
    handler: MethodRouter<AppState>,
}

/// What the document says of an operation besides its method, path and scope.
pub(crate) struct Doc {
    pub summary: String,
    /// The request body's schema.
    pub body: Option<Value>,
    /// The success status, and the answer's schema (`None`: no body, as 204).
    pub success: (u16, Option<Value>),
    /// Query parameters, as the document writes them.
    pub query: Vec<Value>,
    /// Error statuses it can answer with besides 401 and 403 (every operation's) and 400 and
    /// 413 (every one reading a body or a query).
    pub errors: &'static [u16],
}

impl Operation {
    fn says(mut self, summary: impl Into<String>) -> Operation {
        self.doc.summary = summary.into();
        self
    }

    fn takes(mut self, schema: Value) -> Operation {
        self.doc.body = Some(schema);
        self
    }

    fn answers(mut self, status: u16, schema: Value) -> Operation {
        self.doc.success = (status, Some(schema));
        self
    }

    fn query(mut self, parameters: Vec<Value>) -> Operation {
        self.doc.query = parameters;
        self
    }

    fn fails(mut self, errors: &'static [u16]) -> Operation {
        self.doc.errors = errors;
        self
    }

    fn also_one_of(mut self, scopes: &'static [Scope]) -> Operation {
        self.one_of = Some(scopes);
        self
    }
}

fn operation<H, T>(method: Method, path: &str, scope: Scope, handler: H) -> Operation
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method axum routes");
    // A deletion answers 204 with nothing; the rest say what they answer (`answers`).
    let success = if method == Method::DELETE { (204, None) } else { (200, None) };
    // Something named in the path may not exist, or be taken meanwhile; a create may find its
    // name taken. Operations that know better say so (`fails`).
    let errors: &'static [u16] = match (path.contains('{'), method == Method::POST) {
        (true, _) => &[404, 409],
        (false, true) => &[409],
        (false, false) => &[],
    };
    let doc = Doc { summary: String::new(), body: None, success, query: Vec::new(), errors };
    Operation { method, path: format!("{ORG}{path}"), scope, one_of: None, doc, handler: on(filter, handler) }
}

/// `page` and `limit`, as every paged list takes them.
fn paging() -> Vec<Value> {
    vec![
        json!({ "name": "page", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1 } }),
        json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50 } }),
    ]
}

/// `page`, `limit`, and an executions list's `status` and `trigger`.
fn execution_filters() -> Vec<Value> {
    let spellings = |all: &[&str]| json!({ "type": "string", "enum": all });
    let statuses: Vec<&str> =
        flowstate_store::kinds::ExecutionStatus::ALL.iter().map(|status| status.as_str()).collect();
    let triggers: Vec<&str> = flowstate_store::kinds::Trigger::ALL.iter().map(|trigger| trigger.as_str()).collect();
    let mut parameters = paging();
    parameters.push(json!({ "name": "status", "in": "query", "schema": spellings(&statuses) }));
    parameters.push(json!({ "name": "trigger", "in": "query", "schema": spellings(&triggers) }));
    parameters
}

/// `type` and `entity` of a hook's starting code, both required.
fn hook_starter_query() -> Vec<Value> {
    let types: Vec<&str> = flowstate_store::kinds::HookType::ALL.iter().map(|kind| kind.as_str()).collect();
    let entities: Vec<&str> = flowstate_sync::EntityType::ALL.iter().map(|entity| entity.as_str()).collect();
    vec![
        json!({ "name": "type", "in": "query", "required": true, "schema": { "type": "string", "enum": types } }),
        json!({ "name": "entity", "in": "query", "required": true, "schema": { "type": "string", "enum": entities } }),
        json!({ "name": "language", "in": "query", "required": false, "description": "The starter's language (default javascript)",
                "schema": { "type": "string", "enum": flowstate_store::kinds::Language::ALL.iter().map(|language| language.as_str()).collect::<Vec<_>>() } }),
    ]
}

/// The table.
pub(crate) fn operations() -> Vec<Operation> {
    use Method as M;
    use contract::{hooks as h, integrations as n, reference as r};
    use integrations as i;
    use refs_module as refs;
    let mut table = vec![
        operation(M::GET, "/integrations", Scope::IntegrationsRead, i::list_integrations)
            .says("List integrations")
            .answers(200, list(reference::<n::Integration>())),
        operation(M::POST, "/integrations", Scope::IntegrationsWrite, i::create_integration)
            .says("Create an integration")
            .takes(reference::<n::NewIntegration>())
            .answers(201, single(reference::<n::Integration>())),
        operation(M::GET, "/integrations/{integrationId}", Scope::IntegrationsRead, i::get_integration)
            .says("Get an integration")
            .answers(200, single(reference::<n::Integration>())),
        operation(M::PATCH, "/integrations/{integrationId}", Scope::IntegrationsWrite, i::update_integration)
            .says("Rename or re-describe an integration (sourceSystem is fixed)")
            .takes(reference::<n::IntegrationChange>())
            .answers(200, single(reference::<n::Integration>())),
        operation(M::DELETE, "/integrations/{integrationId}", Scope::IntegrationsWrite, i::delete_integration)
            .says("Delete an integration with its hooks, secrets and executions (409 while a hook runs; synced records stay)"),
        operation(M::GET, "/integrations/{integrationId}/secrets", Scope::IntegrationsRead, i::list_secrets)
            .says("List secret names and updatedAt (never values)")
            .answers(200, list(reference::<n::SecretInfo>())),
        operation(M::PUT, "/integrations/{integrationId}/secrets/{name}", Scope::IntegrationsWrite, i::put_secret)
            .says("Set or replace a secret (encrypted at rest)")
            .takes(reference::<n::SecretValue>())
            .answers(200, single(reference::<n::SecretInfo>())),
        operation(M::DELETE, "/integrations/{integrationId}/secrets/{name}", Scope::IntegrationsWrite, i::delete_secret)
            .says("Delete a secret"),
        operation(M::GET, "/integrations/{integrationId}/hooks", Scope::IntegrationsRead, i::list_hooks)
            .says("List the integration's hooks")
            .answers(200, list(reference::<h::Hook>())),
        operation(M::POST, "/integrations/{integrationId}/hooks", Scope::IntegrationsWrite, i::create_hook)
            .says("Create a hook (its code must compile: a 400 gives the line and column)")
            .takes(reference::<h::NewHook>())
            .answers(201, single(reference::<h::Hook>())),
        operation(M::GET, "/hooks/{hookId}", Scope::IntegrationsRead, i::get_hook)
            .says("Get a hook")
            .answers(200, single(reference::<h::Hook>())),
        operation(M::PATCH, "/hooks/{hookId}", Scope::IntegrationsWrite, i::update_hook)
            .says("Change a hook: fields given change, the rest stay; null clears schedule, preferredHour or eventTypes; type and entityType are fixed")
            .takes(reference::<h::HookChange>())
            .answers(200, single(reference::<h::Hook>())),
        operation(M::DELETE, "/hooks/{hookId}", Scope::IntegrationsWrite, i::delete_hook)
            .says("Delete a hook and its executions (409 while it runs)"),
        operation(M::POST, "/hooks/{hookId}/run", Scope::IntegrationsWrite, i::run_hook)
            .says("Run a PULL hook now: queues an execution, which a free worker of any server starts (one execution of a hook at a time: 409 while one is queued or runs; 429 past the hourly limit)")
            .answers(202, single(reference::<h::Execution>()))
            .fails(&[404, 409, 429]),
        operation(M::POST, "/hooks/{hookId}/plan", Scope::IntegrationsWrite, i::plan_hook)
            .says("Dry run of a PULL hook (its saved code, or `code` from the body, unsaved): runs it for real against its API and answers what the sync would do to each record (create with its fields, update with the fields that change, unchanged, delete, error by field), nested rows and totals, writing nothing (no entity, sync state, change event or PUSH) and storing no execution; the answer waits for the run")
            .takes(reference::<h::PlanRequest>())
            .answers(200, single(reference::<h::HookPlan>()))
            .fails(&[404, 409, 503]),
        operation(M::GET, "/hooks/{hookId}/executions", Scope::ExecutionsRead, i::list_executions)
            .says("List the hook's executions, newest first, a page at a time; `status` and `trigger` keep only those")
            .query(execution_filters())
            .answers(200, list(reference::<h::Execution>())),
        operation(M::GET, "/hook-starters", Scope::IntegrationsRead, i::hook_starter)
            .says("The code a new hook starts from: the hook guide's example for its type and entity (as `flowstate hook init` writes it)")
            .query(hook_starter_query())
            .answers(200, single(reference::<h::HookStarter>())),
        operation(M::GET, "/executions/{executionId}", Scope::ExecutionsRead, i::get_execution)
            .says("Get an execution (pages with counts and errors, logs, HTTP requests, error, warnings); visible while running")
            .answers(200, single(reference::<h::Execution>())),
        operation(M::GET, "/job-roles", Scope::JobRolesRead, refs::list_job_roles)
            .says("List job roles (by title)")
            .answers(200, list(reference::<r::JobRole>())),
        operation(M::POST, "/job-roles", Scope::JobRolesWrite, refs::create_job_role)
            .says("Create a job role (409 when its externalId, or without one its title, is taken)")
            .takes(reference::<r::NewJobRole>())
            .answers(201, single(reference::<r::JobRole>())),
        operation(M::GET, "/custom-attribute-definitions", Scope::CustomAttributesRead, refs::list_definitions)
            .says("List custom attribute definitions")
            .answers(200, list(reference::<r::AttributeDefinition>())),
        operation(M::POST, "/custom-attribute-definitions", Scope::CustomAttributesWrite, refs::create_definition)
            .says("Define a custom attribute (attributeKey is generated from the name when omitted, and fixed; 409 when the name or key is taken)")
            .takes(reference::<r::NewAttributeDefinition>())
            .answers(201, single(reference::<r::AttributeDefinition>())),
        operation(M::GET, "/exchange-rates", Scope::ExchangeRatesRead, refs::list_exchange_rates)
            .says("List exchange rates (by pair, then date)")
            .answers(200, list(reference::<r::ExchangeRate>())),
        operation(M::POST, "/exchange-rates", Scope::ExchangeRatesWrite, refs::put_exchange_rate)
            .says("Set a currency pair's rate from a date on (replaces the rate of the same pair and date; the two currencies differ)")
            .takes(reference::<r::NewExchangeRate>())
            .answers(201, single(reference::<r::ExchangeRate>())),
        operation(M::DELETE, "/exchange-rates/{rateId}", Scope::ExchangeRatesWrite, refs::delete_exchange_rate)
            .says("Delete an exchange rate"),
        operation(M::GET, "/work-types", Scope::WorkTypesRead, refs::list_work_types)
            .says("List work types (by name)")
            .answers(200, list(reference::<r::WorkType>())),
        operation(M::POST, "/work-types", Scope::WorkTypesWrite, refs::create_work_type)
            .says("Create a work type (409 when its name or externalId is taken)")
            .takes(reference::<r::NewWorkType>())
            .answers(201, single(reference::<r::WorkType>())),
        operation(M::PATCH, "/work-types/{workTypeId}", Scope::WorkTypesWrite, refs::update_work_type)
            .says("Change a work type: the fields given (externalId null clears it)")
            .takes(reference::<r::WorkTypeChange>())
            .answers(200, single(reference::<r::WorkType>())),
        operation(M::DELETE, "/work-types/{workTypeId}", Scope::WorkTypesWrite, refs::delete_work_type)
            .says("Delete a work type (employees and vacancies naming it cost without overhead from then on)"),
        operation(M::GET, "/forecast", Scope::ForecastRead, forecast::forecast)
            .says("The team cost forecast (forecast.md): per month in the reporting currency, the cost of each team (parents first; a team's total includes its descendants') or project, and of Unallocated; amounts are decimal strings with two decimals. At most 60 months; `to` not before `from`; `teamId` with groupBy team only (each a 400 naming the parameter); an unknown team is a 404")
            .query(vec![
                json!({ "name": "from", "in": "query", "required": true, "schema": { "type": "string", "pattern": MONTH_PATTERN }, "description": "First month, YYYY-MM" }),
                json!({ "name": "to", "in": "query", "required": true, "schema": { "type": "string", "pattern": MONTH_PATTERN }, "description": "Last month, YYYY-MM; at most 60 months from `from`" }),
                json!({ "name": "groupBy", "in": "query", "schema": { "type": "string", "enum": ["team", "project"], "default": "team" } }),
                json!({ "name": "teamId", "in": "query", "schema": { "type": "string" }, "description": "A team's id or externalId: that team and its descendants only (groupBy team)" }),
                json!({ "name": "lines", "in": "query", "schema": { "type": "boolean", "default": false }, "description": "Each group's lines, one per resource" }),
            ])
            .answers(200, single(reference::<contract::forecast::Forecast>())),
        operation(M::POST, "/vacancies/{id}/fill", Scope::VacanciesWrite, resources::fill)
            .also_one_of(&[Scope::EmployeesWrite, Scope::ContractorsWrite])
            .says("Fill a vacancy: creates the filler, moves the vacancy's allocations to it, links it and sets status `filled`, in one transaction (409 when it is filled already, or the filler's externalId is taken). Also requires `employees:write` or `contractors:write`")
            .takes(named("VacancyFill"))
            .answers(201, single(named("Filled"))),
    ];
    for (entity, history, kind) in [
        (EntityType::Employee, "salary-adjustments", NestedKind::SalaryAdjustments),
        (EntityType::Contractor, "rate-adjustments", NestedKind::RateAdjustments),
    ] {
        let path = format!("/{}/{{id}}/{history}", segment(entity));
        let row = typed::row_name(kind);
        table.push(
            operation(
                M::GET,
                &path,
                Scope::AdjustmentsRead,
                move |state: State<AppState>, org: Org, id: Path<(String, String)>| {
                    refs::list_adjustments(kind, entity, state, org, id)
                },
            )
            .says("The adjustment history, oldest first")
            .answers(200, list(named(row))),
        );
        table.push(
            operation(
                M::POST,
                &path,
                Scope::AdjustmentsWrite,
                move |state: State<AppState>, org: Org, id: Path<(String, String)>, body: axum::body::Bytes| {
                    refs::add_adjustment(kind, entity, state, org, id, body)
                },
            )
            .says("Add an adjustment (history is append-only: one made over the API with the same effectiveDate is replaced, none is removed); answers with the person")
            .takes(named(&format!("New{row}")))
            .answers(201, single(named(typed::name(entity)))),
        );
    }
    for (segment, entity, read, write) in RESOURCES {
        let (all, one) = (format!("/{segment}"), format!("/{segment}/{{id}}"));
        let name = typed::name(entity);
        let mut listing = paging();
        listing.extend([
            json!({ "name": "search", "in": "query", "schema": { "type": "string" }, "description": "Case-insensitive text in any top-level text field" }),
            json!({ "name": "sortBy", "in": "query", "schema": { "type": "string", "default": "externalId" } }),
            json!({ "name": "sortDir", "in": "query", "schema": { "type": "string", "enum": ["asc", "desc"], "default": "asc" } }),
        ]);
        if entity == EntityType::Vacancy {
            listing.push(
                json!({ "name": "excludeFilled", "in": "query", "schema": { "type": "boolean", "default": true } }),
            );
        }
        let external_id = if entity == EntityType::Assignment { " (required for assignments)" } else { "" };
        table.extend([
            operation(
                M::GET,
                &all,
                read,
                move |state: State<AppState>, org: Org, query: Query<HashMap<String, String>>| {
                    resources::list(entity, state, org, query)
                },
            )
            .says(format!("List {segment}"))
            .query(listing)
            .answers(200, list(named(name)))
            .fails(&[]),
            operation(M::POST, &all, write, move |state: State<AppState>, org: Org, body: axum::body::Bytes| {
                resources::create(entity, state, org, body)
            })
            .says(format!("Create {entity}: `externalId` is optional{external_id}, unique per organisation (409 when taken); the change event's source is `api`"))
            .takes(named(&format!("New{name}")))
            .answers(201, single(named(name)))
            .fails(&[409]),
            operation(M::GET, &one, read, move |state: State<AppState>, org: Org, id: Path<(String, String)>| {
                resources::get_one(entity, state, org, id)
            })
            .says(format!("Get one {entity} by id or externalId"))
            .answers(200, single(named(name)))
            .fails(&[404]),
            operation(
                M::PATCH,
                &one,
                write,
                move |state: State<AppState>, org: Org, id: Path<(String, String)>, body: axum::body::Bytes| {
                    resources::update(entity, state, org, id, body)
                },
            )
            .says(format!("Change {entity}: the fields given change, the rest stay; `externalId` is fixed; the change event's source is `api`"))
            .takes(named(&format!("{name}Change")))
            .answers(200, single(named(name)))
            .fails(&[404, 409]),
            operation(M::DELETE, &one, write, move |state: State<AppState>, org: Org, id: Path<(String, String)>| {
                resources::delete(entity, state, org, id)
            })
            .says(format!("Delete {entity} (hard delete, as deletedAt in a sync: its allocations and adjustments go, vacancies it filled reopen)"))
            .fails(&[404]),
        ]);
    }
    table
}

/// `{ "$ref": "#/components/schemas/{name}" }` for a schema the contract names.
fn named(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The workforce resources served: path segment, entity, and the scopes to read and write.
const RESOURCES: [(&str, EntityType, Scope, Scope); 6] = [
    ("employees", EntityType::Employee, Scope::EmployeesRead, Scope::EmployeesWrite),
    ("contractors", EntityType::Contractor, Scope::ContractorsRead, Scope::ContractorsWrite),
    ("vacancies", EntityType::Vacancy, Scope::VacanciesRead, Scope::VacanciesWrite),
    ("teams", EntityType::Team, Scope::TeamsRead, Scope::TeamsWrite),
    ("projects", EntityType::Project, Scope::ProjectsRead, Scope::ProjectsWrite),
    ("assignments", EntityType::Assignment, Scope::AssignmentsRead, Scope::AssignmentsWrite),
];

fn segment(entity: EntityType) -> &'static str {
    RESOURCES.iter().find(|(_, listed, ..)| *listed == entity).expect("a resource").0
}

/// The organisation's operations as one router: each path's methods together, each with its
/// scope, all behind `authenticate`.
pub(crate) fn organisation(state: &AppState) -> Router<AppState> {
    let mut paths: BTreeMap<String, MethodRouter<AppState>> = BTreeMap::new();
    for Operation { path, scope, one_of, handler, .. } in operations() {
        let handler = match one_of {
            Some(scopes) => handler.route_layer(axum::middleware::from_fn_with_state(scopes, require_one_of)),
            None => handler,
        };
        // The last layer runs first: the operation's own scope before any other.
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
