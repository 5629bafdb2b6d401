//! Arguments, as clap sees them (raw input; `hook_run` turns them into validated values).

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use flowstate_egress::ConnectTo;
use flowstate_sync::EntityType;

/// Flowstate Hooks: run JavaScript integration hooks that pull workforce data from HR
/// systems and push changes out, in a sandbox with hard limits.
#[derive(Debug, Parser)]
#[command(name = "flowstate", version, propagate_version = true)]
pub struct Cli {
    /// Diagnostics on stderr: error, warn, info, debug or trace (or a tracing filter such
    /// as `flowstate_egress=debug`).
    #[arg(long, global = true, env = "FLOWSTATE_LOG", value_name = "FILTER")]
    pub log_level: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with hook files.
    Hook {
        #[command(subcommand)]
        command: HookCommand,
    },
    /// The whole product on this machine: the bundled example HR API, a server on a fresh
    /// SQLite database with an organisation, an integration, its secret, PULL hooks (teams,
    /// employees, contractors, positions) and a PUSH hook; runs the PULLs once, prints the web
    /// console's address and an API key, and serves until Ctrl-C.
    Demo(DemoArgs),
    /// Serve the bundled example HR API over HTTPS (with a generated certificate) so you can
    /// point `flowstate hook run` at it.
    ExampleApi(ExampleApiArgs),
    /// Manage organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Apply records to the workforce store, as a PULL sync does.
    Sync {
        #[command(subcommand)]
        command: SyncCommand,
    },
    /// Print the stored records of an entity type as NDJSON (with nested rows and, for
    /// vacancies, `isFilled` and the filler), to see what a sync made.
    Export(ExportArgs),
    /// The team cost forecast (forecast.md): the cost of each team (the tree indented) or
    /// project per month, as a table, or with `--json` the API's `data` object.
    Forecast(ForecastArgs),
    /// Run the server: the REST API (`/api/v1/org/{orgId}/…`, `/healthz`,
    /// `/api/v1/openapi.json`). On a new database it creates a first organisation and an
    /// admin API key and prints them once.
    Serve(ServeArgs),
    /// Manage REST API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manage the master key that seals integration secrets.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Generate a new master key and re-seal every secret under it, in one transaction
    /// (stop the server first; start it again with the new key file).
    RotateKey(RotateKeyArgs),
}

