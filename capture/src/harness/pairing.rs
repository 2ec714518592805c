//! The run order of a cell: warm-ups, then counterbalanced blocks (ABBA) of all arms.

use report_model::schema::experiment::Arm;

/// One run to do, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub arm: Arm,
    pub warmup: bool,
    /// Block number: the arms of one block run adjacently and are paired in the analysis.
    pub block: Option<u32>,
}

/// The schedule of one cell: `warmups` uncounted rounds, then `n` blocks.
///
/// Within a block, bare/B form one adjacent pair and A/C the other. Each pair's order
/// flips every block (AB, BA, AB, ...), and which pair goes first flips every two blocks,
/// so no arm sits systematically first or last (ABBA counterbalancing).
pub fn schedule(arms: &[Arm], n: u32, warmups: u32) -> Vec<Slot> {
    let mut out = Vec::new();
    for w in 0..warmups {
        for arm in block_order(arms, w) {
            out.push(Slot {
                arm,
                warmup: true,
                block: None,
            });
        }
    }
    for b in 0..n {
        for arm in block_order(arms, b) {
            out.push(Slot {
                arm,
                warmup: false,
                block: Some(b),
            });
        }
    }
    out
}

/// The order of the arms in block `b`.
fn block_order(arms: &[Arm], b: u32) -> Vec<Arm> {
    let has = |a: Arm| arms.contains(&a);
    let flip = b % 2 == 1;
    let pair = |x: Arm, y: Arm| -> Vec<Arm> {
        let mut p: Vec<Arm> = [x, y].into_iter().filter(|a| has(*a)).collect();
        if flip {
            p.reverse();
        }
        p
    };
    let uninstrumented = pair(Arm::Bare, Arm::B);
    let captured = pair(Arm::A, Arm::C);
    if (b / 2).is_multiple_of(2) {
        [uninstrumented, captured].concat()
    } else {
        [captured, uninstrumented].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Arm::*;

    #[test]
    fn blocks_are_counterbalanced() {
        let s = schedule(&Arm::ALL, 4, 0);
        let order: Vec<Vec<Arm>> = s
            .chunks(4)
            .map(|c| c.iter().map(|s| s.arm).collect())
            .collect();
        assert_eq!(order[0], [Bare, B, A, C]);
        assert_eq!(order[1], [B, Bare, C, A]);
        assert_eq!(order[2], [A, C, Bare, B]);
        assert_eq!(order[3], [C, A, B, Bare]);
        // Over four blocks each arm is in each position exactly once.
        for pos in 0..4 {
            let mut at: Vec<Arm> = order.iter().map(|o| o[pos]).collect();
            at.sort();
            assert_eq!(at, [Bare, A, B, C], "position {pos}");
        }
        assert!(s.iter().all(|x| !x.warmup));
        assert_eq!(s[5].block, Some(1));
    }

    #[test]
    fn pairs_stay_adjacent_with_two_arms() {
        let s = schedule(&[A, C], 3, 1);
        let arms: Vec<Arm> = s.iter().map(|x| x.arm).collect();
        assert_eq!(arms, [A, C, A, C, C, A, A, C]);
        assert!(s[0].warmup && s[1].warmup && !s[2].warmup);
        assert_eq!(s[0].block, None);
        assert_eq!(s[2].block, Some(0));
        assert_eq!(s[7].block, Some(2));
    }

    #[test]
    fn a_single_arm_just_repeats() {
        let s = schedule(&[Bare], 3, 2);
        assert_eq!(s.len(), 5);
        assert!(s.iter().all(|x| x.arm == Bare));
    }
}
