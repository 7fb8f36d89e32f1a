//! `allOf`/`anyOf`/`oneOf` against each other: a change of combinator, a count of subschemas that grew or
//! shrank, and a maximum matching of the writer's subschemas to compatible reader subschemas.

use super::Diff;
use super::locations::Loc;
use super::nodes::Criterion;
use super::report::{Findings, Path, REJECTS};
use crate::compat::ViolationKind;

impl<'a> Diff<'a> {
    pub(super) fn compare_combined(
        &mut self,
        found: &mut Findings,
        (oc, os, osyn): (Criterion, Vec<Loc<'a>>, bool),
        (uc, us): (Criterion, Vec<Loc<'a>>),
        depth: usize,
    ) {
        if oc != uc {
            let allowed = match uc {
                Criterion::Any => true,
                Criterion::One => os.len() == 1,
                Criterion::All => os.len() == 1 && us.len() == 1,
            };
            if !allowed {
                let message = format!(
                    "{} changed from `{}` to `{}`: {REJECTS}",
                    found.path.subject(),
                    oc.keyword(),
                    uc.keyword()
                );
                return found.report(ViolationKind::CombinedTypeChanged, None, message);
            }
        }
        let os = dedup(os);
        let us = dedup(us);
        if os.len() < us.len() && uc == Criterion::All {
            let message = format!(
                "{} has more `allOf` subschemas than the writer's, each a further constraint: {REJECTS}",
                found.path.subject()
            );
            found.report(ViolationKind::ProductTypeExtended, None, message);
        } else if os.len() > us.len() && uc != Criterion::All {
            let message = format!(
                "{} has fewer `{}` alternatives than the writer's: {REJECTS}",
                found.path.subject(),
                uc.keyword()
            );
            found.report(ViolationKind::SumTypeNarrowed, None, message);
        }

        let edges: Vec<Vec<bool>> =
            os.iter().map(|&o| us.iter().map(|&u| self.compatible(o, u, depth + 1)).collect()).collect();
        let matched = maximum_matching(&edges, us.len());
        let matched_count = matched.iter().filter(|m| m.is_some()).count();
        if matched_count >= os.len().min(us.len()) {
            return;
        }
        // Explain with the first unmatched writer subschema, compared with its positional counterpart.
        let unmatched: Vec<usize> = (0..os.len()).filter(|i| matched[*i].is_none()).collect();
        let mut reason = String::new();
        if let Some(&i) = unmatched.first()
            && let Some(&u) = us.get(i).or(us.first())
        {
            let detail = self.sub(&Path::default(), Some(os[i]), Some(u), depth + 1);
            if let Some(first) = detail.first() {
                reason = format!(" (e.g. subschema {i}: {})", first.message);
            }
        }
        let what = if osyn { "constraints".to_string() } else { format!("`{}` subschemas", oc.keyword()) };
        let message = format!(
            "the {what} of {} cannot all be paired with compatible reader subschemas; unpaired writer subschemas: {:?}{reason}",
            found.path.subject(),
            unmatched
        );
        found.report(ViolationKind::CombinedTypeSubschemasChanged, None, message);
    }
}

/// Subschemas with duplicates removed, as the reference registry collapses them.
fn dedup<'a>(subs: Vec<Loc<'a>>) -> Vec<Loc<'a>> {
    let mut out: Vec<Loc<'a>> = Vec::with_capacity(subs.len());
    for sub in subs {
        if !out.iter().any(|o| o.facet == sub.facet && o.value == sub.value) {
            out.push(sub);
        }
    }
    out
}

/// A maximum bipartite matching (augmenting paths): for each left node, the right node it is paired with.
fn maximum_matching(edges: &[Vec<bool>], right: usize) -> Vec<Option<usize>> {
    fn augment(l: usize, edges: &[Vec<bool>], seen: &mut [bool], right_of: &mut [Option<usize>]) -> bool {
        for r in 0..right_of.len() {
            if edges[l].get(r) == Some(&true) && !seen[r] {
                seen[r] = true;
                if right_of[r].is_none_or(|other| augment(other, edges, seen, right_of)) {
                    right_of[r] = Some(l);
                    return true;
                }
            }
        }
        false
    }
    let mut right_of: Vec<Option<usize>> = vec![None; right];
    for l in 0..edges.len() {
        let mut seen = vec![false; right];
        augment(l, edges, &mut seen, &mut right_of);
    }
    let mut left_of = vec![None; edges.len()];
    for (r, l) in right_of.iter().enumerate() {
        if let Some(l) = l {
            left_of[*l] = Some(r);
        }
    }
    left_of
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_finds_a_pairing_position_does_not() {
        let edges = vec![vec![true, true], vec![true, false]];
        assert_eq!(maximum_matching(&edges, 2), vec![Some(1), Some(0)]);
    }
}