#[derive(Debug, Args)]
pub struct RotateKeyArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The master key file to rotate (replaced by the new key).
    #[arg(long, env = "FLOWSTATE_MASTER_KEY_FILE", default_value = "flowstate.key", value_name = "PATH")]
    pub master_key_file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The address to serve on (`127.0.0.1:0` picks a free port and prints it).
    #[arg(long, env = "FLOWSTATE_LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The file holding the master key that encrypts secrets; created (readable by its owner
    /// only) when missing.
    #[arg(long, env = "FLOWSTATE_MASTER_KEY_FILE", default_value = "flowstate.key", value_name = "PATH")]
    pub master_key_file: PathBuf,
    /// The master key itself (64 hex digits), instead of the file.
    #[arg(long, env = "FLOWSTATE_MASTER_KEY", hide_env_values = true, value_name = "HEX")]
    pub master_key: Option<String>,
    /// The first organisation's name, when the database is new.
    #[arg(long, env = "FLOWSTATE_ORG_NAME", default_value = "My organisation")]
    pub org_name: String,
    /// The first organisation's IANA time zone, when the database is new.
    #[arg(long, env = "FLOWSTATE_ORG_TIMEZONE", default_value = "UTC")]
    pub org_timezone: String,
    /// The first organisation's currency (ISO 4217), when the database is new.
    #[arg(long, env = "FLOWSTATE_ORG_CURRENCY", default_value = "USD")]
    pub org_currency: String,
    /// Operator routing for hooks' HTTPS calls, curl-style (as for `hook run`). Repeatable;
    /// for development and tests.
    #[arg(
        long = "connect-to",
        env = "FLOWSTATE_CONNECT_TO",
        value_delimiter = ',',
        value_name = "HOST:PORT:ADDR:PORT2"
    )]
    pub connect_to: Vec<ConnectTo>,
    /// Also trust the certificate authorities in this PEM file for hooks' HTTPS calls.
    #[arg(long, env = "FLOWSTATE_CACERT", value_delimiter = ',', value_name = "PEM")]
    pub cacert: Vec<PathBuf>,
    /// Executions older than this many days are deleted.
    #[arg(long, env = "FLOWSTATE_EXECUTION_RETENTION_DAYS", default_value_t = 30, value_name = "DAYS")]
    pub execution_retention_days: u32,
    /// Worker threads running hooks, each one execution at a time, each with its own
    /// JavaScript engine (default: the number of cores, at least 2). A hook that computes
    /// occupies its worker only.
    #[arg(long, env = "FLOWSTATE_WORKERS", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: Option<u16>,
    /// Workers one organisation may hold at once; organisations take turns for the rest
    /// (default: half the workers, at least 1).
    #[arg(long, env = "FLOWSTATE_ORG_MAX_CONCURRENCY", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub org_max_concurrency: Option<u16>,
    /// Seconds a client has to send a request's headers; an idle keep-alive connection is
    /// closed after the same time.
    #[arg(long, env = "FLOWSTATE_HEADER_TIMEOUT_SECS", default_value_t = 10, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,
    /// HTTP connections open at once; further ones wait until one closes.
    #[arg(long, env = "FLOWSTATE_MAX_CONNECTIONS", default_value_t = 1024, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// `ctx.kv` keys one hook may hold (expired ones do not count).
    #[arg(long, env = "FLOWSTATE_KV_MAX_KEYS", default_value_t = 10_000, value_name = "N")]
    pub kv_max_keys: usize,
    /// Bytes of `ctx.kv` values one hook may hold (expired ones do not count).
    #[arg(long, env = "FLOWSTATE_KV_MAX_BYTES", default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    pub kv_max_bytes: usize,
    /// Database connections at most: PostgreSQL sessions, or SQLite readers beside the one
    /// writer (default: 8 more than the workers of both pools, so that hooks saving their
    /// pages leave connections for the API's reads).
    #[arg(long, env = "FLOWSTATE_DB_POOL_SIZE", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool_size: Option<u32>,
    /// The wait before retrying a failed PUSH delivery, doubled for each further attempt.
    #[arg(long, env = "FLOWSTATE_PUSH_RETRY_BACKOFF_MS", default_value_t = 1000, value_name = "MS")]
    pub push_retry_backoff_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key and print it (the only time it is shown).
    Create(KeyCreateArgs),
    /// Revoke an API key: requests carrying it get 401 from then on.
    Revoke(KeyRevokeArgs),
}

#[derive(Debug, Args)]
pub struct KeyRevokeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The organisation id.
    #[arg(long)]
    pub org: String,
    /// The key's id (the part between `private_` and the next `_`), or the whole key.
    #[arg(long)]
    pub id: String,
}

#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The organisation id.
    #[arg(long)]
    pub org: String,
    /// A name to recognise the key by.
    #[arg(long)]
    pub name: String,
    /// A scope such as `employees:read` (repeatable), or `all`.
    #[arg(long = "scope", required = true, value_name = "SCOPE")]
    pub scopes: Vec<String>,
}

/// Where the workforce store lives: a SQLite file path (default `./flowstate.db`) or a
/// PostgreSQL URL.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// The database: a SQLite file path (or `sqlite:PATH`), or `postgres://user[:password]@host[:port]/database`
    /// (TLS as libpq: `?sslmode=prefer|disable|require|verify-ca|verify-full&sslrootcert=CA.pem`).
    #[arg(long, env = "FLOWSTATE_DB", default_value = "flowstate.db", value_name = "URL")]
    pub db: String,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organisation and print its id.
    Create(OrgCreateArgs),
}

#[derive(Debug, Args)]
pub struct OrgCreateArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long)]
    pub name: String,
    /// IANA time zone, e.g. Europe/London.
    #[arg(long)]
    pub timezone: String,
    /// ISO 4217 reporting currency, e.g. GBP.
    #[arg(long)]
    pub currency: String,
}

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Apply an NDJSON file of `{ "externalId": …, "data": … }` lines (what `hook run --out`
    /// writes), one page per 1,000 lines, and print the counts and per-record errors.
    ///
    /// Exit status: 0 when every record applied, 1 when some record failed, 2 for a usage error.
    Apply(SyncApplyArgs),
}

/// Where a sync's records land: the store, the organisation, the source system whose
/// records they are, and their entity type (`sync apply`, `hook plan`).
#[derive(Debug, Args)]
pub struct SyncTarget {
    #[command(flatten)]
    pub db: DbArgs,
    /// The organisation's id (from `flowstate org create`).
    #[arg(long)]
    pub org: String,
    /// The source system key of the integration, e.g. `workday` (records match what this
    /// source synced before).
    #[arg(long)]
    pub source: String,
    /// employee, contractor, vacancy, project, team or assignment.
    #[arg(long, value_parser = parse_entity)]
    pub entity: EntityType,
}

