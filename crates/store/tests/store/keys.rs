use flowstate_store::keys::Scope;

use crate::helpers::TestStore;

fn keys_authenticate_until_revoked_and_only_with_the_whole_secret(test: TestStore) {
    let created = test.store.create_api_key(&test.org, "ci", &[Scope::EmployeesRead]).unwrap();
    assert!(created.token.starts_with(&format!("private_{}_", created.key.id)), "{}", created.token);
    let key = test.store.authenticate(&created.token).unwrap().expect("the token authenticates");
    assert_eq!((&key.org, key.scopes.clone()), (&test.org, vec![Scope::EmployeesRead]));
    assert!(key.allows(Scope::EmployeesRead) && !key.allows(Scope::EmployeesWrite));

    let mut wrong = created.token.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    assert_eq!(test.store.authenticate(&wrong).unwrap(), None, "one character off");
    assert_eq!(test.store.authenticate("private_nope").unwrap(), None);
    assert_eq!(test.store.authenticate("").unwrap(), None);

    let other = test.store.create_org("Other", "UTC", "USD").unwrap();
    assert!(!test.store.revoke_api_key(&other, &created.key.id).unwrap(), "another org cannot revoke it");
    assert!(test.store.revoke_api_key(&test.org, &created.key.id).unwrap());
    assert_eq!(test.store.authenticate(&created.token).unwrap(), None, "revoked");

    let error = "employees:delete".parse::<Scope>().unwrap_err().to_string();
    assert!(error.contains("got \"employees:delete\""), "{error}");
}

crate::on_both_backends!(keys_authenticate_until_revoked_and_only_with_the_whole_secret);
