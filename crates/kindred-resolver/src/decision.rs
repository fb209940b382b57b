//! Decisions by people about which records are one person: review approvals
//! and rejections, and splits. They are pinned on the source events they
//! concern (as [`Constraint`]s), so every later recomputation of those
//! events, by a new event, a replay or a rule change, honours them.

use serde::{Deserialize, Serialize};

/// A decision as one event carries it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Constraint {
    /// Events on different sides of this decision are never joined.
    Apart { decision: u64, side: u32 },
    /// Events carrying this decision are joined, as if they shared a member card.
    Together { decision: u64 },
    /// The side of separation `decision` this event had before approval
    /// `by` lifted that separation or moved the event to another side of
    /// it: linking ignores it; a reject that takes approval `by` back
    /// restores it.
    Suspended { decision: u64, side: u32, by: u64 },
}

impl Constraint {
    pub fn decision(&self) -> u64 {
        match self {
            Constraint::Apart { decision, .. }
            | Constraint::Together { decision }
            | Constraint::Suspended { decision, .. } => *decision,
        }
    }

    /// The highest decision number this names (a suspended side names the
    /// approval that suspended it too).
    pub fn highest_decision(&self) -> u64 {
        match self {
            Constraint::Suspended { decision, by, .. } => (*decision).max(*by),
            other => other.decision(),
        }
    }
}

/// `list` with the approvals in `lifted` taken back: their `Together`
/// gone, and the separations they had lifted or moved restored to the
/// side each event had before.
pub(crate) fn taken_back(
    list: &[Constraint],
    lifted: &std::collections::BTreeSet<u64>,
) -> Vec<Constraint> {
    // Per separation, the side the earliest of these approvals suspended
    // (the one the record had before any of them).
    let mut earliest: std::collections::BTreeMap<u64, (u64, u32)> = Default::default();
    for c in list {
        if let Constraint::Suspended { decision, side, by } = c {
            if lifted.contains(by) {
                let e = earliest.entry(*decision).or_insert((*by, *side));
                if *by < e.0 {
                    *e = (*by, *side);
                }
            }
        }
    }
    let restored: Vec<(u64, u32)> = earliest
        .into_iter()
        .map(|(d, (_, side))| (d, side))
        .collect();
    let mut out: Vec<Constraint> = list
        .iter()
        .filter(|c| match c {
            Constraint::Together { decision } => !lifted.contains(decision),
            Constraint::Suspended { by, .. } => !lifted.contains(by),
            Constraint::Apart { decision, .. } => !restored.iter().any(|(d, _)| d == decision),
        })
        .cloned()
        .collect();
    out.extend(
        restored
            .into_iter()
            .map(|(decision, side)| Constraint::Apart { decision, side }),
    );
    out
}

/// What a decision did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecisionKind {
    /// A reviewer confirmed that two profiles are one person.
    Approve,
    /// A reviewer said two profiles are different people: never auto-merged.
    Reject,
    /// An identifier of this kind stopped joining a profile's records.
    SplitIdentifier { kind: String },
    /// A channel's records were taken out of a profile.
    SplitSource { channel: String },
    /// A changed rule set was applied (`kindred rules apply`).
    Rules { fingerprint: String },
    /// Every live profile was queued for the profile topic again
    /// (`kindred republish`): `profiles` of them.
    Republish { profiles: u64 },
    /// Another store's decisions, pinned on `events` of this one
    /// (`kindred rebuild --decisions-from`).
    Carried { events: u64 },
    /// An identifier stopped joining a profile's records, as `explain`
    /// names it: `shown` is its kind and masked value (`phone:+86****111`),
    /// or its kind alone when the request named it by its keyed hash (a
    /// live split); an erasure of the profiles it concerned makes it
    /// `kind:(erased)`. Never the raw value. (Stores written before it was
    /// recorded hold [`DecisionKind::SplitIdentifier`], the kind only; a
    /// new variant at the end keeps their records readable.)
    SplitIdentifierShown { kind: String, shown: String },
}

impl DecisionKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            DecisionKind::Approve => "approve",
            DecisionKind::Reject => "reject",
            DecisionKind::SplitIdentifier { .. } | DecisionKind::SplitIdentifierShown { .. } => {
                "split_identifier"
            }
            DecisionKind::SplitSource { .. } => "split_source",
            DecisionKind::Rules { .. } => "rules",
            DecisionKind::Republish { .. } => "republish",
            DecisionKind::Carried { .. } => "carried",
        }
    }

    /// What a split took out, for `explain`: `identifier phone:+86****111`
    /// (masked; the kind alone in older records or live splits) or
    /// `channel social`. `None` for the other kinds.
    pub fn split_by(&self) -> Option<String> {
        match self {
            DecisionKind::SplitIdentifier { kind } => Some(format!("identifier {kind}")),
            DecisionKind::SplitIdentifierShown { shown, .. } => Some(format!("identifier {shown}")),
            DecisionKind::SplitSource { channel } => Some(format!("channel {channel}")),
            _ => None,
        }
    }
}