#[derive(Debug, Args)]
pub struct SyncApplyArgs {
    #[command(flatten)]
    pub target: SyncTarget,
    /// Print one JSON object `{ created, updated, unchanged, deleted, nested, errors }`.
    #[arg(long)]
    pub json: bool,
    /// The records, one JSON object per line.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long)]
    pub org: String,
    /// employee, contractor, vacancy, project, team or assignment.
    #[arg(long, value_parser = parse_entity)]
    pub entity: EntityType,
}

#[derive(Debug, Args)]
pub struct ForecastArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The organisation id.
    #[arg(long)]
    pub org: String,
    /// The first month, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM")]
    pub from: String,
    /// The last month, YYYY-MM (at most 60 months from `--from`).
    #[arg(long, value_name = "YYYY-MM")]
    pub to: String,
    /// Group by team (a parent's total includes its descendants') or by project.
    #[arg(long, value_parser = ["team", "project"], default_value = "team")]
    pub group_by: String,
    /// Only this team and its descendants (its id or externalId).
    #[arg(long, value_name = "ID")]
    pub team: Option<String>,
    /// Print the API's `data` object instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_entity(text: &str) -> Result<EntityType, flowstate_sync::UnknownEntityType> {
    text.parse()
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Run a hook file once, exactly as the engine would (a PULL hook through all its pages),
    /// and print what it did.
    ///
    /// Exit status: 0 when the execution succeeded, 1 when it failed or timed out, 2 when
    /// the command was called wrongly.
    #[command(after_help = "Example, against `flowstate example-api --ca-out ca.pem`:\n  \
        flowstate hook run examples/hooks/employees-cursor.js --type pull --entity employee \\\n    \
        --secret api_key=demo-key --connect-to hr.example.com:443:127.0.0.1:8443 --cacert ca.pem")]
    Run(HookRunArgs),
    /// Start a hook: a folder with the hook file (the guide's example for its type and
    /// entity), `flowstate.d.ts` (the types of `ctx` and of each entity's record, so an
    /// editor completes and checks the hook), `jsconfig.json` and a `fixtures/` folder.
    #[command(after_help = "Example:\n  flowstate hook init workday-people --type pull --entity employee\n  \
        flowstate hook run workday-people/workday-people.js --type pull --entity employee --secret api_key=…")]
    Init(HookInitArgs),
    /// Create or update a hook on a server through its REST API: the hook of the
    /// integration with this name is updated (its code, and the schedule or events given),
    /// or created. Prints where it is. Exit status: 0 deployed, 1 the server refused it (a
    /// syntax error says its line and column), 2 the command was called wrongly.
    #[command(
        after_help = "Example:\n  flowstate hook deploy people.js --server http://127.0.0.1:8080 --key \"$KEY\" \\\n    \
        --integration int_… --type pull --entity employee --schedule 24h --preferred-hour 2"
    )]
    Deploy(HookDeployArgs),
    /// Run a PULL hook for real against its API and show what the sync would do, without
    /// writing anything (no entity, sync state, change event or PUSH): each record created
    /// (its fields), updated (the fields that change, before and after), unchanged, deleted
    /// or refused (the field and why), its nested rows, and the totals. Made by the sync's
    /// own planner, each page seeing the earlier ones, in a transaction that is rolled back.
    ///
    /// Exit status: 0 when the hook succeeded and no record would be refused, 1 otherwise, 2
    /// when the command was called wrongly.
    #[command(after_help = "Example, against `flowstate example-api --ca-out ca.pem`:\n  \
        flowstate hook plan people.js --db flowstate.db --org org_… --source example --entity employee \\\n    \
        --secret api_key=demo-key --connect-to hr.example.com:443:127.0.0.1:8443 --cacert ca.pem")]
    Plan(HookPlanArgs),
    /// Test a hook offline: run it against the HTTP exchanges recorded in its fixtures
    /// folder (`hook run … --record DIR`) and compare what it returned (PULL: its records;
    /// PUSH: the requests it sent) and how it ended with `expected.json` there; a mismatch
    /// prints a diff. `--update` writes `expected.json` from this run instead.
    ///
    /// Exit status: 0 when it matches (or was updated), 1 when it does not, 2 when the
    /// command was called wrongly (no recording, no expected file).
    #[command(after_help = "Example:\n  \
        flowstate hook run people/people.js --type pull --entity employee --secret api_key=… --record people/fixtures\n  \
        flowstate hook test people/people.js --type pull --entity employee --update\n  \
        flowstate hook test people/people.js --type pull --entity employee")]
    Test(HookTestArgs),
}

