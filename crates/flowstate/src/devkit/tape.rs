//! `--record DIR` and `--replay DIR`: the run's HTTP exchanges saved to, or answered from,
//! `DIR/http.json` (`flowstate_devkit::recording`).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context as _;
use flowstate_devkit::recording::{RECORDING_FILE, Recorder, Recording, Replayer};
use flowstate_runtime::{Engine, Redactor};

use crate::hook_run::EngineSettings;

/// Where a run's HTTP requests go.
pub enum Tape {
    /// To the network.
    Live,
    /// To the network, each exchange kept for `dir`.
    Record { dir: PathBuf, recorder: Option<Arc<Recorder>> },
    /// Nowhere: answered from a recording.
    Replay { file: PathBuf, recording: Recording, replayer: Option<Arc<Replayer>> },
}

impl Tape {
    /// From `--record` and `--replay` (never both: clap refuses that).
    pub fn new(record: Option<PathBuf>, replay: Option<PathBuf>) -> anyhow::Result<Tape> {
        if let Some(dir) = replay {
            let file = dir.join(RECORDING_FILE);
            return Ok(Tape::Replay { recording: read(&file)?, file, replayer: None });
        }
        Ok(match record {
            Some(dir) => Tape::Record { dir, recorder: None },
            None => Tape::Live,
        })
    }

    /// The engine, its requests going where the tape says; `redactor` keeps the secrets out
    /// of a recording (and redacts requests as the recording was, to match them).
    pub fn engine(&mut self, settings: EngineSettings, redactor: Redactor) -> anyhow::Result<Engine> {
        settings.build_with(|http| match self {
            Tape::Live => http,
            Tape::Record { recorder, .. } => {
                let made = Arc::new(Recorder::new(http, redactor));
                *recorder = Some(made.clone());
                made
            }
            Tape::Replay { recording, replayer, .. } => {
                let made = Arc::new(Replayer::new(recording.clone(), redactor));
                *replayer = Some(made.clone());
                made
            }
        })
    }

    /// Writes the recording, when recording, and says where (stderr).
    pub fn finish(&self) -> anyhow::Result<()> {
        match self {
            Tape::Record { dir, recorder: Some(recorder) } => {
                let recording = recorder.recording();
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                let file = dir.join(RECORDING_FILE);
                std::fs::write(&file, recording.to_json()).with_context(|| format!("writing {}", file.display()))?;
                eprintln!(
                    "recorded {} HTTP exchange{} (secrets redacted) to {}",
                    recording.exchanges.len(),
                    if recording.exchanges.len() == 1 { "" } else { "s" },
                    file.display()
                );
            }
            Tape::Replay { file, .. } => eprintln!("answered from {}", file.display()),
            _ => {}
        }
        Ok(())
    }
}

/// A recording file, read and checked.
pub fn read(file: &Path) -> anyhow::Result<Recording> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the recording {} (make one with --record)", file.display()))?;
    Recording::from_json(&text).with_context(|| format!("the recording {} is not valid", file.display()))
}
