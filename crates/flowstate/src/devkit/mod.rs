//! The hook devkit's commands (issue 14): `init` starts a hook's folder (with
//! `flowstate_devkit`'s starter and typings); `plan` shows what a sync would do; `deploy` puts a
//! hook on a server.

pub mod deploy;
pub mod init;
pub mod plan;
pub mod tape;
pub mod test;