#[derive(Debug, Args)]
pub struct HookTestArgs {
    /// The hook's file (`.js`, or `.ts` for TypeScript).
    pub file: PathBuf,
    /// PULL or PUSH.
    #[arg(long = "type", value_enum)]
    pub kind: HookKind,
    /// The entity type of its records (PULL) or events (PUSH).
    #[arg(long, value_parser = parse_entity)]
    pub entity: EntityType,
    /// The folder with `http.json` (the recording), `expected.json`, and for a PUSH hook
    /// `event.json` (default: `fixtures` beside the hook file).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Write `expected.json` from this run instead of comparing.
    #[arg(long)]
    pub update: bool,
    /// A JSON object of secrets (`ctx.secrets`); a recording has none.
    #[arg(long, value_name = "FILE.json")]
    pub secrets: Option<PathBuf>,
    /// One secret, NAME=VALUE; repeatable.
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secret: Vec<String>,
    /// Sandbox limits from a JSON file (as for `hook run`).
    #[arg(long, value_name = "FILE.json")]
    pub limits: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HookDeployArgs {
    /// The hook's file: JavaScript (`.js`) or TypeScript (`.ts`, deployed with `language:
    /// typescript`).
    pub file: PathBuf,
    /// The server's address.
    #[arg(long, env = "FLOWSTATE_SERVER", default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub server: String,
    /// An API key of the organisation with `integrations:write`.
    #[arg(long, env = "FLOWSTATE_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub key: String,
    /// The integration the hook belongs to (its id).
    #[arg(long, value_name = "ID")]
    pub integration: String,
    /// The hook's name (default: the file's name without `.js`); a hook of the integration
    /// with this name is updated.
    #[arg(long)]
    pub name: Option<String>,
    /// PULL or PUSH; needed to create the hook (a hook's type never changes).
    #[arg(long = "type", value_enum)]
    pub kind: Option<HookKind>,
    /// The entity type; needed to create the hook (it never changes).
    #[arg(long, value_parser = parse_entity)]
    pub entity: Option<EntityType>,
    /// PULL: how often it runs (15m, 30m, 1h, 6h, 12h, 24h).
    #[arg(long)]
    pub schedule: Option<String>,
    /// PULL: the hour (0-23, in the organisation's time zone) of the first run of the day.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=23))]
    pub preferred_hour: Option<u8>,
    /// PUSH: a change type it runs on (create, update, delete); repeat for more (none: all).
    #[arg(long = "event")]
    pub events: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HookInitArgs {
    /// The hook's name: its folder and file are named after it (letters, digits, `-`, `_`).
    pub name: String,
    /// PULL (fetch records on a schedule) or PUSH (send changes out).
    #[arg(long = "type", value_enum)]
    pub kind: HookKind,
    /// The entity type it syncs or listens to.
    #[arg(long, value_parser = parse_entity)]
    pub entity: EntityType,
    /// Where to make the hook's folder (default: the current directory). The folder must
    /// not exist yet, or be empty.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Write the hook in TypeScript (`NAME.ts`, with a `tsconfig.json`): its types are
    /// blanked before it runs, so errors name the `.ts` lines.
    #[arg(long)]
    pub typescript: bool,
}

/// PULL or PUSH.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HookKind {
    Pull,
    Push,
}

impl HookKind {
    /// The devkit's kind.
    pub fn devkit(self) -> flowstate_devkit::HookKind {
        match self {
            HookKind::Pull => flowstate_devkit::HookKind::Pull,
            HookKind::Push => flowstate_devkit::HookKind::Push,
        }
    }

    /// The API's and the store's spelling (`PULL`, `PUSH`).
    pub fn as_str(self) -> &'static str {
        use flowstate_store::kinds::HookType;
        match self {
            HookKind::Pull => HookType::Pull.as_str(),
            HookKind::Push => HookType::Push.as_str(),
        }
    }
}

#[derive(Debug, Args)]
pub struct HookRunArgs {
    /// The hook's file; it defines `async function run(ctx)`. A `.ts` file is TypeScript:
    /// its types are blanked before it runs, so errors name its own lines.
    pub file: PathBuf,

