//! The hook devkit's pure parts (issue 14): a new hook's starting code (`starter`), served
//! to the console by the API and written by `flowstate hook init`, and `flowstate.d.ts`
//! (`typings`), generated from the sync's field tables.
//!
//! **Architecture Invariant:** pure text from tables: no IO.

pub mod starter;
pub mod typings;

/// PULL or PUSH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookKind {
    Pull,
    Push,
}
