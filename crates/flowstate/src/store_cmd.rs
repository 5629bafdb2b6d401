//! `flowstate org create`, `flowstate sync apply` and `flowstate export`.

use std::{
    collections::BTreeMap,
    io::{BufRead, Write},
};

use anyhow::Context as _;
use flowstate_api::vault::Vault;
use flowstate_store::{
    IncomingRecord, OrgId, PageOutcome, PoolSettings, Store, integrations::SealedSecret, is_postgres_url, keys::Scope,
};
use flowstate_sync::{NestedKind, RecordError, nested::NestedCounts};
use serde_json::{Value, json};

use crate::{
    Outcome, UsageError,
    cli::{
        DbArgs, ExportArgs, ForecastArgs, KeyCreateArgs, KeyRevokeArgs, OrgCreateArgs, RotateKeyArgs, SyncApplyArgs,
    },
};

/// Records per page when applying a file, as a PULL page would bring them.
const PAGE_SIZE: usize = 1000;

pub(crate) fn open(db: &DbArgs) -> anyhow::Result<Store> {
    open_with(db, PoolSettings::default())
}

/// [`open`] with connection settings.
pub(crate) fn open_with(db: &DbArgs, pool: PoolSettings) -> anyhow::Result<Store> {
    if is_postgres_url(&db.db) {
        // The store's error names the server without the password.
        return Ok(Store::open_with(&db.db, pool)?);
    }
    let path = db.db.strip_prefix("sqlite://").or_else(|| db.db.strip_prefix("sqlite:")).unwrap_or(&db.db);
    Store::open_with(path, pool).with_context(|| format!("opening {path}"))
}

pub fn org_create(args: OrgCreateArgs) -> Result<Outcome, UsageError> {
    let store = open(&args.db)?;
    let org = store.create_org(&args.name, &args.timezone, &args.currency)?;
    println!("{org}");
    Ok(Outcome::Succeeded)
}

pub fn key_create(args: KeyCreateArgs) -> Result<Outcome, UsageError> {
    let store = open(&args.db)?;
    let scopes: Vec<Scope> = if args.scopes.iter().any(|scope| scope == "all") {
        Scope::ALL.to_vec()
    } else {
        args.scopes
            .iter()
            .map(|scope| scope.parse::<Scope>().with_context(|| format!("--scope {scope:?} is not a scope (or all)")))
            .collect::<anyhow::Result<_>>()?
    };
    let created = store.create_api_key(&OrgId::new(args.org), &args.name, &scopes)?;
    println!("{}", created.token);
    Ok(Outcome::Succeeded)
}

pub fn key_revoke(args: KeyRevokeArgs) -> Result<Outcome, UsageError> {
    let store = open(&args.db)?;
    // The whole key works too.
    let id = flowstate_store::keys::key_id(&args.id);
    if store.revoke_api_key(&OrgId::new(&args.org), id)? {
        println!("revoked {id}");
        Ok(Outcome::Succeeded)
    } else {
        Err(UsageError(anyhow::anyhow!("organisation {} has no key {id:?} that is not revoked already", args.org)))
    }
}

pub fn rotate_key(args: RotateKeyArgs) -> Result<Outcome, UsageError> {
    let store = open(&args.db)?;
    let rotation = crate::master_key::Rotation::begin(&args.master_key_file)?;
    let (old, new) = (Vault::new(rotation.old), Vault::new(rotation.new));
    let resealed = store.reseal_secrets(|integration_id, secret| {
        let value = old.open(integration_id, secret)?;
        Some(SealedSecret { updated_at: secret.updated_at.clone(), ..new.seal(integration_id, &secret.name, &value) })
    });
    match resealed {
        Ok(count) => {
            rotation.commit()?;
            println!("re-sealed {count} secret(s); the new master key is in {}", args.master_key_file.display());
            Ok(Outcome::Succeeded)
        }
        Err(error) => {
            rotation.abandon();
            Err(anyhow::Error::from(error).into())
        }
    }
}

pub fn export(args: ExportArgs) -> Result<Outcome, UsageError> {
    let store = open(&args.db)?;
    let entities = store.export(&OrgId::new(args.org), args.entity)?;
    let mut stdout = std::io::stdout().lock();
    for entity in entities {
        match writeln!(stdout, "{entity}") {
            Ok(()) => {}
            // `flowstate export … | head` is fine.
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => break,
            Err(error) => return Err(anyhow::Error::from(error).context("writing to stdout").into()),
        }
    }
    Ok(Outcome::Succeeded)
}

pub fn forecast(args: ForecastArgs) -> Result<Outcome, UsageError> {
    use flowstate_forecast::{GroupBy, MonthRange};
    let range = MonthRange::parse(&args.from, &args.to)
        .map_err(|error| anyhow::anyhow!("--{}: {}", error.parameter, error.message))?;
    let group_by = if args.group_by == "project" { GroupBy::Project } else { GroupBy::Team };
    let store = open(&args.db)?;
    let org = OrgId::new(args.org);
    let forecast = store.forecast(&org, range, group_by, args.team.as_deref(), flowstate_forecast::Detail::Totals)?;
    let text =
        if args.json { format!("{}\n", flowstate_api::forecast::render(&forecast)) } else { forecast_table(&forecast) };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()) {
        Ok(()) => Ok(Outcome::Succeeded),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(Outcome::Succeeded),
        Err(error) => Err(anyhow::Error::from(error).context("writing to stdout").into()),
    }
}

