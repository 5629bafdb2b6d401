//! Database connections (issue 10): a read never waits behind a write transaction.

use std::{
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    time::Duration,
};

use flowstate_store::integrations::SealedSecret;

use crate::helpers::TestStore;

crate::on_both_backends!(a_read_runs_beside_an_open_write_transaction);

/// `reseal_secrets` calls back inside its write transaction: held open there, a read from
/// another thread must still answer (with one shared connection it waited for the commit).
fn a_read_runs_beside_an_open_write_transaction(test: TestStore) {
    let TestStore { store, org, .. } = &test;
    let integration = store.create_integration(org, "HR", None, &format!("pool_{}", org.as_str())).unwrap();
    let secret = SealedSecret {
        name: "token".into(),
        nonce: "00".repeat(12),
        ciphertext: "aa".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
    };
    store.put_secret(org, &integration.id, &secret).unwrap();
    let (inside_sender, inside) = mpsc::channel();
    let (go, go_receiver) = mpsc::channel::<()>();
    let (inside_sender, go_receiver) = (Mutex::new(inside_sender), Mutex::new(go_receiver));
    let paused = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            store.reseal_secrets(|_, secret| {
                // Other tests' secrets may share the database: pause once only.
                if !paused.swap(true, Ordering::SeqCst) {
                    inside_sender.lock().unwrap().send(()).unwrap();
                    let _ = go_receiver.lock().unwrap().recv_timeout(Duration::from_secs(60));
                }
                Some(secret.clone())
            })
        });
        inside.recv_timeout(Duration::from_secs(30)).expect("the write transaction began");
        let (answer, answered) = mpsc::channel();
        let integration_id = integration.id.clone();
        scope.spawn(move || answer.send(store.integration(org, &integration_id).map(|found| found.is_some())));
        let read = answered.recv_timeout(Duration::from_secs(10));
        go.send(()).unwrap();
        assert!(matches!(read, Ok(Ok(true))), "the read waited for the write transaction: {read:?}");
        writer.join().unwrap().unwrap();
    });
}
