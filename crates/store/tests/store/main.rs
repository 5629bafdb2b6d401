//! The store and the sync rules, against a real SQLite file.
//!
//! FIXME(issue 4): the same suite must also run against PostgreSQL; the PostgreSQL store is
//! not written yet.

mod helpers;

mod nested;
mod sync;
mod vacancy;
