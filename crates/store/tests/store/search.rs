//! `export_mentioning`: what a searched REST list reads. It may give more than the entities
//! that mention the text, never fewer, and for selective text it gives few.

use std::collections::BTreeSet;

use flowstate_sync::EntityType;
use serde_json::{Value, json};

use crate::helpers::TestStore;

/// As the REST list's search: a top-level text value contains `text` (lowercase) once
/// lowercased.
fn mentions(entity: &Value, text: &str) -> bool {
    entity.as_object().unwrap().values().any(|value| value.as_str().is_some_and(|v| v.to_lowercase().contains(text)))
}

fn ids(entities: &[Value]) -> BTreeSet<String> {
    entities.iter().map(|entity| entity["externalId"].as_str().unwrap().to_string()).collect()
}

fn candidates_hold_every_entity_that_mentions_the_text(test: TestStore) {
    let people = [
        ("E-1", "Ada", "Lovelace", "ada@example.com"),
        ("E-2", "Grace", "Hopper", "grace@example.com"),
        // The Kelvin sign and a capital I with a dot lowercase to ASCII letters in Rust.
        ("E-3", "Kelvin", "\u{212a}ing", "kelvin@example.com"),
        ("E-4", "X\u{130}smail", "Y", "x4@example.com"),
        ("E-5", "Per%cent", "Under_score", "p@example.com"),
        ("E-6", "Zoë", "Quote\"d", "z@example.com"),
    ];
    let list: Vec<(&str, Value)> = people
        .iter()
        .map(|(id, first, last, email)| (*id, json!({ "firstName": first, "lastName": last, "email": email })))
        .collect();
    assert_eq!(test.apply(EntityType::Employee, &list).created, 6);
    let all = test.store.export(&test.org, EntityType::Employee).unwrap();
    // Rows holding the two letters are candidates for any text.
    let exotic: BTreeSet<String> = ["E-3", "E-4"].map(str::to_string).into();
    // Selective text: no field name holds it. "i" is in "firstName", so every row may mention it.
    // "xi" is found through U+0130 only ("X\u{130}smail" lowercases to "xi\u{307}smail").
    let selective = ["lovelace", "ada", "king", "xi", "per%cent", "%", "a_e", "r_s", "quote", "hopper", "e-2", "emp_"];
    for text in selective.iter().chain(&["i", "name"]) {
        let exact: Vec<Value> = all.iter().filter(|entity| mentions(entity, text)).cloned().collect();
        let found = test.store.export_mentioning(&test.org, EntityType::Employee, text).unwrap();
        assert!(ids(&found).is_superset(&ids(&exact)), "{text:?}: {:?} misses some of {:?}", ids(&found), ids(&exact));
        let allowed: BTreeSet<String> = ids(&exact).union(&exotic).cloned().collect();
        if selective.contains(text) {
            assert!(ids(&found).is_subset(&allowed), "{text:?}: {:?} beyond {:?}", ids(&found), allowed);
        }
        for entity in &found {
            assert!(all.contains(entity), "{text:?}: shown as export shows it");
        }
    }
    let found = test.store.export_mentioning(&test.org, EntityType::Employee, "lovelace").unwrap();
    assert_eq!(ids(&found), ["E-1", "E-3", "E-4"].map(str::to_string).into());
    // Text the database cannot look for as Rust lowercases it, or too long a text for a
    // pattern: every entity.
    assert_eq!(test.store.export_mentioning(&test.org, EntityType::Employee, "zoë").unwrap(), all);
    let long = "a_".repeat(30_000);
    assert_eq!(test.store.export_mentioning(&test.org, EntityType::Employee, &long).unwrap(), all);
}

crate::on_both_backends!(candidates_hold_every_entity_that_mentions_the_text);
