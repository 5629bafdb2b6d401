//! One fresh QuickJS runtime running one PULL page or one PUSH execution.
//!
//! **Architecture Invariant:** nothing survives a page: every call of [`run_page`] builds a
//! new runtime and context, installs the prelude from bytecode, and drops it all at the end.
//! The wall-clock deadline is enforced three ways: by the interrupt handler while JavaScript
//! runs (QuickJS calls it every 30 operations; see `watchdog::InterruptCheck`), by
//! `tokio::time::timeout_at` while it awaits a host future (which the interrupt handler cannot
//! see), and by the watchdog's starving of the allocator while a single built-in call runs
//! (see `watchdog`).

use std::{
    sync::{Arc, atomic::Ordering},
    time::Instant,
};

use rquickjs::{
    AsyncContext, AsyncRuntime, CaughtError, Ctx, Exception, Function, Module, Object, TypedArray, Value,
    prelude::Async, promise::MaybePromise, qjs,
};
use serde_json::Value as Json;

use crate::{
    convert,
    host::{Host, HostError},
    memory::LimitedAllocator,
    record::{ErrorKind, ExecutionError, HookType},
    watchdog::{InterruptCheck, Watchdog},
};

/// Allocation between two runs of QuickJS's cycle collector in a page (at most a quarter
/// of its memory limit).
const GC_THRESHOLD_BYTES: usize = 8 * 1024 * 1024;

/// What a page runs.
pub(crate) struct PageInput<'a> {
    pub kind: HookType,
    pub file_name: &'a str,
    pub code: &'a str,
    /// The hook's bytecode once a page of the execution has compiled it.
    pub compiled: &'a std::sync::OnceLock<Arc<[u8]>>,
    pub secrets_json: &'a str,
    pub org_json: &'a str,
    /// `ctx.meta` (PULL, from the second page) or `ctx.event` (PUSH).
    pub meta_or_event: Option<&'a Json>,
    pub deadline: Instant,
    pub page: Option<u32>,
}

/// Compiles the prelude once; every runtime then loads the bytecode instead of parsing.
pub(crate) fn compile_prelude() -> Result<Vec<u8>, String> {
    let runtime = rquickjs::Runtime::new().map_err(|error| error.to_string())?;
    let context = rquickjs::Context::full(&runtime).map_err(|error| error.to_string())?;
    context.with(|ctx| {
        let module = Module::declare(ctx.clone(), "flowstate:prelude", include_str!("prelude.js"))
            .map_err(|error| format!("prelude: {}", CaughtError::from_error(&ctx, error)))?;
        // Without its source text and debug information: less for every page to read (a
        // stack frame inside the prelude names no line, which is not the hook author's code).
        let options = rquickjs::module::WriteOptions { strip_source: true, strip_debug: true, ..Default::default() };
        module.write(options).map_err(|error| format!("prelude bytecode: {error}"))
    })
}

