//! `flowstate hook init NAME --type pull|push --entity ENTITY`: a hook's folder, ready to
//! edit with completion and checking, and to run with `flowstate hook run`.

use std::path::Path;

use anyhow::Context as _;
use flowstate_store::kinds::Language;
use serde_json::json;

use crate::{
    Outcome, UsageError,
    cli::{HookInitArgs, HookKind},
};

pub fn run(args: HookInitArgs) -> Result<Outcome, UsageError> {
    let valid = !args.name.is_empty()
        && args.name.len() <= 100
        && args.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(UsageError(anyhow::anyhow!(
            "the hook's name is its folder's and file's: letters, digits, - and _ (at most 100), got {:?}",
            args.name
        )));
    }
    let folder = args.dir.join(&args.name);
    if folder.exists() && std::fs::read_dir(&folder).map(|mut entries| entries.next().is_some()).unwrap_or(true) {
        return Err(UsageError(anyhow::anyhow!("{} exists and is not empty: nothing was written", folder.display())));
    }
    let (language, config_file) =
        if args.typescript { (Language::TypeScript, "tsconfig.json") } else { (Language::JavaScript, "jsconfig.json") };
    let file = language.file_name(&args.name);
    write(&folder.join(&file), &flowstate_devkit::starter::code(args.kind.devkit(), args.entity, args.typescript))?;
    write(&folder.join("flowstate.d.ts"), &flowstate_devkit::typings::flowstate_d_ts())?;
    let config = json!({
        "compilerOptions": {
            // Strict, but what an API answers (`any`) may flow into callbacks untyped.
            "checkJs": true, "strict": true, "noImplicitAny": false, "noEmit": true, "target": "es2022", "lib": ["es2022"],
            "module": "es2022", "moduleResolution": "bundler", "skipLibCheck": false
        },
        "include": [language.file_name("*"), "flowstate.d.ts".to_string()]
    });
    write(&folder.join(config_file), &format!("{}\n", serde_json::to_string_pretty(&config).expect("json")))?;
    let fixtures = folder.join("fixtures");
    match args.kind {
        HookKind::Push => {
            let event = json!({
                "entityType": args.entity.as_str(),
                "entityId": format!("{}_example", &args.entity.as_str()[..3]),
                "changeType": "update",
                "before": { "externalId": "EXAMPLE-1" },
                "after": { "externalId": "EXAMPLE-1" },
            });
            write(&fixtures.join("event.json"), &format!("{}\n", serde_json::to_string_pretty(&event).expect("json")))?;
        }
        HookKind::Pull => {
            write(&fixtures.join("README.md"), "Fixtures for this hook: inputs and expected outputs for its tests.\n")?
        }
    }
    println!("Created {}/:", folder.display());
    println!(
        "  {file}          the hook (the guide's example for a {} {} hook)",
        args.kind.as_str(),
        args.entity.as_str()
    );
    println!("  flowstate.d.ts   the types of ctx and of a {} record, for your editor", args.entity.as_str());
    println!("  {config_file}    turns checking on in editors that read it");
    println!(
        "  fixtures/        {}",
        if args.kind == HookKind::Push { "event.json: a change to run it with" } else { "test inputs" }
    );
    println!("Run it:");
    let event = if args.kind == HookKind::Push {
        format!(" --event {}", fixtures.join("event.json").display())
    } else {
        String::new()
    };
    println!(
        "  flowstate hook run {} --type {} --entity {}{event} --secret api_key=…",
        folder.join(&file).display(),
        args.kind.as_str().to_lowercase(),
        args.entity.as_str()
    );
    Ok(Outcome::Succeeded)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