/// Groups as rows (teams indented under their parents), months as columns, a total row.
fn forecast_table(forecast: &flowstate_forecast::Forecast) -> String {
    let depth = |group: &flowstate_forecast::Group| {
        let mut depth = 0;
        let mut parent = group.parent_id.clone();
        while let Some(id) = parent {
            depth += 1;
            parent = forecast
                .groups
                .iter()
                .find(|other| other.id.as_deref() == Some(id.as_str()))
                .and_then(|other| other.parent_id.clone());
            if depth > forecast.groups.len() {
                break;
            }
        }
        depth
    };
    let mut rows: Vec<(String, Vec<String>)> = forecast
        .groups
        .iter()
        .map(|group| {
            (
                format!("{}{}", "  ".repeat(depth(group)), group.name),
                group.total.iter().map(ToString::to_string).collect(),
            )
        })
        .collect();
    rows.push((format!("Total ({})", forecast.currency), forecast.total.iter().map(ToString::to_string).collect()));
    let months: Vec<String> = forecast.months.iter().map(ToString::to_string).collect();
    let name_width = rows.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0).max(5);
    let widths: Vec<usize> = (0..months.len())
        .map(|column| {
            rows.iter().map(|(_, amounts)| amounts[column].len()).chain([months[column].len()]).max().unwrap_or(0)
        })
        .collect();
    let line = |name: &str, cells: &[String]| {
        let cells: Vec<String> = cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:>width$}")).collect();
        format!("{name:<name_width$}  {}\n", cells.join("  "))
    };
    let mut table =
        line(if forecast.group_by == flowstate_forecast::GroupBy::Team { "Team" } else { "Project" }, &months);
    for (name, amounts) in &rows {
        table.push_str(&line(name, amounts));
    }
    for missing in &forecast.not_costed {
        let months: Vec<String> = missing.months.iter().map(ToString::to_string).collect();
        table.push_str(&format!(
            "not costed: {} {} ({}): {} in {}\n",
            missing.resource_type.as_str(),
            missing.external_id.as_deref().unwrap_or(&missing.id),
            missing.id,
            missing.reason,
            months.join(", ")
        ));
    }
    table
}

/// One line of the file: a record, or why it is not one.
fn parse_line(number: usize, line: &str) -> Result<IncomingRecord, RecordError> {
    // Without a readable externalId the line number is the only name the record has.
    let unnamed = |field: Option<&str>, message: String| RecordError {
        external_id: format!("line {number}"),
        field: field.map(str::to_string),
        message,
    };
    let value: Value = serde_json::from_str(line).map_err(|error| unnamed(None, format!("not JSON: {error}")))?;
    // The same rule as a hook's records: a non-empty string, or a number as its text.
    let external_id = flowstate_runtime::ExternalId::parse(value.get("externalId").unwrap_or(&Value::Null))
        .map_err(|problem| unnamed(Some("externalId"), format!("externalId {problem}")))?
        .as_str()
        .to_string();
    match value.get("data") {
        Some(Value::Object(data)) => Ok(IncomingRecord { external_id, data: data.clone() }),
        _ => Err(RecordError {
            external_id,
            field: Some("data".into()),
            message: format!("line {number}: data must be an object"),
        }),
    }
}

pub fn sync_apply(args: SyncApplyArgs) -> Result<Outcome, UsageError> {
    let store = open(&args.target.db)?;
    let org = OrgId::new(args.target.org.clone());
    let file = std::fs::File::open(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let mut total = PageOutcome::default();
    let mut page = Vec::with_capacity(PAGE_SIZE);
    let mut pages = 0;
    let mut apply = |page: &mut Vec<IncomingRecord>, total: &mut PageOutcome| -> anyhow::Result<()> {
        let outcome = store.apply_page(&org, &args.target.source, args.target.entity, page)?;
        pages += 1;
        eprintln!(
            "page {pages}: {} records: {} created, {} updated, {} unchanged, {} deleted, {} errors",
            page.len(),
            outcome.created,
            outcome.updated,
            outcome.unchanged,
            outcome.deleted,
            outcome.errors.len()
        );
        total.absorb(outcome);
        page.clear();
        Ok(())
    };
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", args.file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(index + 1, &line) {
            Ok(record) => page.push(record),
            Err(error) => total.errors.push(error),
        }
        if page.len() == PAGE_SIZE {
            apply(&mut page, &mut total)?;
        }
    }
    if !page.is_empty() {
        apply(&mut page, &mut total)?;
    }
    report(&total, args.json);
    Ok(if total.errors.is_empty() { Outcome::Succeeded } else { Outcome::Failed })
}

fn report(outcome: &PageOutcome, as_json: bool) {
    let nested: BTreeMap<&str, NestedCounts> = NestedKind::ALL
        .iter()
        .map(|kind| (kind.key(), outcome.nested.get(kind).copied().unwrap_or_default()))
        .collect();
    if as_json {
        let value = json!({
            "created": outcome.created, "updated": outcome.updated, "unchanged": outcome.unchanged, "deleted": outcome.deleted,
            "nested": nested,
            "errors": outcome.errors.iter().map(|error| json!({ "externalId": error.external_id, "field": error.field, "message": error.message })).collect::<Vec<_>>(),
        });
        println!("{value}");
        return;
    }
    println!(
        "created {}, updated {}, unchanged {}, deleted {}",
        outcome.created, outcome.updated, outcome.unchanged, outcome.deleted
    );
    for (kind, counts) in nested.iter().filter(|(_, counts)| **counts != NestedCounts::default()) {
        println!(
            "  {kind}: created {}, updated {}, deleted {}, unchanged {}",
            counts.created, counts.updated, counts.deleted, counts.unchanged
        );
    }
    if !outcome.errors.is_empty() {
        println!("{} record(s) failed:", outcome.errors.len());
        for error in &outcome.errors {
            println!("  {}: {}", error.external_id, error.message);
        }
    }
}
