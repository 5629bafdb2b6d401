//! The master key (32 bytes; it seals hook secrets): kept as 64 hex digits in a file readable
//! by its owner only, or given as `FLOWSTATE_MASTER_KEY`.

use std::{io::Write as _, path::Path};

use anyhow::{Context as _, bail};

fn random_key() -> anyhow::Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("reading random bytes: {error}"))?;
    Ok(bytes)
}

fn parse(hex: &str) -> anyhow::Result<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        bail!("the master key must be 64 hex digits (32 bytes)");
    }
    let mut key = [0u8; 32];
    for (index, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[index * 2..index * 2 + 2], 16).expect("checked hex");
    }
    Ok(key)
}

/// Writes `key` to a new file, owner-only; fails if the file exists.
fn write_new(file: &Path, key: &[u8; 32]) -> anyhow::Result<()> {
    let hex: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut created = options.open(file).with_context(|| format!("creating {}", file.display()))?;
    writeln!(created, "{hex}").with_context(|| format!("writing {}", file.display()))?;
    created.sync_all().with_context(|| format!("writing {}", file.display()))
}

/// The key given, or the file's, or a new one written to the file.
pub fn load_or_create(given: Option<&str>, file: &Path) -> anyhow::Result<[u8; 32]> {
    match given {
        Some(hex) => parse(hex),
        None if file.exists() => {
            parse(&std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?)
        }
        None => {
            let key = random_key()?;
            write_new(file, &key)?;
            tracing::info!(file = %file.display(), "created a new master key");
            Ok(key)
        }
    }
}

/// The key a rotation staged and did not move into place (it stopped half-way), if any.
pub fn staged(file: &Path) -> anyhow::Result<Option<[u8; 32]>> {
    let staged = file.with_extension("key.new");
    if !staged.exists() {
        return Ok(None);
    }
    Ok(Some(parse(&std::fs::read_to_string(&staged).with_context(|| format!("reading {}", staged.display()))?)?))
}

/// Ends a rotation that stopped half-way: `committed` (the secrets were re-sealed under the
/// staged key) moves the staged key into place; otherwise it is removed.
pub fn settle_rotation(file: &Path, committed: bool) -> anyhow::Result<()> {
    let staged = file.with_extension("key.new");
    if committed {
        std::fs::rename(&staged, file).with_context(|| format!("moving {} to {}", staged.display(), file.display()))
    } else {
        std::fs::remove_file(&staged).with_context(|| format!("removing {}", staged.display()))
    }
}

/// A rotation in two steps: [`Rotation::begin`] writes the new key beside the file
/// (`<file>.new`); after the secrets are re-sealed, [`Rotation::commit`] moves it into place.
/// A crash between the two leaves both files; the server's next start keeps the one that
/// opens the secrets ([`staged`], [`settle_rotation`]).
pub struct Rotation {
    pub old: [u8; 32],
    pub new: [u8; 32],
    file: std::path::PathBuf,
    staged: std::path::PathBuf,
}

impl Rotation {
    pub fn begin(file: &Path) -> anyhow::Result<Rotation> {
        let old = parse(&std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?)?;
        let staged = file.with_extension("key.new");
        if staged.exists() {
            bail!(
                "{} exists: an earlier rotation stopped half-way; if the secrets were re-sealed it is the key in use, move it to {}",
                staged.display(),
                file.display()
            );
        }
        let new = random_key()?;
        write_new(&staged, &new)?;
        Ok(Rotation { old, new, file: file.to_path_buf(), staged })
    }

    pub fn commit(self) -> anyhow::Result<()> {
        std::fs::rename(&self.staged, &self.file)
            .with_context(|| format!("moving the new key to {}", self.file.display()))
    }

    pub fn abandon(self) {
        let _ = std::fs::remove_file(&self.staged);
    }
}

/// This server's node id, kept beside the master key (`<file>.node`, created on first start):
/// the same data directory is the same node across restarts.
pub fn node_id(master_key_file: &Path) -> anyhow::Result<String> {
    let file = master_key_file.with_extension("node");
    if let Ok(id) = std::fs::read_to_string(&file) {
        return Ok(id.trim().to_string());
    }
    let id = format!("node_{}", &random_key()?.iter().map(|byte| format!("{byte:02x}")).collect::<String>()[..16]);
    std::fs::write(&file, format!("{id}\n")).with_context(|| format!("writing {}", file.display()))?;
    Ok(id)
}