/// Runs one page (or one PUSH execution) and returns the hook's return value as JSON
/// (`Json::Null` for PUSH), or why it failed.
pub(crate) async fn run_page(
    prelude: &[u8],
    watchdog: &Watchdog,
    host: &Arc<Host>,
    input: PageInput<'_>,
) -> Result<Json, ExecutionError> {
    let limits = &host.limits;
    let failure = |kind, message: String, stack: Option<String>| ExecutionError {
        kind,
        message: host.redactor.redact(&message).into_owned(),
        stack: stack.map(|stack| host.redactor.redact(&stack).into_owned()),
        page: input.page,
    };
    let budget = input.deadline.saturating_duration_since(Instant::now());
    let timed_out = || {
        failure(
            ErrorKind::Timeout,
            match input.kind {
                HookType::Pull => format!("the page exceeded its time limit of {} ms", budget.as_millis()),
                HookType::Push => format!("the execution exceeded its time limit of {} ms", budget.as_millis()),
            },
            None,
        )
    };

    // Raised by the watchdog at the deadline, whatever this thread is doing.
    let signals = watchdog.arm(input.deadline);
    let allocator = LimitedAllocator::new(limits.memory_bytes, signals.clone());
    let runtime = AsyncRuntime::new_with_alloc(allocator)
        .map_err(|error| failure(ErrorKind::Internal, error.to_string(), None))?;
    runtime.set_max_stack_size(limits.stack_bytes).await;
    // The cycle collector runs once this much more is allocated (QuickJS's default is
    // 256 KB, which a fresh context's built-ins nearly fill): a page's garbage is mostly
    // freed by reference counting, and the whole runtime goes when the page ends.
    runtime.set_gc_threshold(GC_THRESHOLD_BYTES.min(limits.memory_bytes / 4)).await;
    let mut interrupt_check = InterruptCheck::new(signals.clone(), input.deadline);
    runtime.set_interrupt_handler(Some(Box::new(move || interrupt_check.must_stop()))).await;
    let context =
        AsyncContext::full(&runtime).await.map_err(|error| failure(ErrorKind::Internal, error.to_string(), None))?;

    let host_for_js = host.clone();
    let input_ref = &input;
    let work = context.async_with(async move |ctx| -> Result<Json, ScriptFailure> {
        execute(&ctx, prelude, host_for_js, input_ref).await
    });
    let outcome = tokio::time::timeout_at(input.deadline.into(), work).await;
    let result = match outcome {
        Err(_elapsed) => Err(timed_out()),
        // Back after its deadline (a built-in that ran on without polling): late is timed
        // out, and what it returned is not used.
        Ok(Ok(_)) if signals.cancelled.load(Ordering::Relaxed) || Instant::now() >= input.deadline => Err(timed_out()),
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) if signals.cancelled.load(Ordering::Relaxed) => Err(timed_out()),
        Ok(Err(script)) => {
            // A hook may catch an out-of-memory error and go on; only a failure that *is* the
            // exhaustion (or the `null` QuickJS throws when it cannot even build the error)
            // counts as a memory failure.
            let from_exhaustion = script.kind == ErrorKind::Memory || script.null_exception;
            if from_exhaustion && signals.memory_exhausted.load(Ordering::Relaxed) {
                Err(failure(
                    ErrorKind::Memory,
                    format!("the hook ran out of memory (limit {} MB)", limits.memory_bytes / (1024 * 1024)),
                    script.stack,
                ))
            } else {
                Err(failure(script.kind, script.message, script.stack))
            }
        }
    };
    drop(context);
    drop(runtime);
    result
}

/// A failure inside JavaScript, before redaction.
struct ScriptFailure {
    kind: ErrorKind,
    message: String,
    stack: Option<String>,
    /// QuickJS throws `null` when it cannot even allocate the error.
    null_exception: bool,
}

impl ScriptFailure {
    fn new(kind: ErrorKind, message: impl Into<String>) -> ScriptFailure {
        ScriptFailure { kind, message: message.into(), stack: None, null_exception: false }
    }

    fn caught(ctx: &Ctx<'_>, error: rquickjs::Error, kind: ErrorKind) -> ScriptFailure {
        match CaughtError::from_error(ctx, error) {
            CaughtError::Exception(exception) => {
                let name: String = exception.get("name").unwrap_or_else(|_| "Error".to_string());
                let message = exception.message().unwrap_or_default();
                let kind = if message.contains("out of memory") { ErrorKind::Memory } else { kind };
                ScriptFailure {
                    kind,
                    message: format!("{name}: {message}"),
                    stack: exception.stack().filter(|stack| !stack.trim().is_empty()),
                    null_exception: false,
                }
            }
            CaughtError::Value(value) => {
                let null_exception = value.is_null();
                let text = match convert::to_json(&value) {
                    Ok(Json::String(text)) => text,
                    Ok(json) => json.to_string(),
                    Err(_) => format!("a {}", value.type_name()),
                };
                ScriptFailure { kind, message: format!("Uncaught {text}"), stack: None, null_exception }
            }
            CaughtError::Error(rquickjs::Error::Allocation) => ScriptFailure::new(ErrorKind::Memory, "out of memory"),
            CaughtError::Error(error) => ScriptFailure::new(ErrorKind::Internal, error.to_string()),
        }
    }
}

