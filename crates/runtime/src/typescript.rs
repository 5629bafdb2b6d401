//! TypeScript hooks: a `.ts` hook file runs as the JavaScript left when its types are
//! replaced by blanks (swc's strip-only mode, the type stripping Node.js uses). Nothing
//! moves, so every line and column (of a syntax error, of a stack frame) is the TypeScript
//! source's, with no source map. Syntax that is not only types (an `enum`, a parameter
//! property, a `namespace` with values) is refused by name: it would need code generated.

use std::{
    borrow::Cow,
    sync::{Arc, Mutex},
};

use swc_common::{
    SourceMap, Span,
    errors::{DiagnosticBuilder, Emitter, Handler},
    sync::Lrc,
};
use swc_ts_fast_strip::{Mode, Options, operate};

use crate::syntax::SyntaxError;

/// Whether a hook file is TypeScript, by its name.
pub fn is_typescript(file_name: &str) -> bool {
    file_name.ends_with(".ts")
}

/// The JavaScript `code` runs as: itself for a `.js` file; for a `.ts` file, the same text
/// with its types blanked, or where and why it cannot be.
pub fn javascript<'c>(file_name: &str, code: &'c str) -> Result<Cow<'c, str>, SyntaxError> {
    if !is_typescript(file_name) {
        return Ok(Cow::Borrowed(code));
    }
    let diagnostics: Reported = Arc::default();
    let source_map: Lrc<SourceMap> = Lrc::default();
    let handler = Handler::with_emitter(true, false, Box::new(Collect(diagnostics.clone())));
    let options = Options {
        // A hook is a classic script, as QuickJS runs it.
        module: Some(false),
        filename: Some(file_name.to_string()),
        mode: Mode::StripOnly,
        ..Options::default()
    };
    let stripped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        swc_common::GLOBALS.set(&Default::default(), || operate(&source_map, &handler, code.to_string(), options))
    }));
    let failure = match stripped {
        Ok(Ok(output)) => return Ok(Cow::Owned(output.code)),
        Ok(Err(error)) => error.to_string(),
        Err(_) => "the TypeScript could not be read".to_string(),
    };
    let diagnostics = diagnostics.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (message, span) = diagnostics.first().cloned().unwrap_or((failure, None));
    let (line, column) = span.map_or((1, 1), |span| {
        let location = source_map.lookup_char_pos(span.lo);
        (location.line as u32, location.col_display as u32 + 1)
    });
    Err(SyntaxError { message: format!("TypeScript: {message}"), line, column })
}

/// What swc reported: each message, and where.
type Reported = Arc<Mutex<Vec<(String, Option<Span>)>>>;

/// Keeps what swc reports.
struct Collect(Reported);

impl Emitter for Collect {
    fn emit(&mut self, diagnostic: &mut DiagnosticBuilder<'_>) {
        let entry = (diagnostic.message(), diagnostic.span.primary_span());
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_become_blanks_and_nothing_moves() {
        let source =
            "interface Row { id: string }\nconst pick = <T,>(rows: T[]): T => rows[0]!;\nlet n = 1 as number;\n";
        let script = javascript("hook.ts", source).unwrap();
        assert_eq!(script.len(), source.len());
        assert_eq!(script.lines().count(), source.lines().count());
        assert!(!script.contains("interface") && !script.contains(": T"), "{script}");
        assert!(script.contains("rows[0]") && script.contains("let n = 1"), "{script}");
        // A JavaScript file is left alone.
        assert!(matches!(javascript("hook.js", "let x: number;"), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn a_type_error_names_its_line_and_column_and_an_enum_is_refused() {
        let error = javascript("hook.ts", "const a = 1;\nlet b: = 2;\n").unwrap_err();
        assert_eq!((error.line, error.column), (2, 8), "{error:?}");
        assert!(error.message.starts_with("TypeScript: "), "{error:?}");
        let error = javascript("hook.ts", "\nenum Colour { Red }\n").unwrap_err();
        assert_eq!(error.line, 2, "{error:?}");
        assert!(error.message.contains("enum"), "{error:?}");
    }
}
