//! Which organisation's work a free worker takes next (pure: no IO, no clock).
//!
//! Organisations take turns (round-robin, in id order from the one after the last served),
//! and none holds more than its cap of workers at once: an organisation whose hooks compute
//! for their whole deadline occupies at most its cap, and every other organisation's work
//! finds a worker free.

use std::collections::BTreeMap;

use flowstate_store::OrgId;

/// The workers each organisation holds, and whose turn is next.
#[derive(Debug)]
pub struct Fairness {
    cap: usize,
    running: BTreeMap<OrgId, usize>,
    last_served: Option<OrgId>,
}

impl Fairness {
    /// At most `cap` workers per organisation (at least 1).
    pub fn new(cap: usize) -> Fairness {
        Fairness { cap: cap.max(1), running: BTreeMap::new(), last_served: None }
    }

    /// The organisation to serve next among those with work waiting (`waiting`, any order),
    /// leaving out those at their cap; `None` when every one is.
    pub fn next<'a>(&self, waiting: impl IntoIterator<Item = &'a OrgId>) -> Option<&'a OrgId> {
        let mut eligible: Vec<&OrgId> = waiting.into_iter().filter(|org| self.holds(org) < self.cap).collect();
        eligible.sort();
        eligible.dedup();
        let after_last = |org: &&&OrgId| self.last_served.as_ref().is_some_and(|last| **org > last);
        eligible.iter().find(after_last).or_else(|| eligible.first()).copied()
    }

    /// How many workers the organisation holds.
    pub fn holds(&self, org: &OrgId) -> usize {
        self.running.get(org).copied().unwrap_or(0)
    }

    /// A worker took work of `org`.
    pub fn started(&mut self, org: &OrgId) {
        *self.running.entry(org.clone()).or_default() += 1;
        self.last_served = Some(org.clone());
    }

    /// A worker finished work of `org`.
    pub fn finished(&mut self, org: &OrgId) {
        if let Some(count) = self.running.get_mut(org) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.running.remove(org);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orgs(names: &[&str]) -> Vec<OrgId> {
        names.iter().map(|name| OrgId::new(*name)).collect()
    }

    /// Serves `turns` times from `waiting` (every organisation always has more), finishing
    /// nothing; the order served.
    fn serve(fairness: &mut Fairness, waiting: &[OrgId], turns: usize) -> Vec<String> {
        let mut served = Vec::new();
        for _ in 0..turns {
            let Some(org) = fairness.next(waiting).cloned() else { break };
            fairness.started(&org);
            served.push(org.to_string());
        }
        served
    }

    #[test]
    fn organisations_take_turns() {
        let mut fairness = Fairness::new(10);
        let waiting = orgs(&["b", "a", "c"]);
        assert_eq!(serve(&mut fairness, &waiting, 7), ["a", "b", "c", "a", "b", "c", "a"]);
    }

    #[test]
    fn an_organisation_at_its_cap_waits_and_the_others_go_on() {
        let mut fairness = Fairness::new(1);
        let (a, b) = (OrgId::new("a"), OrgId::new("b"));
        fairness.started(&a);
        // A has four runs waiting and holds its one worker: B is served, then nobody.
        let waiting = vec![a.clone(), a.clone(), a.clone(), a.clone(), b.clone()];
        assert_eq!(fairness.next(&waiting), Some(&b));
        fairness.started(&b);
        assert_eq!(fairness.next(&waiting), None);
        fairness.finished(&a);
        assert_eq!(fairness.next(&waiting), Some(&a));
    }

    #[test]
    fn a_new_organisation_is_served_in_its_turn_not_after_a_backlog() {
        let mut fairness = Fairness::new(2);
        let many = orgs(&["a"]);
        assert_eq!(serve(&mut fairness, &many, 1), ["a"]);
        // B arrives while A still has work: B goes next.
        let waiting = orgs(&["a", "b"]);
        assert_eq!(fairness.next(&waiting).map(OrgId::as_str), Some("b"));
    }
}