async fn execute<'js>(
    ctx: &Ctx<'js>,
    prelude: &[u8],
    host: Arc<Host>,
    input: &PageInput<'_>,
) -> Result<Json, ScriptFailure> {
    let internal = |error: rquickjs::Error| ScriptFailure::caught(ctx, error, ErrorKind::Internal);

    // SAFETY: the bytes come from `compile_prelude` of this very QuickJS build.
    let module = unsafe { Module::load(ctx.clone(), prelude) }.map_err(internal)?;
    let (module, evaluated) = module.eval().map_err(internal)?;
    evaluated.finish::<()>().map_err(internal)?;
    let install: Function = module.get("install").map_err(internal)?;
    let natives = natives(ctx, host).map_err(internal)?;
    let make_ctx: Function = install.call((natives,)).map_err(internal)?;

    let secrets = ctx.json_parse(input.secrets_json).map_err(internal)?;
    let org = ctx.json_parse(input.org_json).map_err(internal)?;
    let extra = match input.meta_or_event {
        Some(json) => ctx.json_parse(json.to_string()).map_err(internal)?,
        None => Value::new_undefined(ctx.clone()),
    };
    let (meta, event) = match input.kind {
        HookType::Pull => (extra, Value::new_undefined(ctx.clone())),
        HookType::Push => (Value::new_undefined(ctx.clone()), extra),
    };
    let kind = match input.kind {
        HookType::Pull => "pull",
        HookType::Push => "push",
    };
    let hook_ctx: Value = make_ctx.call((kind, secrets, org, meta, event)).map_err(internal)?;

    // The first page compiles the hook and keeps its bytecode (debug information included,
    // so stacks name the source's lines); later pages of the execution load it instead of
    // parsing the source again. Either way it runs at the top level, as evaluating the
    // source would: its functions, `run` among them, become globals.
    let function = match input.compiled.get() {
        Some(bytecode) => read_bytecode(ctx, bytecode),
        None => compile(ctx, input.file_name, input.code, input.compiled),
    }?;
    // SAFETY: `function` is a live value of this context; `JS_EvalFunction` takes over the
    // reference duplicated for it (`function` frees its own when dropped), and the value
    // returned is handed to `Value`, which frees it.
    let evaluated = unsafe {
        let raw = ctx.as_raw().as_ptr();
        Value::from_raw(ctx.clone(), qjs::JS_EvalFunction(raw, qjs::JS_DupValue(raw, function.as_raw())))
    };
    drop(function);
    if evaluated.is_exception() {
        return Err(ScriptFailure::caught(ctx, rquickjs::Error::Exception, ErrorKind::Exception));
    }
    let run: Value = ctx.globals().get("run").map_err(internal)?;
    let Some(run) = run.as_function() else {
        return Err(ScriptFailure::new(
            ErrorKind::InvalidHook,
            "the hook does not define a function run(ctx): write `async function run(ctx) { ... }`",
        ));
    };
    let returned =
        run.call::<_, Value>((hook_ctx,)).map_err(|error| ScriptFailure::caught(ctx, error, ErrorKind::Exception))?;
    let value: Value = MaybePromise::from_value(returned)
        .into_future::<Value>()
        .await
        .map_err(|error| ScriptFailure::caught(ctx, error, ErrorKind::Exception))?;
    match input.kind {
        HookType::Push => Ok(Json::Null),
        HookType::Pull => convert::to_json(&value).map_err(|error| {
            ScriptFailure::new(
                ErrorKind::InvalidOutput,
                format!("invalid hook output: {}", error.describe("the returned value")),
            )
        }),
    }
}

/// Compiles the hook's source as a global script (nothing runs yet) and keeps its bytecode
/// in `compiled` for the execution's later pages.
fn compile<'js>(
    ctx: &Ctx<'js>,
    file_name: &str,
    code: &str,
    compiled: &std::sync::OnceLock<Arc<[u8]>>,
) -> Result<Value<'js>, ScriptFailure> {
    let function = crate::syntax::compile_script(ctx, file_name, code)
        .map_err(|error| ScriptFailure::new(ErrorKind::InvalidHook, format!("{error}")))?;
    if function.is_exception() {
        let mut failure = ScriptFailure::caught(ctx, rquickjs::Error::Exception, ErrorKind::Exception);
        if failure.message.starts_with("SyntaxError") {
            failure.kind = ErrorKind::InvalidHook;
        }
        return Err(failure);
    }
    let mut size: qjs::size_t = 0;
    // SAFETY: `function` is live; QuickJS allocates the buffer with this context's allocator;
    // it is copied out and freed with the same. A buffer that cannot be written (memory) only
    // means the next page compiles again.
    unsafe {
        let buffer =
            qjs::JS_WriteObject(ctx.as_raw().as_ptr(), &mut size, function.as_raw(), qjs::JS_WRITE_OBJ_BYTECODE as i32);
        if !buffer.is_null() {
            let _ = compiled.set(Arc::from(std::slice::from_raw_parts(buffer, size as usize)));
            qjs::js_free(ctx.as_raw().as_ptr(), buffer.cast());
        }
    }
    Ok(function)
}

/// The bytecode a runtime's functions were read from, kept by the runtime: they use their
/// positions and source text where they are in it (see `read_bytecode`).
struct HeldBytecode {
    _kept: Arc<[u8]>,
}

