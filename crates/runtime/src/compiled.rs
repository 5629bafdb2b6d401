//! Hooks this engine has compiled, kept across executions: a scheduled hook runs the same
//! code again and again, and a hook that carries a bundled library would otherwise pay for
//! parsing it once per execution. An entry is found only by the same hook (its `kv_scope`,
//! which names the organisation's hook on a server), file name and exact source, so one
//! organisation's runs never share anything with another's (not even a faster first
//! page). Bounded by entries and bytes; the least recently used go first.

use std::{
    collections::VecDeque,
    hash::{Hash, Hasher},
    sync::{Arc, Mutex},
};

/// At most this many compiled hooks are kept...
const MAX_ENTRIES: usize = 64;
/// ...holding at most this many bytes of source and bytecode together.
const MAX_BYTES: usize = 64 * 1024 * 1024;

pub(crate) struct CompiledHooks {
    /// Most recently used first.
    entries: Mutex<VecDeque<Entry>>,
}

struct Entry {
    digest: u64,
    scope: String,
    file_name: String,
    code: String,
    bytecode: Arc<[u8]>,
}

impl Entry {
    fn bytes(&self) -> usize {
        self.code.len() + self.bytecode.len()
    }

    fn is(&self, digest: u64, scope: &str, file_name: &str, code: &str) -> bool {
        self.digest == digest && self.scope == scope && self.file_name == file_name && self.code == code
    }
}

fn digest(scope: &str, file_name: &str, code: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (scope, file_name, code).hash(&mut hasher);
    hasher.finish()
}

impl CompiledHooks {
    pub(crate) fn new() -> CompiledHooks {
        CompiledHooks { entries: Mutex::new(VecDeque::new()) }
    }

    /// The bytecode of exactly this hook's code, if this engine compiled it before.
    pub(crate) fn get(&self, scope: &str, file_name: &str, code: &str) -> Option<Arc<[u8]>> {
        let key = digest(scope, file_name, code);
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let index = entries.iter().position(|entry| entry.is(key, scope, file_name, code))?;
        let entry = entries.remove(index).expect("found");
        let bytecode = entry.bytecode.clone();
        entries.push_front(entry);
        Some(bytecode)
    }

    /// Keeps `bytecode` for this hook's code (too large a hook is not kept).
    pub(crate) fn put(&self, scope: &str, file_name: &str, code: &str, bytecode: Arc<[u8]>) {
        let entry = Entry {
            digest: digest(scope, file_name, code),
            scope: scope.to_string(),
            file_name: file_name.to_string(),
            code: code.to_string(),
            bytecode,
        };
        if entry.bytes() > MAX_BYTES / 4 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // A hook's older code goes: its new code replaces it.
        entries.retain(|kept| !(kept.scope == entry.scope && kept.file_name == entry.file_name));
        entries.push_front(entry);
        let mut total: usize = entries.iter().map(Entry::bytes).sum();
        while entries.len() > MAX_ENTRIES || total > MAX_BYTES {
            let Some(evicted) = entries.pop_back() else { break };
            total -= evicted.bytes();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_hooks_exact_code_is_found_and_the_oldest_go_first() {
        let cache = CompiledHooks::new();
        let bytes: Arc<[u8]> = Arc::from(vec![1u8, 2, 3]);
        cache.put("org_a/hook_1", "h.js", "code", bytes.clone());
        assert_eq!(cache.get("org_a/hook_1", "h.js", "code").as_deref(), Some(&[1u8, 2, 3][..]));
        assert!(cache.get("org_b/hook_9", "h.js", "code").is_none(), "another hook (organisation) never");
        assert!(cache.get("org_a/hook_1", "h.js", "code ").is_none(), "other code never");
        assert!(cache.get("org_a/hook_1", "h.ts", "code").is_none(), "another language never");
        // New code of the same hook replaces the old.
        cache.put("org_a/hook_1", "h.js", "new code", bytes.clone());
        assert_eq!(cache.len(), 1);
        for index in 0..MAX_ENTRIES + 5 {
            cache.put(&format!("scope-{index}"), "h.js", "code", bytes.clone());
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        assert!(cache.get("org_a/hook_1", "h.js", "new code").is_none(), "the least recently used went");
        assert!(cache.get(&format!("scope-{}", MAX_ENTRIES + 4), "h.js", "code").is_some());
    }
}