    /// PULL (fetch records, page by page) or PUSH (react to one change event).
    #[arg(long = "type", value_enum)]
    pub kind: HookKind,

    /// The entity type the hook's records are (PULL) or its events concern (PUSH):
    /// employee, contractor, vacancy, project, team or assignment.
    #[arg(long, value_parser = parse_entity)]
    pub entity: EntityType,

    #[command(flatten)]
    pub sandbox: SandboxArgs,

    /// `ctx.org` as JSON: `{ "id", "name", "timezone", "currency" }`
    /// [default: a local organisation in UTC, USD].
    #[arg(long, value_name = "FILE.json")]
    pub org: Option<PathBuf>,

    /// The change event for a PUSH hook (`ctx.event`): `{ entityType, entityId, changeType,
    /// before, after }`. Required with --type push.
    #[arg(long, value_name = "FILE.json")]
    pub event: Option<PathBuf>,

    /// Write the records, one `{ "externalId": …, "data": … }` per line (PULL).
    #[arg(long, value_name = "FILE.ndjson")]
    pub out: Option<PathBuf>,

    /// Print the execution record as one JSON object on stdout instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// What a hook is given and what it may reach: its secrets, `ctx.kv`, HTTPS routing and
/// trust, its limits (`hook run` and `hook plan`).
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// A JSON object of secrets, `{ "api_key": "…" }`, available as `ctx.secrets`.
    #[arg(long, value_name = "FILE.json")]
    pub secrets: Option<PathBuf>,

    /// One secret, NAME=VALUE; repeatable; overrides the same name from --secrets.
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secret: Vec<String>,

    /// Keep `ctx.kv` in this JSON file between runs [default: in memory, gone at exit].
    #[arg(long, value_name = "FILE")]
    pub kv_file: Option<PathBuf>,

    /// Operator routing, curl-style: connect to ADDR:PORT2 for requests to HOST:PORT (TLS
    /// still checks HOST's certificate; the target is exempt from the private-address
    /// block). Repeatable; for development and tests.
    #[arg(long = "connect-to", value_name = "HOST:PORT:ADDR:PORT2")]
    pub connect_to: Vec<ConnectTo>,

    /// Also trust the certificate authorities in this PEM file. Repeatable.
    #[arg(long, value_name = "PEM")]
    pub cacert: Vec<PathBuf>,

    /// Override sandbox limits from a JSON file, e.g. `{ "maxPages": 10, "pullPageTimeMs": 5000 }`
    /// (keys: memoryBytes, pullPageTimeMs, pushTimeMs, requestsPerPage, responseBytes, maxPages,
    /// metaBytes, defaultRequestTimeoutMs, kvKeyChars, kvValueBytes, kvDefaultTtlMs, logEntries,
    /// logEntryBytes, stackBytes).
    #[arg(long, value_name = "FILE.json")]
    pub limits: Option<PathBuf>,

    /// Save every HTTP exchange of the run (headers and bodies, secret values redacted) to
    /// DIR/http.json, for --replay.
    #[arg(long, value_name = "DIR", conflicts_with = "replay")]
    pub record: Option<PathBuf>,

    /// Answer the hook's requests from DIR/http.json (made by --record), matched by method,
    /// URL and body, without the network: a request with no recording fails, naming it.
    #[arg(long, value_name = "DIR")]
    pub replay: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HookPlanArgs {
    /// The PULL hook's file (`.js` or `.ts`); `ctx.org` is the organisation planned for.
    pub file: PathBuf,
    #[command(flatten)]
    pub target: SyncTarget,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Print `{ "plan": { totals, pages, records }, "execution": … }` as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// List unchanged records too (by default they are counted, not listed).
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the server (API and console) listens.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The folder for the demo's database, master key and the example API's certificate
    /// authority; it must not hold a database yet (default: a new folder in the system's
    /// temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExampleApiArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,

    /// Write the generated certificate authority here (PEM), for `--cacert`.
    #[arg(long, value_name = "PEM", default_value = "example-api-ca.pem")]
    pub ca_out: PathBuf,

    /// The API key requests must carry (`Authorization: Bearer …` or `X-Api-Key`).
    #[arg(long, default_value = "demo-key")]
    pub api_key: String,

    /// Employees served.
    #[arg(long, default_value_t = 250)]
    pub employees: usize,

    /// Contractors served.
    #[arg(long, default_value_t = 450)]
    pub contractors: usize,
}