// SAFETY: holds no JavaScript value; the same type at every lifetime.
unsafe impl<'js> rquickjs::JsLifetime<'js> for HeldBytecode {
    type Changed<'to> = HeldBytecode;
}

/// Our additions to QuickJS's read flags (`vendor/rquickjs-sys/quickjs/quickjs.h`). Each
/// function's debug information (positions, source text) is used in place in the buffer
/// instead of copied, so the buffer must outlive the runtime's use of it:
const READ_BORROW_DEBUG: i32 = 1 << 7;
/// The buffer's checksum is not verified (a pass over every byte): the bytecode was written
/// by this process and kept in memory.
const READ_NO_CHECKSUM: i32 = 1 << 8;

/// The hook's function from the bytecode an earlier page of the execution wrote.
fn read_bytecode<'js>(ctx: &Ctx<'js>, bytecode: &Arc<[u8]>) -> Result<Value<'js>, ScriptFailure> {
    // A bundled library's source is copied into every function that holds a part of it;
    // borrowed from the bytecode instead, which the runtime keeps until it is freed (its
    // functions read their source only while JavaScript can run, and never free it).
    // (Only the first bytecode a runtime reads is kept so: storing another would drop it.)
    let kept = ctx.userdata::<HeldBytecode>().is_none()
        && matches!(ctx.store_userdata(HeldBytecode { _kept: bytecode.clone() }), Ok(None));
    let flags = qjs::JS_READ_OBJ_BYTECODE as i32 | READ_NO_CHECKSUM | if kept { READ_BORROW_DEBUG } else { 0 };
    // SAFETY: `ctx` is live; the bytes were written by `compile` with this QuickJS in this
    // process and, when borrowed, are kept by the runtime (above); the returned value is
    // handed to `Value`, which frees it.
    let function = unsafe {
        let raw = qjs::JS_ReadObject(ctx.as_raw().as_ptr(), bytecode.as_ptr(), bytecode.len() as _, flags);
        Value::from_raw(ctx.clone(), raw)
    };
    if function.is_exception() {
        return Err(ScriptFailure::caught(ctx, rquickjs::Error::Exception, ErrorKind::Exception));
    }
    Ok(function)
}

fn throw(ctx: &Ctx<'_>, error: HostError) -> rquickjs::Error {
    match error {
        HostError::Type(message) => Exception::throw_type(ctx, &message),
        HostError::Range(message) => Exception::throw_range(ctx, &message),
        HostError::Error(message) => Exception::throw_message(ctx, &message),
    }
}

