//! A PULL page's return value is validated; errors name the place.

use flowstate_runtime::{ErrorKind, Status};

use crate::helpers::engine;

#[tokio::test]
async fn invalid_output_names_the_record_and_field() {
    let test = engine().await;
    let cases = [
        (
            "return { records: [{ externalId: 'a', data: {} }, { externalId: 'b', data: {} }, { externalId: 'c', data: {} }, { data: {} }] };",
            "invalid hook output: records[3].externalId is missing",
        ),
        (
            "return { records: [{ externalId: '', data: {} }] };",
            "invalid hook output: records[0].externalId must be a non-empty string",
        ),
        (
            "return { records: [{ externalId: 'a', data: 'x' }] };",
            "invalid hook output: records[0].data must be an object, got a string",
        ),
        ("return { records: [{ externalId: 'a' }] };", "invalid hook output: records[0].data is missing"),
        ("return { records: {} };", "invalid hook output: records must be an array, got an object"),
        ("return [];", "invalid hook output: a PULL hook must return an object { records: [...] }, got an array"),
        ("return;", "invalid hook output: a PULL hook must return an object { records: [...] }, got null"),
        ("return { records: [], more: 'yes' };", "invalid hook output: more must be a boolean, got a string"),
        ("return { records: [], meta: 'next' };", "invalid hook output: meta must be an object, got a string"),
        (
            "return { records: [], more: true, meta: { blob: 'x'.repeat(70000) } };",
            "invalid hook output: meta is 70011 bytes of JSON, more than the limit of 65536",
        ),
        (
            "const a = {}; a.self = a; return { records: [{ externalId: 'a', data: a }] };",
            "invalid hook output: records[0].data.self.self",
        ),
        (
            "return { records: [{ externalId: 'a', data: { n: 10n } }] };",
            "invalid hook output: records[0].data.n is a BigInt, which has no JSON form",
        ),
        (
            "return { records: [{ externalId: 'a', data: { get salary() { throw new Error('no access'); } } }] };",
            "invalid hook output: records[0].data.salary cannot be read: no access",
        ),
        (
            "return { records: [{ externalId: 'a', data: { when: { toJSON() { throw new Error('bad date'); } } } }] };",
            "invalid hook output: records[0].data.when has a toJSON that failed: bad date",
        ),
    ];
    for (body, expected) in cases {
        let result = test.pull(&format!("async function run(ctx) {{ {body} }}")).await;
        assert_eq!(result.record.status, Status::Failed, "{body}");
        let error = result.record.error.as_ref().unwrap();
        assert_eq!(error.kind, ErrorKind::InvalidOutput, "{body}");
        assert!(error.message.starts_with(expected), "{body}: {}", error.message);
        assert!(result.pages.is_empty());
    }
}

