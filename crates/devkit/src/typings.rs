//! `flowstate.d.ts`: the types of `ctx` (the Context API reference, spec 002) and of each
//! entity's record (`data`), generated from the sync's field tables, the same tables the
//! planner checks records against and the OpenAPI document is made from, so an editor
//! completes and checks exactly what a sync takes.

use std::fmt::Write as _;

use flowstate_sync::{
    EntityType, NestedKind,
    schema::{FieldKind, FieldSpec, fields, row_fields},
};

/// The file's text.
pub fn flowstate_d_ts() -> String {
    let mut out = String::from(HEADER);
    let _ = writeln!(out, "/** The entity types hooks read and write. */");
    let types: Vec<String> = EntityType::ALL.iter().map(|entity| format!("'{}'", entity.as_str())).collect();
    let _ = writeln!(out, "export type EntityType = {};\n", types.join(" | "));
    for kind in NestedKind::ALL {
        let _ = writeln!(out, "/** One row of `{}` (rows another source owns are never touched). */", kind.key());
        let _ = writeln!(out, "export interface {} {{", row_name(kind));
        for spec in row_fields(kind) {
            member(&mut out, spec, !spec.required);
        }
        out.push_str("}\n\n");
    }
    for entity in EntityType::ALL {
        let name = data_name(entity);
        let _ = writeln!(
            out,
            "/** A {} record's `data`. Fields left out stay as they are; `null` clears one. Required when the record creates the {}: {}. */",
            entity.as_str(),
            entity.as_str(),
            fields(entity).iter().filter(|spec| spec.required).map(|spec| spec.name).collect::<Vec<_>>().join(", ")
        );
        let _ = writeln!(out, "export interface {name} {{");
        for spec in fields(entity) {
            member(&mut out, spec, true);
        }
        for kind in entity.nested_kinds() {
            let _ = writeln!(out, "  {}?: {}[] | null;", kind.key(), row_name(*kind));
        }
        if entity == EntityType::Vacancy {
            out.push_str("  /** The employee or contractor filling it, by externalId; `null` opens it again. */\n");
            out.push_str("  filledBy?: { externalId: string } | null;\n");
            out.push_str("  filledByExternalId?: string | null;\n");
        }
        out.push_str("  /** By a custom attribute definition's `attributeKey`. */\n");
        out.push_str(
            "  customAttributes?: Record<string, string | number | { start: string; end: string | null } | null>;\n",
        );
        out.push_str("  /** Set: the entity is deleted (with its rows). */\n");
        out.push_str("  deletedAt?: string | null;\n");
        out.push_str("}\n\n");
    }
    out.push_str("/** Each entity type's record data. */\nexport interface EntityData {\n");
    for entity in EntityType::ALL {
        let _ = writeln!(out, "  {}: {};", entity.as_str(), data_name(entity));
    }
    out.push_str("}\n");
    out.push_str(CONTEXT);
    out
}

