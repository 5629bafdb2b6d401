//! The hook devkit's pure parts (issue 14): a new hook's starting code (`starter`), served
//! to the console by the API and written by `flowstate hook init`, and `flowstate.d.ts`
//! (`typings`), generated from the sync's field tables; and the recording and replay of a
//! run's HTTP exchanges (`recording`).
//!
//! **Architecture Invariant:** no IO of its own: text from tables, and a recorder that hands
//! requests on to the transport it was given (the caller reads and writes the files).

pub mod recording;
pub mod starter;
pub mod typings;

/// PULL or PUSH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookKind {
    Pull,
    Push,
}