/// The host functions handed to the prelude's `install`.
fn natives<'js>(ctx: &Ctx<'js>, host: Arc<Host>) -> rquickjs::Result<Object<'js>> {
    let natives = Object::new(ctx.clone())?;

    let log_host = host.clone();
    natives.set(
        "log",
        Function::new(ctx.clone(), move |level: String, message: String, data: Option<String>| {
            log_host.log(&level, message, data);
        })?,
    )?;

    let http_host = host.clone();
    natives.set(
        "http",
        Function::new(
            ctx.clone(),
            Async(
                move |ctx: Ctx<'js>,
                      method: String,
                      url: String,
                      headers: Vec<String>,
                      query: Vec<String>,
                      body: Option<String>,
                      timeout: Option<f64>| {
                    let host = http_host.clone();
                    async move {
                        let reply = host
                            .http(&method, &url, headers, query, body, timeout)
                            .await
                            .map_err(|error| throw(&ctx, error))?;
                        let response = Object::new(ctx.clone())?;
                        response.set("status", reply.status)?;
                        let headers = Object::new(ctx.clone())?;
                        for (name, value) in reply.headers {
                            headers.set(name, value)?;
                        }
                        response.set("headers", headers)?;
                        response.set("text", reply.text)?;
                        Ok::<_, rquickjs::Error>(response)
                    }
                },
            ),
        )?,
    )?;

    let kv_get_host = host.clone();
    natives.set(
        "kvGet",
        Function::new(
            ctx.clone(),
            Async(move |ctx: Ctx<'js>, key: String| {
                let host = kv_get_host.clone();
                async move { host.kv_get(&key).await.map_err(|error| throw(&ctx, error)) }
            }),
        )?,
    )?;

    let kv_set_host = host;
    natives.set(
        "kvSet",
        Function::new(
            ctx.clone(),
            Async(move |ctx: Ctx<'js>, key: String, value: String, ttl: Option<f64>| {
                let host = kv_set_host.clone();
                async move { host.kv_set(&key, value, ttl).await.map_err(|error| throw(&ctx, error)) }
            }),
        )?,
    )?;

    natives.set(
        "sleep",
        Function::new(
            ctx.clone(),
            Async(|milliseconds: f64| async move {
                let duration =
                    std::time::Duration::try_from_secs_f64(milliseconds / 1000.0).unwrap_or(std::time::Duration::MAX);
                // The page deadline ends any long sleep; this only keeps the arithmetic in range.
                tokio::time::sleep(duration.min(std::time::Duration::from_secs(86_400))).await;
                Ok::<_, rquickjs::Error>(())
            }),
        )?,
    )?;

    natives.set(
        "utf8Encode",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, text: String| TypedArray::<u8>::new(ctx, text.into_bytes()))?,
    )?;
    natives.set(
        "utf8Decode",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, bytes: TypedArray<'js, u8>, fatal: bool, ignore_bom: bool| {
            // SAFETY: no JavaScript runs while the slice is alive; it is copied before returning.
            let raw = unsafe { bytes.as_bytes() }.unwrap_or_default();
            let raw = if !ignore_bom { raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw) } else { raw };
            match std::str::from_utf8(raw) {
                Ok(text) => Ok(text.to_string()),
                Err(_) if fatal => {
                    Err(Exception::throw_type(&ctx, "TextDecoder: the encoded data was not valid utf-8"))
                }
                Err(_) => Ok(String::from_utf8_lossy(raw).into_owned()),
            }
        })?,
    )?;

    natives.set(
        "urlParse",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, input: String, base: Option<String>| {
            let parsed = match base {
                Some(base) => url::Url::parse(&base).and_then(|base| base.join(&input)),
                None => url::Url::parse(&input),
            };
            parsed
                .map(|url| url_parts(&url))
                .map_err(|error| Exception::throw_type(&ctx, &format!("Invalid URL {input:?}: {error}")))
        })?,
    )?;
    natives.set(
        "urlSet",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, href: String, part: String, value: String| {
            let mut url = url::Url::parse(&href).map_err(|error| Exception::throw_type(&ctx, &error.to_string()))?;
            // Setters follow the URL Standard: an invalid value is ignored, except for href.
            match part.as_str() {
                "href" => url::quirks::set_href(&mut url, &value)
                    .map_err(|error| Exception::throw_type(&ctx, &format!("Invalid URL {value:?}: {error}")))?,
                "protocol" => {
                    let _ = url::quirks::set_protocol(&mut url, &value);
                }
                "username" => {
                    let _ = url::quirks::set_username(&mut url, &value);
                }
                "password" => {
                    let _ = url::quirks::set_password(&mut url, &value);
                }
                "host" => {
                    let _ = url::quirks::set_host(&mut url, &value);
                }
                "hostname" => {
                    let _ = url::quirks::set_hostname(&mut url, &value);
                }
                "port" => {
                    let _ = url::quirks::set_port(&mut url, &value);
                }
                "pathname" => url::quirks::set_pathname(&mut url, &value),
                "search" => url::quirks::set_search(&mut url, &value),
                "hash" => url::quirks::set_hash(&mut url, &value),
                _ => {}
            }
            Ok::<_, rquickjs::Error>(url_parts(&url))
        })?,
    )?;
    natives.set(
        "formParse",
        Function::new(ctx.clone(), |text: String| {
            url::form_urlencoded::parse(text.as_bytes())
                .flat_map(|(key, value)| [key.into_owned(), value.into_owned()])
                .collect::<Vec<String>>()
        })?,
    )?;
    natives.set(
        "formSerialize",
        Function::new(ctx.clone(), |flat: Vec<String>| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(flat.chunks_exact(2).map(|pair| (&pair[0], &pair[1])))
                .finish()
        })?,
    )?;
    Ok(natives)
}

/// The components in the order the prelude's `URL` class reads them.
fn url_parts(url: &url::Url) -> Vec<String> {
    use url::quirks;
    vec![
        quirks::href(url).to_string(),
        quirks::protocol(url).to_string(),
        quirks::username(url).to_string(),
        quirks::password(url).to_string(),
        quirks::host(url).to_string(),
        quirks::hostname(url).to_string(),
        quirks::port(url).to_string(),
        quirks::pathname(url).to_string(),
        quirks::search(url).to_string(),
        quirks::hash(url).to_string(),
        quirks::origin(url),
    ]
}