fn pascal(words: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in words.chars() {
        if c == '_' || c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn data_name(entity: EntityType) -> String {
    format!("{}Data", pascal(entity.as_str()))
}

fn row_name(kind: NestedKind) -> String {
    let name = pascal(kind.key());
    name.strip_suffix('s').unwrap_or(&name).to_string()
}

fn member(out: &mut String, spec: &FieldSpec, optional: bool) {
    let ts = match spec.kind {
        FieldKind::Text { .. } | FieldKind::Id => "string".to_string(),
        FieldKind::Email => "string".to_string(),
        FieldKind::Date => "string".to_string(),
        FieldKind::Enum(values) => values.iter().map(|value| format!("'{value}'")).collect::<Vec<_>>().join(" | "),
        FieldKind::Number { .. } | FieldKind::Money | FieldKind::Integer { .. } => "number".to_string(),
        FieldKind::Currency => "string".to_string(),
        FieldKind::JobRole => "string | { title: string; externalId?: string | null }".to_string(),
    };
    let note = match spec.kind {
        FieldKind::Text { max } => format!("at most {max} characters"),
        FieldKind::Id => "an identifier: not blank, at most 255 characters".into(),
        FieldKind::Email => "an email address".into(),
        FieldKind::Date => "YYYY-MM-DD".into(),
        FieldKind::Enum(_) => "one of these".into(),
        FieldKind::Number { min, max } => format!("from {min} to {max}"),
        FieldKind::Money => "an amount ≥ 0 (2 decimals kept)".into(),
        FieldKind::Integer { .. } => "a whole number".into(),
        FieldKind::Currency => "ISO 4217, such as GBP".into(),
        FieldKind::JobRole => "a title, or a title with its externalId".into(),
    };
    // A field that is not required may also be null (cleared).
    let nullable = if spec.required { String::new() } else { " | null".to_string() };
    let _ = writeln!(out, "  /** {note} */");
    let _ = writeln!(out, "  {}{}: {ts}{nullable};", spec.name, if optional { "?" } else { "" });
}

const HEADER: &str = "// Types for Flowstate hooks, written by `flowstate hook init`: what `ctx` offers (the
// Context API reference) and each entity's record data (the data model), as this version of
// Flowstate checks them. Hooks are scripts: `async function run(ctx)`, no imports.
// In a JavaScript hook, `// @ts-check` and a JSDoc type on `run` turn the checking on.

";

const CONTEXT: &str = r#"
/** A header's or query parameter's value: sent as text; null and undefined leave the
 * name out; an array sends the name once per item. */
export type ParamValue = string | number | boolean | null | undefined | Array<string | number | boolean>;

/** `ctx.http` options. */
export interface HttpOptions {
  headers?: Record<string, ParamValue>;
  /** Appended to the URL. */
  query?: Record<string, ParamValue>;
  /** Milliseconds (default 30 seconds). */
  timeout?: number;
}

/** What every `ctx.http` method resolves to. JSON bodies arrive parsed. */
export interface HttpResponse<T = any> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

/** HTTPS only; public addresses only; redirects are not followed; 10 MB per response;
 * 50 requests per page; the User-Agent is fixed. */
export interface Http {
  get<T = any>(url: string, options?: HttpOptions): Promise<HttpResponse<T>>;
  /** Objects are sent as JSON. */
  post<T = any>(url: string, body?: unknown, options?: HttpOptions): Promise<HttpResponse<T>>;
  put<T = any>(url: string, body?: unknown, options?: HttpOptions): Promise<HttpResponse<T>>;
  patch<T = any>(url: string, body?: unknown, options?: HttpOptions): Promise<HttpResponse<T>>;
  delete<T = any>(url: string, options?: HttpOptions): Promise<HttpResponse<T>>;
}

/** The organisation the hook runs for (read-only). */
export interface Org {
  id: string;
  name: string;
  /** IANA, such as Europe/London. */
  timezone: string;
  /** ISO 4217 reporting currency. */
  currency: string;
}

/** A key-value store of the hook's own, kept between executions. */
export interface Kv {
  /** null when missing or expired. Keys: at most 256 characters. */
  get(key: string): Promise<string | null>;
  /** Values: at most 64 KB; expiry 90 days unless `ttlSeconds` says otherwise. */
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
}

/** Entries of the execution record, with a timestamp and a level. */
export interface Log {
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

interface BaseContext {
  http: Http;
  /** The integration's secrets by name; values never appear in logs or records. */
  secrets: Readonly<Record<string, string>>;
  org: Readonly<Org>;
  kv: Kv;
  log: Log;
}

/** A PULL hook's `ctx`: `meta` is what the previous page returned (undefined at first). */
export interface PullContext<Meta = any> extends BaseContext {
  meta: Meta | undefined;
  event: undefined;
}

interface ChangeOf {
  entityType: EntityType;
  /** The entity's Flowstate id. */
  entityId: string;
}

/** A change to an entity: checking `changeType` tells which of `before` and `after` exist. */
export type ChangeEvent<T = Record<string, any>> =
  | (ChangeOf & { changeType: 'create'; before: null; after: T })
  | (ChangeOf & { changeType: 'update'; before: T; after: T })
  | (ChangeOf & { changeType: 'delete'; before: T; after: null });

/** A PUSH hook's `ctx`. */
export interface PushContext<T = Record<string, any>> extends BaseContext {
  event: ChangeEvent<T>;
  meta: undefined;
}

/** One record a PULL hook returns. */
export interface PullRecord<Data> {
  /** The source system's id: records are matched across syncs by it. */
  externalId: string;
  data: Data;
}

/** What a PULL hook's `run` returns: `more: true` asks for another page, with `meta`. */
export interface PullResult<Data, Meta = any> {
  records: PullRecord<Data>[];
  more?: boolean;
  meta?: Meta;
}

// What the sandbox offers besides the language itself.
declare global {
  const console: {
    log(...values: unknown[]): void;
    info(...values: unknown[]): void;
    debug(...values: unknown[]): void;
    warn(...values: unknown[]): void;
    error(...values: unknown[]): void;
  };
  function setTimeout(callback: (...args: any[]) => void, delay?: number, ...args: any[]): number;
  function clearTimeout(id?: number): void;
  class URLSearchParams {
    constructor(init?: string | Record<string, string> | [string, string][]);
    append(name: string, value: string): void;
    delete(name: string): void;
    get(name: string): string | null;
    getAll(name: string): string[];
    has(name: string): boolean;
    set(name: string, value: string): void;
    forEach(callback: (value: string, name: string) => void): void;
    entries(): IterableIterator<[string, string]>;
    keys(): IterableIterator<string>;
    values(): IterableIterator<string>;
    toString(): string;
  }
  class URL {
    constructor(url: string, base?: string | URL);
    href: string;
    readonly origin: string;
    protocol: string;
    username: string;
    password: string;
    host: string;
    hostname: string;
    port: string;
    pathname: string;
    search: string;
    hash: string;
    readonly searchParams: URLSearchParams;
    toString(): string;
    toJSON(): string;
  }
  class TextEncoder {
    encode(input?: string): Uint8Array;
  }
  class TextDecoder {
    constructor(label?: string);
    decode(input?: Uint8Array): string;
  }
}
"#;
