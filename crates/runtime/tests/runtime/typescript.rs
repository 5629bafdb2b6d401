//! TypeScript hooks: types, interfaces and generics run; errors name the `.ts` lines.

use flowstate_runtime::{ErrorKind, HookInvocation, Status, check_syntax};

use crate::helpers::{engine, hook};

fn typescript(code: &str) -> HookInvocation {
    HookInvocation { file_name: "people.ts".into(), ..hook(code) }
}

const HOOK: &str = r#"interface Person {
  id: string;
  name: string;
}

type Page<T> = { items: T[]; more: boolean };

function first<T extends { id: string }>(items: readonly T[]): T | undefined {
  return items[0];
}

async function run(ctx: { meta?: { n?: number } }): Promise<{ records: { externalId: string; data: object }[] }> {
  const n: number = ctx.meta?.n ?? 0;
  const page: Page<Person> = { items: [{ id: `p${n}`, name: 'Ada' }], more: false };
  const person = first<Person>(page.items)!;
  if (n > 0) {
    throw new Error(`no page ${n as number}`);
  }
  return { records: [{ externalId: person.id, data: { firstName: person.name } satisfies object }] };
}
"#;

#[tokio::test]
async fn a_typescript_hook_runs_and_its_error_names_the_ts_line() {
    let test = engine().await;
    let result = test.pull_hook(&typescript(HOOK)).await;
    assert_eq!(result.record.status, Status::Succeeded, "{:?}", result.record.error);
    assert_eq!(result.ids(), ["p0"]);

    // The throw is on line 17 of the TypeScript source.
    let failing = HOOK.replace("const n: number = ctx.meta?.n ?? 0;", "const n: number = 1;");
    let result = test.pull_hook(&typescript(&failing)).await;
    let error = result.record.error.as_ref().unwrap();
    assert_eq!(error.message, "Error: no page 1");
    let stack = error.stack.as_deref().unwrap_or_default();
    assert!(stack.contains("people.ts:17"), "{stack}");
}

#[tokio::test]
async fn a_type_only_syntax_error_is_an_invalid_hook_at_its_line_and_column() {
    let broken = "async function run(ctx: any) {\n  const n: Array<number = [];\n  return { records: [] };\n}\n";
    let checked = check_syntax("people.ts", broken).unwrap_err();
    assert_eq!(checked.line, 2, "{checked:?}");
    assert!(checked.message.starts_with("TypeScript: "), "{checked:?}");
    let test = engine().await;
    let result = test.pull_hook(&typescript(broken)).await;
    let error = result.record.error.as_ref().unwrap();
    assert_eq!(error.kind, ErrorKind::InvalidHook);
    assert!(error.message.contains("line 2"), "{}", error.message);
    // The same text as JavaScript is QuickJS's syntax error, on its own line.
    assert_eq!(check_syntax("people.js", broken).unwrap_err().line, 1);
}
