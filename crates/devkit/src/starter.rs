//! A new hook's code: the hook guide's examples (page-based pagination for PULL, a change
//! sent on for PUSH), written for the chosen entity, typed for an editor by JSDoc.

use flowstate_sync::EntityType;

use crate::HookKind;

/// The source fields a starter maps, per entity: `(data field, the example API's field)`.
fn mapping(entity: EntityType) -> &'static [(&'static str, &'static str)] {
    match entity {
        EntityType::Employee => &[
            ("firstName", "item.first_name"),
            ("lastName", "item.last_name"),
            ("email", "item.email"),
            ("startDate", "item.start_date"),
            ("endDate", "item.end_date ?? null"),
        ],
        EntityType::Contractor => &[
            ("name", "item.name"),
            ("email", "item.email"),
            ("rateType", "item.rate_type"),
            ("rate", "item.rate"),
            ("currencyCode", "item.currency"),
        ],
        EntityType::Vacancy => &[
            ("role", "item.title"),
            ("targetStartDate", "item.start_date"),
            ("filledByExternalId", "item.filled_by ?? null"),
        ],
        EntityType::Team => &[("name", "item.name"), ("parentTeamExternalId", "item.parent_id ?? null")],
        EntityType::Project => {
            &[("name", "item.name"), ("startDate", "item.start_date"), ("endDate", "item.end_date ?? null")]
        }
        EntityType::Assignment => &[
            ("resourceType", "item.resource_type"),
            ("resourceExternalId", "item.resource_id"),
            ("targetType", "item.target_type"),
            ("targetExternalId", "item.target_id"),
            ("fte", "item.fte"),
            ("startDate", "item.start_date"),
        ],
    }
}

fn plural(entity: EntityType) -> &'static str {
    match entity {
        EntityType::Employee => "employees",
        EntityType::Contractor => "contractors",
        EntityType::Vacancy => "positions",
        EntityType::Team => "teams",
        EntityType::Project => "projects",
        EntityType::Assignment => "assignments",
    }
}

fn data_type(entity: EntityType) -> String {
    let name = entity.as_str();
    format!("{}{}Data", name[..1].to_uppercase(), &name[1..])
}

/// The hook file's text: JavaScript typed by JSDoc (`// @ts-check`), or with `typescript`
/// the same hook in TypeScript (a `.ts` file: its types are blanked before it runs).
pub fn code(kind: HookKind, entity: EntityType, typescript: bool) -> String {
    let javascript = match kind {
        HookKind::Pull => pull(entity),
        HookKind::Push => push(entity),
    };
    if typescript { to_typescript(&javascript) } else { javascript }
}

/// The JSDoc-typed starter as TypeScript: the types move from the comments into the code,
/// the rest stays word for word (one template, two languages).
fn to_typescript(javascript: &str) -> String {
    let mut out = String::new();
    let mut lines = javascript.lines().peekable();
    let mut parameter = None;
    let mut returns = None;
    while let Some(line) = lines.next() {
        if line == "// @ts-check" {
            continue;
        }
        if line == "/**" {
            // A JSDoc block: its @param and @returns become the function's annotations.
            for doc in lines.by_ref() {
                if doc == " */" {
                    break;
                }
                if let Some(rest) = doc.strip_prefix(" * @param {") {
                    parameter = rest.rsplit_once("} ").map(|(kind, _)| kind.to_string());
                } else if let Some(rest) = doc.strip_prefix(" * @returns {") {
                    returns = rest.strip_suffix('}').map(str::to_string);
                }
            }
            continue;
        }
        if line == "async function run(ctx) {" {
            let parameter = parameter.take().unwrap_or_else(|| "unknown".into());
            let returns = returns.take().map(|kind| format!(": {kind}")).unwrap_or_default();
            out.push_str(&format!("async function run(ctx: {parameter}){returns} {{\n"));
            continue;
        }
        if let Some(kind) = line.trim_start().strip_prefix("/** @type {").and_then(|rest| rest.strip_suffix("} */")) {
            // `/** @type {T} */` above a `const name = …;` line: `const name: T = …;`.
            if let Some(next) = lines.next()
                && let Some((head, tail)) = next.split_once(" = ")
            {
                out.push_str(&format!("{head}: {kind} = {tail}\n"));
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn pull(entity: EntityType) -> String {
    let fields: Vec<String> =
        mapping(entity).iter().map(|(field, source)| format!("      {field}: {source}")).collect();
    let plural = plural(entity);
    let data = data_type(entity);
    format!(
        r#"// @ts-check
// A PULL hook: fetches {plural} page by page and returns them as {entity} records.
// Run it: flowstate hook run THIS_FILE --type pull --entity {entity} --secret api_key=…

/**
 * @param {{import('./flowstate').PullContext<{{ page: number }}>}} ctx
 * @returns {{Promise<import('./flowstate').PullResult<import('./flowstate').{data}, {{ page: number }}>>}}
 */
async function run(ctx) {{
  const page = ctx.meta?.page ?? 1;
  const resp = await ctx.http.get('https://api.example.com/{plural}', {{
    headers: {{ Authorization: `Bearer ${{ctx.secrets.api_key}}` }},
    query: {{ page: String(page), per_page: '100' }}
  }});
  if (resp.status !== 200) {{
    throw new Error(`GET /{plural} answered ${{resp.status}}`);
  }}
  /** @type {{any[]}} */
  const items = resp.body.data;
  const records = items.map(item => ({{
    externalId: String(item.id),
    data: {{
{fields}
    }}
  }}));
  ctx.log.info(`Fetched ${{records.length}} {plural}`, {{ page }});
  return {{ records, more: Boolean(resp.body.has_next_page), meta: {{ page: page + 1 }} }};
}}
"#,
        entity = entity.as_str(),
        fields = fields.join(",\n"),
    )
}

fn push(entity: EntityType) -> String {
    let data = data_type(entity);
    format!(
        r#"// @ts-check
// A PUSH hook: runs when a {entity} changes (ctx.event says how) and sends the change on.
// Run it: flowstate hook run THIS_FILE --type push --entity {entity} --event fixtures/event.json --secret api_key=…

/**
 * @param {{import('./flowstate').PushContext<import('./flowstate').{data} & {{ id: string }}>}} ctx
 */
async function run(ctx) {{
  const {{ event }} = ctx;
  ctx.log.info('Sending the change', {{ changeType: event.changeType, id: event.entityId }});
  const resp = await ctx.http.post(
    'https://api.example.com/webhooks/flowstate',
    {{ changeType: event.changeType, before: event.before, after: event.after }},
    {{ headers: {{ Authorization: `Bearer ${{ctx.secrets.api_key}}` }} }}
  );
  if (resp.status >= 300) {{
    throw new Error(`The receiver answered ${{resp.status}}`);
  }}
}}
"#,
        entity = entity.as_str(),
    )
}