/// The audit record of one decision (no raw identifier values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub id: u64,
    pub kind: DecisionKind,
    /// Who decided (a reviewer's name, or the operator running the command).
    pub actor: String,
    /// Wall-clock time of the decision, ms since the epoch.
    pub at_ms: i64,
    /// The profiles it concerned, as given (before redirects).
    pub profiles: Vec<String>,
    /// The profiles it left, in order.
    pub outcome: Vec<String>,
}

impl DecisionRecord {
    /// A decision about to be carried out: its outcome comes later.
    pub fn new(
        id: u64,
        kind: DecisionKind,
        actor: &str,
        at_ms: i64,
        profiles: Vec<String>,
    ) -> Self {
        DecisionRecord {
            id,
            kind,
            actor: actor.to_string(),
            at_ms,
            profiles,
            outcome: Vec::new(),
        }
    }
}

/// What the caller wants a split to take out of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitSelector {
    /// This identifier stops joining the profile's records; the records it
    /// alone held together become separate profiles.
    Identifier(kindred_model::Identifier),
    /// The records of this channel leave the profile.
    Source(kindred_model::Channel),
    /// As `Identifier`, named by its index key (`kind:keyed-hash`, as
    /// [`crate::index_key`] makes it): a request that must not carry the
    /// raw value.
    IndexKey(String),
}

/// Whether an approval still in force (in `lists`, after [`taken_back`])
/// holds records that a restored separation (one of `restored`) puts on
/// different sides: taking the other approvals back would then break it.
pub(crate) fn held_by_another_approval(
    lists: &[Vec<Constraint>],
    restored: &std::collections::BTreeSet<u64>,
) -> bool {
    use std::collections::{BTreeMap, BTreeSet};
    let mut sides: BTreeMap<(u64, u64), BTreeSet<u32>> = BTreeMap::new();
    for list in lists {
        for c in list {
            let Constraint::Together { decision: approval } = c else {
                continue;
            };
            for a in list {
                if let Constraint::Apart { decision, side } = a {
                    if restored.contains(decision) {
                        sides
                            .entry((*approval, *decision))
                            .or_default()
                            .insert(*side);
                    }
                }
            }
        }
    }
    sides.values().any(|s| s.len() > 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn set(ids: &[u64]) -> BTreeSet<u64> {
        ids.iter().copied().collect()
    }

    fn apart(decision: u64, side: u32) -> Constraint {
        Constraint::Apart { decision, side }
    }

    fn together(decision: u64) -> Constraint {
        Constraint::Together { decision }
    }

    fn suspended(decision: u64, side: u32, by: u64) -> Constraint {
        Constraint::Suspended { decision, side, by }
    }

    /// `taken_back(list, lifted)` holds exactly `want`, in any order.
    fn assert_taken_back(list: &[Constraint], lifted: &[u64], mut want: Vec<Constraint>) {
        let mut back = taken_back(list, &set(lifted));
        back.sort();
        want.sort();
        assert_eq!(back, want, "taking back {lifted:?} from {list:?}");
    }

    #[test]
    fn taking_an_approval_back_restores_what_it_suspended_and_nothing_else() {
        // Split 1 parted the record (side 2); approval 5 moved it to side 0;
        // approval 7, another pair's, still joins it; approval 9 lifted
        // separation 3.
        let list = vec![
            apart(1, 0),
            suspended(1, 2, 5),
            together(5),
            together(7),
            suspended(3, 1, 9),
            together(9),
        ];
        assert_taken_back(
            &list,
            &[5],
            vec![apart(1, 2), together(7), suspended(3, 1, 9), together(9)],
        );
        // Nothing named: nothing changes.
        assert_eq!(taken_back(&list, &set(&[])), list);
    }

    #[test]
    fn the_side_before_the_earliest_approval_comes_back() {
        // Approval 5 moved the record from side 2 to 1, approval 8 from 1 to 0.
        let list = vec![apart(1, 0), suspended(1, 2, 5), suspended(1, 1, 8)];
        assert_taken_back(&list, &[5, 8], vec![apart(1, 2)]);
        // Only the later one: back to the side the earlier one gave.
        assert_taken_back(&list, &[8], vec![apart(1, 1), suspended(1, 2, 5)]);
    }

    #[test]
    fn an_approval_in_force_across_a_restored_separation_is_found() {
        let p = vec![apart(1, 0), together(7)];
        let w = vec![apart(1, 1), together(7)];
        let q = vec![together(7)];
        assert!(held_by_another_approval(
            &[p.clone(), w.clone(), q.clone()],
            &set(&[1])
        ));
        // Not restored by this reject, or not spanning its sides: no.
        assert!(!held_by_another_approval(&[p.clone(), w, q], &set(&[2])));
        assert!(!held_by_another_approval(
            &[p, vec![apart(1, 1)]],
            &set(&[1])
        ));
    }
}
