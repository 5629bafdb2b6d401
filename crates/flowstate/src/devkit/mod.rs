//! The hook devkit (issue 14): what helps an author write a hook before the server runs it.
//! `init` starts a hook's folder; `deploy` puts a hook on a server; `typings` writes `flowstate.d.ts`; `starter` is the
//! guide's example for a type and entity.

pub mod deploy;
pub mod init;
pub mod starter;
pub mod typings;
