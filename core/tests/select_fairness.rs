//! `select!` branch order: fair (random start) by default, top to bottom with `biased;`.

use core::future::{pending, ready};

use ebbtide_core::task::yield_now;
use ebbtide_core::{block_on, select};

fn rounds() -> usize {
    if cfg!(miri) {
        50
    } else {
        1000
    }
}

/// Asserts that `wins` is a substantial share of `rounds`, for `branches` equally ready branches.
fn assert_fair_share(wins: usize, rounds: usize, branches: usize, what: &str) {
    // Half the expected share: far outside chance for the round counts used here.
    let floor = rounds / branches / 2;
    assert!(
        wins >= floor,
        "{what} won {wins} of {rounds} rounds, expected at least {floor}"
    );
}

#[test]
fn two_ready_branches_both_win_often() {
    let rounds = rounds();
    let (mut first, mut second) = (0, 0);
    block_on(async {
        for _ in 0..rounds {
            select! {
                () = ready(()) => first += 1,
                () = ready(()) => second += 1,
            }
        }
    });
    assert_eq!(first + second, rounds);
    assert_fair_share(first, rounds, 2, "the first branch");
    assert_fair_share(second, rounds, 2, "the second branch");
}

#[test]
fn every_one_of_several_ready_branches_wins() {
    let rounds = rounds();
    let mut wins = [0usize; 4];
    block_on(async {
        for _ in 0..rounds {
            let winner = select! {
                x = ready(0) => x,
                x = ready(1) => x,
                x = ready(2) => x,
                x = ready(3) => x,
            };
            wins[winner] += 1;
        }
    });
    for (branch, &won) in wins.iter().enumerate() {
        assert_fair_share(won, rounds, 4, &format!("branch {branch}"));
    }
}

#[test]
fn two_selects_in_one_loop_are_each_fair() {
    // A plain counter shared by both selects would start each of them at the same branch every
    // time; the generator must not.
    let rounds = rounds();
    let (mut a, mut c) = (0, 0);
    block_on(async {
        for _ in 0..rounds {
            select! {
                () = ready(()) => a += 1,
                () = ready(()) => {}
            }
            select! {
                () = ready(()) => c += 1,
                () = ready(()) => {}
            }
        }
    });
    assert_fair_share(a, rounds, 2, "the first select's first branch");
    assert_fair_share(rounds - a, rounds, 2, "the first select's second branch");
    assert_fair_share(c, rounds, 2, "the second select's first branch");
    assert_fair_share(rounds - c, rounds, 2, "the second select's second branch");
}

#[test]
fn biased_always_picks_the_first_ready_branch() {
    let rounds = rounds();
    block_on(async {
        for _ in 0..rounds {
            let winner = select! {
                biased;
                x = ready(1) => x,
                x = ready(2) => x,
                x = ready(3) => x,
            };
            assert_eq!(winner, 1);
        }
    });
}

#[test]
fn biased_skips_pending_and_disabled_branches_in_order() {
    block_on(async {
        let winner = select! {
            biased;
            x = pending::<u8>() => x,
            x = ready(2), if false => x,
            x = ready(3) => x,
            x = ready(4) => x,
        };
        assert_eq!(winner, 3);
    });
}

#[test]
fn biased_polls_top_to_bottom_on_every_poll() {
    // The first branch becomes ready on the second poll, the second is always ready after its
    // first poll: top-to-bottom order means the first wins on poll two.
    block_on(async {
        let winner = select! {
            biased;
            () = yield_now() => "first",
            () = async { yield_now().await } => "second",
        };
        assert_eq!(winner, "first");
    });
}

#[test]
fn a_ready_branch_beats_pending_ones_whatever_the_start() {
    let rounds = rounds();
    block_on(async {
        for _ in 0..rounds {
            let winner = select! {
                x = pending::<u8>() => x,
                x = ready(2) => x,
                x = pending::<u8>() => x,
            };
            assert_eq!(winner, 2);
        }
    });
}
