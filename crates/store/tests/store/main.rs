//! The store and the sync rules, against a real SQLite file and a real PostgreSQL database:
//! every test runs on both (`sqlite::…` and `postgres::…`).
//!
//! The PostgreSQL half needs `FLOWSTATE_TEST_DATABASE_URL` (for instance
//! `postgres://postgres@127.0.0.1:5432/test`); each run works in a schema of its own. Without
//! it the PostgreSQL half says on the terminal that it skipped, and under `CI` it fails.

mod helpers;

/// Turns `fn name(test: TestStore)` test bodies into one test per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::helpers::sqlite_store());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(store) = $crate::helpers::postgres_store() {
                        super::$name(store);
                    }
                }
            )*
        }
    };
}

mod api_writes;
mod forecast;
mod integrations;
mod keys;
mod nested;
mod plan;
mod pool;
mod reference;
mod search;
mod sync;
mod vacancy;
