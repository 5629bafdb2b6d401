//! A second, independent client: types written by hand against the OpenAPI document (not
//! shared with the server's), every answer decoded strictly (`deny_unknown_fields`, dates and
//! times parsed), round-tripping each resource: create, read, list, change, delete. A field
//! the server adds, drops, renames or formats differently from the document fails here.

// Every field is declared so that `deny_unknown_fields` can refuse one the document does not
// have; not every field is read.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::Method;
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Map, Value, json};

use crate::app::TestApp;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Single<T> {
    data: T,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListMeta {
    page: u64,
    limit: u64,
    total: u64,
    has_next_page: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct List<T> {
    data: Vec<T>,
    meta: ListMeta,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Integration {
    id: String,
    name: String,
    description: Option<String>,
    source_system: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SecretInfo {
    name: String,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RetryPolicy {
    max_attempts: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Hook {
    id: String,
    integration_id: String,
    name: String,
    #[serde(rename = "type")]
    hook_type: String,
    entity_type: String,
    event_types: Vec<String>,
    language: String,
    code: String,
    enabled: bool,
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default)]
    preferred_hour: Option<u8>,
    #[serde(default)]
    retry_policy: Option<RetryPolicy>,
    next_run_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Execution {
    id: String,
    hook_id: String,
    status: String,
    trigger: String,
    started_at: DateTime<Utc>,
    #[serde(default)]
    finished_at: Option<DateTime<Utc>>,
    pages: Vec<Value>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    record: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct JobRole {
    id: String,
    #[serde(default)]
    external_id: Option<String>,
    title: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WorkType {
    id: String,
    name: String,
    #[serde(default)]
    external_id: Option<String>,
    overhead_percentage: f64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExchangeRate {
    id: String,
    from_currency: String,
    to_currency: String,
    rate: f64,
    effective_date: NaiveDate,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AttributeDefinition {
    id: String,
    name: String,
    attribute_key: String,
    field_type: String,
    entity_types: Vec<String>,
    is_required: bool,
    is_active: bool,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TeamAllocation {
    team_id: Option<String>,
    team_name: Option<String>,
    fte: f64,
    start_date: NaiveDate,
    end_date: Option<NaiveDate>,
    source_system: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProjectAllocation {
    project_id: Option<String>,
    project_name: Option<String>,
    fte: f64,
    start_date: NaiveDate,
    end_date: Option<NaiveDate>,
    source_system: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SalaryAdjustment {
    effective_date: NaiveDate,
    salary: f64,
    bonus: Option<f64>,
    currency_code: String,
    reason: Option<String>,
    source_system: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RateAdjustment {
    effective_date: NaiveDate,
    rate: f64,
    rate_type: String,
    currency_code: String,
    reason: Option<String>,
    source_system: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Employee {
    id: String,
    external_id: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    #[serde(default)]
    internal_employee_id: Option<String>,
    #[serde(default)]
    start_date: Option<NaiveDate>,
    #[serde(default)]
    end_date: Option<NaiveDate>,
    #[serde(default)]
    notice_date: Option<NaiveDate>,
    #[serde(default)]
    job_role: Option<Value>,
    #[serde(default)]
    default_currency_code: Option<String>,
    #[serde(default)]
    work_type: Option<String>,
    custom_attributes: Map<String, Value>,
    team_allocations: Vec<TeamAllocation>,
    project_allocations: Vec<ProjectAllocation>,
    salary_adjustments: Vec<SalaryAdjustment>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Contractor {
    id: String,
    external_id: Option<String>,
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    contractor_type: Option<String>,
    #[serde(default)]
    company_external_id: Option<String>,
    #[serde(default)]
    start_date: Option<NaiveDate>,
    #[serde(default)]
    end_date: Option<NaiveDate>,
    #[serde(default)]
    rate_type: Option<String>,
    #[serde(default)]
    rate: Option<f64>,
    #[serde(default)]
    currency_code: Option<String>,
    custom_attributes: Map<String, Value>,
    team_allocations: Vec<TeamAllocation>,
    project_allocations: Vec<ProjectAllocation>,
    rate_adjustments: Vec<RateAdjustment>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Filler {
    #[serde(rename = "type")]
    filler_type: String,
    id: String,
    external_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Vacancy {
    id: String,
    external_id: Option<String>,
    role: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    fte: Option<f64>,
    #[serde(default)]
    target_start_date: Option<NaiveDate>,
    #[serde(default)]
    target_fill_date: Option<NaiveDate>,
    #[serde(default)]
    salary_min: Option<f64>,
    #[serde(default)]
    salary_max: Option<f64>,
    #[serde(default)]
    currency_code: Option<String>,
    #[serde(default)]
    job_role: Option<Value>,
    #[serde(default)]
    work_type: Option<String>,
    filled_by: Option<Filler>,
    is_filled: bool,
    custom_attributes: Map<String, Value>,
    team_allocations: Vec<TeamAllocation>,
    project_allocations: Vec<ProjectAllocation>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Team {
    id: String,
    external_id: Option<String>,
    name: Option<String>,
    #[serde(default)]
    team_type: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parent_team_external_id: Option<String>,
    custom_attributes: Map<String, Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Project {
    id: String,
    external_id: Option<String>,
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    project_code: Option<String>,
    #[serde(default)]
    start_date: Option<NaiveDate>,
    #[serde(default)]
    end_date: Option<NaiveDate>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    priority: Option<i64>,
    #[serde(default)]
    estimated_cost: Option<f64>,
    custom_attributes: Map<String, Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Assignment {
    id: String,
    external_id: Option<String>,
    resource_type: String,
    resource_id: String,
    resource_external_id: Option<String>,
    target_type: String,
    target_id: String,
    target_external_id: Option<String>,
    fte: f64,
    start_date: NaiveDate,
    end_date: Option<NaiveDate>,
    source_system: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilledByEmployee {
    vacancy: Vacancy,
    employee: Employee,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ForecastLine {
    resource_type: String,
    id: String,
    external_id: Option<String>,
    name: String,
    amounts: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ForecastGroup {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    name: String,
    #[serde(default)]
    parent_id: Option<String>,
    total: Vec<String>,
    own: Vec<String>,
    #[serde(default)]
    lines: Option<Vec<ForecastLine>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NotCosted {
    resource_type: String,
    id: String,
    #[serde(default)]
    external_id: Option<String>,
    reason: String,
    months: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Forecast {
    currency: String,
    group_by: String,
    months: Vec<String>,
    total: Vec<String>,
    groups: Vec<ForecastGroup>,
    not_costed: Vec<NotCosted>,
}

/// `method path` answering `status`, decoded as `T`.
async fn expect<T: DeserializeOwned>(app: &TestApp, method: Method, path: &str, body: Option<Value>, status: u16) -> T {
    let (got, answer) = app.send(method.clone(), path, body).await;
    assert_eq!(got, status, "{method} {path}: {answer}");
    match serde_json::from_value(answer.clone()) {
        Ok(decoded) => decoded,
        Err(error) => panic!("{method} {path}: the answer is not as documented ({error}): {answer}"),
    }
}

async fn deleted(app: &TestApp, path: &str) {
    let (status, answer) = app.send(Method::DELETE, path, None).await;
    assert_eq!(status, 204, "DELETE {path}: {answer}");
    let (status, _) = app.send(Method::GET, path, None).await;
    assert!(status == 404 || status == 405, "GET {path} after its deletion: {status}");
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_written_against_the_document_round_trips_each_resource() {
    let app = TestApp::spawn().await;
    let document = app.document().await;
    assert_eq!(document["openapi"], "3.1.0");

    // Integrations, secrets, hooks, runs and executions.
    let integration: Single<Integration> = expect(
        &app,
        Method::POST,
        "/integrations",
        Some(json!({ "name": "HR", "sourceSystem": "hr", "description": "the HR system" })),
        201,
    )
    .await;
    let integration = integration.data;
    assert_eq!((integration.name.as_str(), integration.source_system.as_str()), ("HR", "hr"));
    assert_eq!(integration.description.as_deref(), Some("the HR system"));
    assert!(integration.updated_at >= integration.created_at);
    let path = format!("/integrations/{}", integration.id);
    let changed: Single<Integration> =
        expect(&app, Method::PATCH, &path, Some(json!({ "name": "HR 2", "description": null })), 200).await;
    assert_eq!((changed.data.name.as_str(), changed.data.description), ("HR 2", None));
    let listed: List<Integration> = expect(&app, Method::GET, "/integrations", None, 200).await;
    assert_eq!((listed.data.len(), listed.meta.total, listed.meta.has_next_page), (1, 1, false));
    let secret: Single<SecretInfo> =
        expect(&app, Method::PUT, &format!("{path}/secrets/token"), Some(json!({ "value": "s3cret-value" })), 200)
            .await;
    assert_eq!(secret.data.name, "token");
    assert!(secret.data.updated_at <= Utc::now());
    let secrets: List<SecretInfo> = expect(&app, Method::GET, &format!("{path}/secrets"), None, 200).await;
    assert_eq!(secrets.data.len(), 1);
    let code = "async function run(ctx) { return { records: [] }; }";
    let hook: Single<Hook> = expect(
        &app,
        Method::POST,
        &format!("{path}/hooks"),
        Some(json!({ "name": "people", "type": "PULL", "entityType": "employee", "code": code, "schedule": "24h", "preferredHour": 6 })),
        201,
    )
    .await;
    let hook = hook.data;
    assert_eq!(
        (hook.hook_type.as_str(), hook.entity_type.as_str(), hook.integration_id.as_str()),
        ("PULL", "employee", integration.id.as_str())
    );
    assert_eq!(
        (hook.schedule.as_deref(), hook.preferred_hour, hook.enabled, hook.code.as_str()),
        (Some("24h"), Some(6), true, code)
    );
    assert!(hook.event_types.is_empty() && hook.retry_policy.is_none() && hook.name == "people");
    assert!(hook.updated_at >= hook.created_at);
    let hook_path = format!("/hooks/{}", hook.id);
    let changed: Single<Hook> =
        expect(&app, Method::PATCH, &hook_path, Some(json!({ "schedule": null, "name": "staff" })), 200).await;
    assert_eq!((changed.data.schedule, changed.data.name.as_str()), (None, "staff"));
    let hooks: List<Hook> = expect(&app, Method::GET, &format!("{path}/hooks"), None, 200).await;
    assert_eq!(hooks.data.len(), 1);
    let run: Single<Execution> = expect(&app, Method::POST, &format!("{hook_path}/run"), None, 202).await;
    let run = run.data;
    assert_eq!(
        (run.status.as_str(), run.trigger.as_str(), run.hook_id.as_str()),
        ("queued", "manual", hook.id.as_str())
    );
    assert!(run.finished_at.is_none() && run.error.is_none() && run.event_id.is_none() && run.pages.is_empty());
    assert!(run.record.is_none() && run.started_at <= Utc::now());
    let got: Single<Execution> = expect(&app, Method::GET, &format!("/executions/{}", run.id), None, 200).await;
    assert_eq!(got.data.id, run.id);
    let executions: List<Execution> = expect(&app, Method::GET, &format!("{hook_path}/executions"), None, 200).await;
    assert_eq!((executions.data.len(), executions.meta.page, executions.meta.limit), (1, 1, 50));

    // Reference data.
    let role: Single<JobRole> =
        expect(&app, Method::POST, "/job-roles", Some(json!({ "title": "Engineer", "externalId": "JR-1" })), 201).await;
    assert_eq!((role.data.title.as_str(), role.data.external_id.as_deref()), ("Engineer", Some("JR-1")));
    assert!(role.data.updated_at >= role.data.created_at && !role.data.id.is_empty());
    let roles: List<JobRole> = expect(&app, Method::GET, "/job-roles", None, 200).await;
    assert_eq!(roles.data.len(), 1);
    let work_type: Single<WorkType> = expect(
        &app,
        Method::POST,
        "/work-types",
        Some(json!({ "name": "Engineering", "overheadPercentage": 20, "externalId": "WT-1" })),
        201,
    )
    .await;
    let work_type = work_type.data;
    assert_eq!((work_type.overhead_percentage, work_type.external_id.as_deref()), (20.0, Some("WT-1")));
    assert!(work_type.updated_at >= work_type.created_at);
    let changed: Single<WorkType> = expect(
        &app,
        Method::PATCH,
        &format!("/work-types/{}", work_type.id),
        Some(json!({ "overheadPercentage": 25, "externalId": null })),
        200,
    )
    .await;
    assert_eq!(
        (changed.data.overhead_percentage, changed.data.external_id, changed.data.name.as_str()),
        (25.0, None, "Engineering")
    );
    let types: List<WorkType> = expect(&app, Method::GET, "/work-types", None, 200).await;
    assert_eq!(types.data.len(), 1);
    let rate: Single<ExchangeRate> = expect(
        &app,
        Method::POST,
        "/exchange-rates",
        Some(json!({ "fromCurrency": "EUR", "toCurrency": "GBP", "rate": 0.86, "effectiveDate": "2026-01-01" })),
        201,
    )
    .await;
    let rate = rate.data;
    assert_eq!((rate.from_currency.as_str(), rate.to_currency.as_str(), rate.rate), ("EUR", "GBP", 0.86));
    assert_eq!(rate.effective_date, date("2026-01-01"));
    assert!(rate.updated_at >= rate.created_at);
    let rates: List<ExchangeRate> = expect(&app, Method::GET, "/exchange-rates", None, 200).await;
    assert_eq!(rates.data.len(), 1);
    let definition: Single<AttributeDefinition> = expect(
        &app,
        Method::POST,
        "/custom-attribute-definitions",
        Some(json!({ "name": "Cost Centre", "fieldType": "STRING", "entityTypes": ["EMPLOYEE", "TEAM"] })),
        201,
    )
    .await;
    let definition = definition.data;
    assert_eq!((definition.attribute_key.as_str(), definition.field_type.as_str()), ("cost_centre", "STRING"));
    assert_eq!(definition.entity_types, ["EMPLOYEE", "TEAM"]);
    assert!(definition.is_active && !definition.is_required && definition.name == "Cost Centre");
    assert!(definition.created_at <= Utc::now() && !definition.id.is_empty());
    let definitions: List<AttributeDefinition> =
        expect(&app, Method::GET, "/custom-attribute-definitions", None, 200).await;
    assert_eq!(definitions.data.len(), 1);

    // Teams and projects.
    let top: Single<Team> =
        expect(&app, Method::POST, "/teams", Some(json!({ "externalId": "T-1", "name": "Product" })), 201).await;
    let team: Single<Team> = expect(
        &app,
        Method::POST,
        "/teams",
        Some(json!({ "externalId": "T-2", "name": "Platform", "teamType": "squad", "parentTeamExternalId": "T-1", "customAttributes": { "cost_centre": "CC-1" } })),
        201,
    )
    .await;
    let team = team.data;
    assert_eq!((team.parent_team_external_id.as_deref(), team.team_type.as_deref()), (Some("T-1"), Some("squad")));
    assert_eq!(team.custom_attributes["cost_centre"], "CC-1");
    assert!(team.description.is_none() && top.data.parent_team_external_id.is_none());
    let changed: Single<Team> =
        expect(&app, Method::PATCH, "/teams/T-2", Some(json!({ "description": "Runs the platform" })), 200).await;
    assert_eq!(
        (changed.data.description.as_deref(), changed.data.name.as_deref()),
        (Some("Runs the platform"), Some("Platform"))
    );
    assert!(changed.data.updated_at >= team.updated_at && changed.data.id == team.id);
    let teams: List<Team> = expect(&app, Method::GET, "/teams", None, 200).await;
    assert_eq!(teams.data.len(), 2);
    let project: Single<Project> = expect(
        &app,
        Method::POST,
        "/projects",
        Some(json!({ "externalId": "P-1", "name": "Apollo", "status": "active", "estimatedCost": 1000.5, "startDate": "2026-01-01" })),
        201,
    )
    .await;
    let project = project.data;
    assert_eq!(
        (project.status.as_deref(), project.priority, project.estimated_cost),
        (Some("active"), Some(0), Some(1000.5))
    );
    assert_eq!((project.start_date, project.end_date), (Some(date("2026-01-01")), None));
    assert!(project.description.is_none() && project.project_code.is_none() && project.custom_attributes.is_empty());
    let changed: Single<Project> =
        expect(&app, Method::PATCH, "/projects/P-1", Some(json!({ "priority": 2, "projectCode": "AP" })), 200).await;
    assert_eq!((changed.data.priority, changed.data.project_code.as_deref()), (Some(2), Some("AP")));
    let got: Single<Project> = expect(&app, Method::GET, &format!("/projects/{}", project.id), None, 200).await;
    assert_eq!((got.data.external_id.as_deref(), got.data.name.as_deref()), (Some("P-1"), Some("Apollo")));

    // Employees, their salary history, and contractors with theirs.
    let employee: Single<Employee> = expect(
        &app,
        Method::POST,
        "/employees",
        Some(json!({
            "externalId": "E-1", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com",
            "startDate": "2026-01-01", "jobRole": { "title": "Engineer", "externalId": "JR-1" }, "workType": "Engineering",
            "defaultCurrencyCode": "GBP", "customAttributes": { "cost_centre": "CC-7" },
            "teamAllocations": [{ "teamId": "T-2", "fte": 0.5, "startDate": "2026-01-01" }],
            "projectAllocations": [{ "projectId": "P-1", "fte": 0.5, "startDate": "2026-01-01", "endDate": "2026-12-31" }],
            "salaryAdjustments": [{ "effectiveDate": "2026-01-01", "salary": 90000, "bonus": 5000, "currencyCode": "GBP", "reason": "hired" }],
        })),
        201,
    )
    .await;
    let employee = employee.data;
    assert_eq!((employee.first_name.as_deref(), employee.email.as_deref()), (Some("Ada"), Some("ada@example.com")));
    assert_eq!(employee.job_role, Some(json!({ "title": "Engineer", "externalId": "JR-1" })));
    assert_eq!(
        (employee.work_type.as_deref(), employee.default_currency_code.as_deref()),
        (Some("Engineering"), Some("GBP"))
    );
    assert_eq!(employee.custom_attributes["cost_centre"], "CC-7");
    assert!(employee.internal_employee_id.is_none() && employee.end_date.is_none() && employee.notice_date.is_none());
    let team_row = &employee.team_allocations[0];
    assert_eq!(
        (team_row.team_id.as_deref(), team_row.team_name.as_deref(), team_row.fte),
        (Some("T-2"), Some("Platform"), 0.5)
    );
    assert_eq!(
        (team_row.start_date, team_row.end_date, team_row.source_system.as_deref()),
        (date("2026-01-01"), None, None)
    );
    let project_row = &employee.project_allocations[0];
    assert_eq!((project_row.project_id.as_deref(), project_row.project_name.as_deref()), (Some("P-1"), Some("Apollo")));
    assert_eq!(
        (project_row.fte, project_row.start_date, project_row.end_date),
        (0.5, date("2026-01-01"), Some(date("2026-12-31")))
    );
    assert!(project_row.source_system.is_none());
    let salary = &employee.salary_adjustments[0];
    assert_eq!((salary.effective_date, salary.salary, salary.bonus), (date("2026-01-01"), 90000.0, Some(5000.0)));
    assert_eq!(
        (salary.currency_code.as_str(), salary.reason.as_deref(), salary.source_system.as_deref()),
        ("GBP", Some("hired"), None)
    );
    assert_eq!(employee.start_date, Some(date("2026-01-01")));
    let changed: Single<Employee> = expect(
        &app,
        Method::PATCH,
        "/employees/E-1",
        Some(json!({ "lastName": "King", "noticeDate": "2026-06-01", "internalEmployeeId": "0042" })),
        200,
    )
    .await;
    assert_eq!((changed.data.last_name.as_deref(), changed.data.notice_date), (Some("King"), Some(date("2026-06-01"))));
    assert_eq!(changed.data.internal_employee_id.as_deref(), Some("0042"));
    let with_raise: Single<Employee> = expect(
        &app,
        Method::POST,
        "/employees/E-1/salary-adjustments",
        Some(json!({ "effectiveDate": "2026-07-01", "salary": 95000, "currencyCode": "GBP" })),
        201,
    )
    .await;
    assert_eq!(with_raise.data.salary_adjustments.len(), 2);
    let history: List<SalaryAdjustment> =
        expect(&app, Method::GET, &format!("/employees/{}/salary-adjustments", employee.id), None, 200).await;
    let amounts: Vec<f64> = history.data.iter().map(|row| row.salary).collect();
    assert_eq!(amounts, [90000.0, 95000.0]);
    let employees: List<Employee> = expect(&app, Method::GET, "/employees?sortBy=lastName&limit=10", None, 200).await;
    assert_eq!((employees.data.len(), employees.meta.limit), (1, 10));

    let contractor: Single<Contractor> = expect(
        &app,
        Method::POST,
        "/contractors",
        Some(json!({
            "externalId": "C-1", "name": "Grace", "email": "grace@example.com", "contractorType": "agency",
            "rateType": "daily", "rate": 500, "currencyCode": "EUR", "startDate": "2026-02-01",
            "rateAdjustments": [{ "effectiveDate": "2026-02-01", "rateType": "daily", "rate": 500, "currencyCode": "EUR" }],
        })),
        201,
    )
    .await;
    let contractor = contractor.data;
    assert_eq!(
        (contractor.rate_type.as_deref(), contractor.rate, contractor.currency_code.as_deref()),
        (Some("daily"), Some(500.0), Some("EUR"))
    );
    assert_eq!(
        (contractor.contractor_type.as_deref(), contractor.email.as_deref()),
        (Some("agency"), Some("grace@example.com"))
    );
    assert!(
        contractor.company_external_id.is_none()
            && contractor.end_date.is_none()
            && contractor.team_allocations.is_empty()
    );
    assert!(contractor.project_allocations.is_empty() && contractor.custom_attributes.is_empty());
    assert_eq!(contractor.start_date, Some(date("2026-02-01")));
    let raised: Single<Contractor> = expect(
        &app,
        Method::POST,
        "/contractors/C-1/rate-adjustments",
        Some(json!({ "effectiveDate": "2026-08-01", "rateType": "daily", "rate": 550, "currencyCode": "EUR", "reason": "renewal" })),
        201,
    )
    .await;
    let latest = raised.data.rate_adjustments.last().unwrap();
    assert_eq!((latest.rate, latest.rate_type.as_str(), latest.reason.as_deref()), (550.0, "daily", Some("renewal")));
    assert_eq!(
        (latest.effective_date, latest.currency_code.as_str(), latest.source_system.as_deref()),
        (date("2026-08-01"), "EUR", None)
    );
    let history: List<RateAdjustment> = expect(&app, Method::GET, "/contractors/C-1/rate-adjustments", None, 200).await;
    assert_eq!(history.data.len(), 2);
    let changed: Single<Contractor> =
        expect(&app, Method::PATCH, "/contractors/C-1", Some(json!({ "endDate": "2026-12-31" })), 200).await;
    assert_eq!((changed.data.end_date, changed.data.name.as_deref()), (Some(date("2026-12-31")), Some("Grace")));

    // Vacancies and the fill.
    let vacancy: Single<Vacancy> = expect(
        &app,
        Method::POST,
        "/vacancies",
        Some(json!({
            "externalId": "V-1", "role": "Engineer", "salaryMin": 60000, "salaryMax": 80000, "currencyCode": "GBP",
            "targetStartDate": "2026-03-01", "teamAllocations": [{ "teamId": "T-2", "fte": 1, "startDate": "2026-03-01" }],
        })),
        201,
    )
    .await;
    let vacancy = vacancy.data;
    assert_eq!((vacancy.status.as_deref(), vacancy.fte, vacancy.is_filled), (Some("open"), Some(1.0), false));
    assert_eq!(
        (vacancy.salary_min, vacancy.salary_max, vacancy.target_start_date),
        (Some(60000.0), Some(80000.0), Some(date("2026-03-01")))
    );
    assert!(vacancy.filled_by.is_none() && vacancy.description.is_none() && vacancy.target_fill_date.is_none());
    assert!(vacancy.job_role.is_none() && vacancy.work_type.is_none() && vacancy.custom_attributes.is_empty());
    assert!(vacancy.project_allocations.is_empty() && vacancy.team_allocations.len() == 1);
    assert_eq!((vacancy.role.as_deref(), vacancy.currency_code.as_deref()), (Some("Engineer"), Some("GBP")));
    let changed: Single<Vacancy> =
        expect(&app, Method::PATCH, "/vacancies/V-1", Some(json!({ "description": "Backend" })), 200).await;
    assert_eq!(changed.data.description.as_deref(), Some("Backend"));
    let filled: Single<FilledByEmployee> = expect(
        &app,
        Method::POST,
        "/vacancies/V-1/fill",
        Some(json!({ "externalId": "E-2", "firstName": "Alan", "lastName": "Turing", "email": "alan@example.com", "startDate": "2026-04-01",
            "salary": { "effectiveDate": "2026-04-01", "salary": 70000, "currencyCode": "GBP" } })),
        201,
    )
    .await;
    let FilledByEmployee { vacancy: filled_vacancy, employee: filler } = filled.data;
    let by = filled_vacancy.filled_by.expect("filled");
    assert_eq!(
        (by.filler_type.as_str(), by.id.as_str(), by.external_id.as_deref()),
        ("employee", filler.id.as_str(), Some("E-2"))
    );
    assert!(filled_vacancy.is_filled && filler.team_allocations.len() == 1);
    assert_eq!(filled_vacancy.status.as_deref(), Some("filled"));
    let vacancies: List<Vacancy> = expect(&app, Method::GET, "/vacancies?excludeFilled=false", None, 200).await;
    assert_eq!(vacancies.data.len(), 1);

    // Assignments.
    let assignment: Single<Assignment> = expect(
        &app,
        Method::POST,
        "/assignments",
        Some(
            json!({ "externalId": "A-1", "resourceType": "team", "resourceExternalId": "T-2", "targetType": "project",
            "targetExternalId": "P-1", "fte": 1, "startDate": "2026-01-01" }),
        ),
        201,
    )
    .await;
    let assignment = assignment.data;
    assert_eq!((assignment.resource_type.as_str(), assignment.resource_external_id.as_deref()), ("team", Some("T-2")));
    assert_eq!((assignment.target_type.as_str(), assignment.target_id.as_str()), ("project", project.id.as_str()));
    assert_eq!(
        (assignment.resource_id.as_str(), assignment.target_external_id.as_deref()),
        (team.id.as_str(), Some("P-1"))
    );
    assert_eq!((assignment.fte, assignment.start_date, assignment.end_date), (1.0, date("2026-01-01"), None));
    assert_eq!((assignment.external_id.as_deref(), assignment.source_system.as_deref()), (Some("A-1"), None));
    assert!(assignment.updated_at >= assignment.created_at);
    let changed: Single<Assignment> =
        expect(&app, Method::PATCH, "/assignments/A-1", Some(json!({ "endDate": "2026-06-30" })), 200).await;
    assert_eq!(changed.data.end_date, Some(date("2026-06-30")));
    // Resources' nested allocations are assignments too (without an externalId).
    let assignments: List<Assignment> = expect(&app, Method::GET, "/assignments", None, 200).await;
    let named: Vec<Option<&str>> = assignments.data.iter().map(|row| row.external_id.as_deref()).collect();
    assert_eq!(named, [Some("A-1"), None, None, None]);

    // The forecast over all of it.
    let forecast: Single<Forecast> =
        expect(&app, Method::GET, "/forecast?from=2026-01&to=2026-03&lines=true", None, 200).await;
    let forecast = forecast.data;
    assert_eq!((forecast.currency.as_str(), forecast.group_by.as_str()), ("GBP", "team"));
    assert_eq!(forecast.months, ["2026-01", "2026-02", "2026-03"]);
    assert_eq!(forecast.total.len(), 3);
    let platform = forecast.groups.iter().find(|group| group.external_id.as_deref() == Some("T-2")).expect("the team");
    assert_eq!((platform.name.as_str(), platform.parent_id.as_deref()), ("Platform", top.data.id.as_str().into()));
    assert!(platform.id.is_some() && platform.own.len() == 3 && platform.total.len() == 3);
    let lines = platform.lines.as_ref().expect("lines");
    assert!(
        lines.iter().any(|line| line.resource_type == "employee" && line.id == employee.id && line.name == "Ada King"),
        "{lines:?}"
    );
    assert!(lines.iter().all(|line| line.amounts.len() == 3 && line.external_id.is_some()));
    assert!(
        forecast.not_costed.iter().all(|missing| !missing.id.is_empty() && !missing.reason.is_empty()),
        "{:?}",
        forecast.not_costed
    );
    for missing in &forecast.not_costed {
        assert!(missing.months.iter().all(|month| forecast.months.contains(month)) && missing.external_id.is_some());
        assert!(["employee", "contractor", "vacancy"].contains(&missing.resource_type.as_str()));
    }

    // Deletions, each gone after.
    deleted(&app, "/assignments/A-1").await;
    deleted(&app, "/contractors/C-1").await;
    deleted(&app, "/employees/E-1").await;
    deleted(&app, "/vacancies/V-1").await;
    deleted(&app, "/projects/P-1").await;
    deleted(&app, "/teams/T-2").await;
    deleted(&app, &format!("/work-types/{}", work_type.id)).await;
    deleted(&app, &format!("/exchange-rates/{}", rate.id)).await;
    deleted(&app, &format!("{path}/secrets/token")).await;
    deleted(&app, &hook_path).await;
    deleted(&app, &path).await;
}
