//! Checking a hook's syntax without running it: the server compiles a hook's code when the
//! hook is saved, so a syntax error is a 400 naming the line and column (an editor can mark
//! it) rather than a failed execution later.

use std::ffi::CString;

use rquickjs::{CaughtError, qjs};

/// Where and why a hook's code does not compile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} (line {line}, column {column})")]
pub struct SyntaxError {
    /// QuickJS's message, e.g. `SyntaxError: unexpected token in expression: '{'`.
    pub message: String,
    /// 1-based.
    pub line: u32,
    /// 1-based.
    pub column: u32,
}

/// Compiles `code` as the hook script it is run as (a classic script, not a module), in a
/// runtime of its own that is dropped at once; nothing of it runs.
pub fn check_syntax(file_name: &str, code: &str) -> Result<(), SyntaxError> {
    let unlocated = |message: String| SyntaxError { message, line: 1, column: 1 };
    let runtime = rquickjs::Runtime::new().map_err(|error| unlocated(error.to_string()))?;
    // Compiling is linear in the code's size (a body is at most a few MB); a generous bound
    // keeps a pathological input from taking the process's memory.
    runtime.set_memory_limit(256 * 1024 * 1024);
    runtime.set_max_stack_size(1024 * 1024);
    let context = rquickjs::Context::full(&runtime).map_err(|error| unlocated(error.to_string()))?;
    context.with(|ctx| {
        let compiled = compile_script(&ctx, file_name, code)?;
        if !compiled.is_exception() {
            return Ok(());
        }
        match CaughtError::from_error(&ctx, rquickjs::Error::Exception) {
            CaughtError::Exception(exception) => {
                let name: String = exception.get("name").unwrap_or_else(|_| "SyntaxError".to_string());
                let message = format!("{name}: {}", exception.message().unwrap_or_default());
                let (line, column) =
                    exception.stack().as_deref().and_then(|stack| position(stack, file_name)).unwrap_or((1, 1));
                Err(SyntaxError { message, line, column })
            }
            other => Err(unlocated(other.to_string())),
        }
    })
}

/// Compiles `code` in `ctx` as a global script named `file_name`, running nothing: the
/// compiled function, or the exception value (`is_exception`) for a syntax error QuickJS
/// found. A TypeScript file (`.ts`) has its types blanked first (`typescript.rs`); what
/// stops that, or a NUL byte (QuickJS reads C strings), is the `Err`. The one place the
/// server's syntax check and an execution's first page compile a hook.
pub(crate) fn compile_script<'js>(
    ctx: &rquickjs::Ctx<'js>,
    file_name: &str,
    code: &str,
) -> Result<rquickjs::Value<'js>, SyntaxError> {
    let code = crate::typescript::javascript(file_name, code)?;
    let source = CString::new(code.as_bytes()).map_err(|error| {
        let before = &code[..error.nul_position()];
        let line = before.matches('\n').count() as u32 + 1;
        let column = before.rsplit('\n').next().map_or(0, |text| text.chars().count()) as u32 + 1;
        SyntaxError { message: "SyntaxError: the code holds a NUL byte".into(), line, column }
    })?;
    let name = CString::new(file_name.replace('\0', "")).expect("NUL bytes removed");
    let flags = (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32;
    // SAFETY: `ctx` is a live context of this thread; both strings are NUL-terminated and
    // outlive the call; the returned value is owned by us and handed to `Value`, which frees it.
    Ok(unsafe {
        let raw = qjs::JS_Eval(ctx.as_raw().as_ptr(), source.as_ptr(), code.len() as _, name.as_ptr(), flags);
        rquickjs::Value::from_raw(ctx.clone(), raw)
    })
}

/// The first `file:line:column` of a stack naming `file_name`.
fn position(stack: &str, file_name: &str) -> Option<(u32, u32)> {
    let start = stack.find(&format!("{file_name}:"))? + file_name.len() + 1;
    let mut numbers = stack[start..].split(|c: char| !c.is_ascii_digit()).take(2).map(str::parse::<u32>);
    Some((numbers.next()?.ok()?, numbers.next()?.ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_code_passes_and_nothing_runs() {
        assert_eq!(check_syntax("hook.js", "async function run(ctx) { return { records: [] }; }"), Ok(()));
        // Compiled, not run: the loop would never end.
        assert_eq!(check_syntax("hook.js", "while (true) {}"), Ok(()));
    }

    #[test]
    fn a_syntax_error_names_its_line_and_column() {
        let error = check_syntax("hook.js", "// first line\nconst total = ;\n").unwrap_err();
        assert!(error.message.starts_with("SyntaxError"), "{error:?}");
        assert_eq!((error.line, error.column), (2, 15), "{error:?}");
        // The example: where the input ends.
        let error = check_syntax("hook.js", "function run( {").unwrap_err();
        assert_eq!(error.line, 1, "{error:?}");
    }

    #[test]
    fn a_static_import_is_a_syntax_error_in_a_script() {
        assert!(check_syntax("hook.js", "import x from 'y';\nasync function run(ctx) {}").is_err());
    }

    #[test]
    fn a_nul_byte_is_refused() {
        assert!(check_syntax("hook.js", "let a = 1;\0").is_err());
    }
}