#[tokio::test]
async fn values_convert_like_json_stringify() {
    let test = engine().await;
    let result = test
        .pull(r#"
            class Money { constructor(amount) { this.amount = amount; } toJSON() { return `${this.amount} GBP`; } }
            async function run(ctx) {
                return { records: [
                    { externalId: 42, data: {
                        whole: 3.0, half: 0.5, big: 2 ** 60, nan: NaN, inf: -Infinity, nothing: null, skipped: undefined,
                        fn() {}, date: new Date(Date.UTC(2026, 2, 1)), list: [1, undefined, () => 1, 'x'], nested: { ok: true },
                        unicode: 'Zoë 🚀', custom: { toJSON() { return 'custom!'; } },
                        bare: Object.assign(Object.create(null), { a: 1 }), map: new Map([[1, 2]]),
                        money: new Money(12.5), [Symbol('hidden')]: 1, hidden: Object.defineProperty({}, 'x', { value: 1 }),
                        numbered: { b: 1, 2: 'x' }, trimmed: (() => { const o = { a: 1, b: 2 }; delete o.a; return o; })(),
                        huge: { 4294967294: 'index', 4294967295: 'name' }, latin: 'café naïve £5', ['clé é']: 'ü',
                    } },
                ] };
            }"#)
        .await;
    assert_eq!(result.record.status, Status::Succeeded, "{:?}", result.record.error);
    assert_eq!(result.pages[0][0].external_id.as_str(), "42");
    assert_eq!(
        result.data(),
        serde_json::json!({
            "whole": 3, "half": 0.5, "big": 1152921504606846976.0, "nan": null, "inf": null, "nothing": null,
            "date": "2026-03-01T00:00:00.000Z", "list": [1, null, null, "x"], "nested": { "ok": true },
            "unicode": "Zoë 🚀", "custom": "custom!",
            "bare": { "a": 1 }, "map": {}, "money": "12.5 GBP", "hidden": {},
            "numbered": { "2": "x", "b": 1 }, "trimmed": { "b": 2 },
            "huge": { "4294967294": "index", "4294967295": "name" }, "latin": "café naïve £5", "clé é": "ü",
        })
    );
}

#[tokio::test]
async fn a_hook_without_run_or_with_a_syntax_error_is_an_invalid_hook() {
    let test = engine().await;
    for (code, expected) in [
        ("function notRun() {}", "the hook does not define a function run(ctx)"),
        ("const run = 5;", "the hook does not define a function run(ctx)"),
        ("async function run(ctx) { return {", "SyntaxError"),
    ] {
        let result = test.pull(code).await;
        let error = result.record.error.as_ref().unwrap();
        assert_eq!(error.kind, ErrorKind::InvalidHook, "{code}");
        assert!(error.message.starts_with(expected), "{code}: {}", error.message);
    }
}

#[tokio::test]
async fn a_thrown_non_error_and_a_rejection_are_reported() {
    let test = engine().await;
    let result = test.pull("async function run(ctx) { throw 'plain string'; }").await;
    assert_eq!(result.error_message(), "Uncaught plain string");
    let result = test.pull("async function run(ctx) { await Promise.reject(new TypeError('bad type')); }").await;
    assert_eq!(result.error_message(), "TypeError: bad type");
    let result = test.pull("function run(ctx) { return { records: [{ externalId: 'sync', data: {} }] }; }").await;
    assert_eq!(result.ids(), ["sync"], "a plain (non-async) run works too");
}

/// Each value is made twice by the hook: once returned, once through `JSON.stringify` in the
/// same runtime; the two must agree. The cases are where reading an object through its
/// shape could part from `JSON.stringify`: a `toJSON` that changes what is still to be read,
/// objects of one shape with and without a `toJSON`, a `toJSON` on `Object.prototype`.
#[tokio::test]
async fn values_convert_as_json_stringify_does_when_a_to_json_changes_things() {
    let test = engine().await;
    let cases = [
        // A nested toJSON deletes a later sibling and changes another.
        "const r = { a: { toJSON() { delete r.b; r.c = 'changed'; return 'A'; } }, b: 1, c: 2 }; return r;",
        // It adds a property (not listed when the object was started) and redefines one as a getter.
        "const r = { a: { toJSON() { r.z = 1; Object.defineProperty(r, 'b', { get() { return 'got'; }, enumerable: true }); return 1; } }, b: 2, c: 3 }; return r;",
        // It empties an object of the same shape still to come.
        "const later = { a: 1, b: 2 }; const r = { first: { a: { toJSON() { delete later.a; return 0; } }, b: 2 }, later }; return r;",
        // Objects of one shape: a toJSON that is not a function, then one that is.
        "return [{ a: 1, toJSON: null }, { a: 2, toJSON() { return 'two'; } }, { a: 3, toJSON: 5 }];",
        // What a toJSON gives is not asked for its own toJSON.
        "const inner = { toJSON() { return 'inner'; } }; return { a: { toJSON() { return { x: inner, y: { toJSON() { return 'no'; }, v: 1 } }; } } };",
        "class Self { constructor() { this.v = 1; } toJSON() { return this; } } return { a: new Self() };",
        // An object whose shape is its own (after a delete) changed by a later toJSON: once
        // gained a property, once lost eight (QuickJS compacts it), once a getter in place
        // of a value read before.
        "const a = { x: 1, y: 2 }; delete a.y; return [a, { toJSON() { a.z = 1; return 0; } }, a];",
        "const a = {}; for (let i = 0; i < 16; i++) a['k' + i] = i; delete a.k15; \
         return [a, { toJSON() { for (let i = 0; i < 8; i++) delete a['k' + i]; return 0; } }, a];",
        "const o = { p: 0, x: 0, y: 0 }; delete o.p; \
         o.x = { toJSON() { Object.defineProperty(o, 'y', { get() { return 'got'; }, enumerable: true }); return 0; } }; return [o, o];",
        // Symbols, a non-enumerable property, and deleted properties of a shared shape.
        "const make = () => ({ a: 1, b: 2, c: 3 }); const x = make(), y = make(); delete y.b; Object.defineProperty(x, 'c', { enumerable: false }); return [x, y, make(), { [Symbol('s')]: 1, d: 4 }];",
    ];
    for case in cases {
        let code = format!(
            "async function run(ctx) {{ const make = () => {{ {case} }}; \
             return {{ records: [{{ externalId: 'a', data: {{ value: make(), expected: JSON.parse(JSON.stringify(make())) }} }}] }}; }}"
        );
        let result = test.pull(&code).await;
        assert_eq!(result.record.status, Status::Succeeded, "{case}: {:?}", result.record.error);
        let data = result.data();
        assert_eq!(data["value"], data["expected"], "{case}");
    }
    // A toJSON on Object.prototype applies to every plain object (here it gives the object
    // itself back, so only the marked one changes).
    let result = test
        .pull(
            "async function run(ctx) { Object.prototype.toJSON = function () { return this.keep ? 'kept' : this; }; \
             const data = { inner: { keep: true }, other: { a: 1 } }; \
             return { records: [{ externalId: 'a', data: { value: data, expected: JSON.parse(JSON.stringify(data)) } }] }; }",
        )
        .await;
    assert_eq!(result.record.status, Status::Succeeded, "{:?}", result.record.error);
    let data = result.data();
    assert_eq!(data["value"], serde_json::json!({ "inner": "kept", "other": { "a": 1 } }));
    assert_eq!(data["value"], data["expected"]);
}
