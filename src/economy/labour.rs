//! Phase 7 (continued), the labour market: firms post vacancies or lay off a share of
//! staff, moving only a fraction of the gap to their target each tick (hiring and firing
//! frictions); employees are laid off by a draw against that share, and unemployed
//! households find a job with a probability that rises with vacancies per job-seeker,
//! at an employer drawn in proportion to its vacancies.

use crate::agents::{AgentId, Household, Staff};
use crate::market::{Clock, EmployerBoard, Model, NONE, Posting};
use crate::rng::{Purpose, Stream};
use crate::threads::{MIN_PARALLEL_HOUSEHOLDS, for_each_run, for_each_run_init, publish};
use bevy_ecs::change_detection::ContiguousMut;
use bevy_ecs::prelude::*;

/// Publishes each employer's layoff share and vacancies and each region's job-finding odds.
pub fn post_vacancies(model: Res<Model>, mut board: ResMut<EmployerBoard>, firms: Query<&Staff>) {
    let b = &model.scenario.behaviour;
    let board = &mut *board;
    let nr = model.n_regions;
    // Each employer's layoff share, staff and vacancies, in parallel onto the board.
    let tables: Vec<&[Staff]> = firms.contiguous_iter().expect("firm components live in tables").collect();
    debug_assert_eq!(firms.iter().len(), board.postings.len(), "one firm per employer index");
    publish(
        &mut board.postings,
        tables.iter().map(|&t| (t, t)),
        |s| s.employer as usize,
        |staff, _| {
            let gap = staff.target as f64 - staff.workers as f64;
            Posting {
                layoff_share: if gap < 0.0 && staff.workers > 0 {
                    b.firing_rate * -gap / staff.workers as f64
                } else {
                    0.0
                },
                workers: staff.workers,
                vacancies: if gap > 0.0 { b.hiring_rate * gap } else { 0.0 },
            }
        },
    );
    // Then, in employer order, the layoff shares households read, each region's staff and
    // its running total of vacancies.
    let mut employed = vec![0u64; nr];
    let mut vacancy_total = vec![0.0f64; nr];
    for cdf in &mut board.vacancy_cdf {
        cdf.clear();
    }
    let rows = board.postings.iter().zip(&board.region).zip(&mut board.layoff_share);
    for (e, ((posting, &r), layoff_share)) in rows.enumerate() {
        let r = r as usize;
        *layoff_share = posting.layoff_share;
        employed[r] += posting.workers as u64;
        if posting.vacancies > 0.0 {
            vacancy_total[r] += posting.vacancies;
            board.vacancy_cdf[r].push((vacancy_total[r], e as u32));
        }
    }
    for r in 0..nr {
        let unemployed = (model.households[r] as u64).saturating_sub(employed[r]) as f64;
        board.job_finding[r] =
            if unemployed > 0.0 { (b.job_match_efficiency * vacancy_total[r] / unemployed).min(1.0) } else { 0.0 };
    }
    board.staff_moves.clear();
}

/// Households leave or find jobs; each move counts at its employer, one less for a layoff
/// and one more for a hire (most households stay where they are, and count nothing).
pub fn move_workers(
    clock: Res<Clock>,
    model: Res<Model>,
    board: Res<EmployerBoard>,
    mut households: Query<(&AgentId, &mut Household)>,
) {
    let seed = model.scenario.seed;
    let layoff = Stream::new(seed, clock.tick as u64, Purpose::Layoff);
    let job_search = Stream::new(seed, clock.tick as u64, Purpose::JobSearch);
    let min = MIN_PARALLEL_HOUSEHOLDS;
    for_each_run_init!(households, parallel_from = min, || board.staff_moves.local(), |moves, (ids, mut hhs)| {
        for (id, hh) in ids.iter().zip(hhs.bypass_change_detection()) {
            if hh.employer != NONE {
                // No draw is needed where the employer lays no one off (a draw is never
                // below zero), which is most employers in most weeks.
                let share = board.layoff_share[hh.employer as usize];
                if share > 0.0 && layoff.key(id.0).uniform(0) < share {
                    moves.add(hh.employer as usize, -1);
                    hh.employer = NONE;
                }
            } else {
                let r = hh.region as usize;
                let key = job_search.key(id.0);
                let cdf = &board.vacancy_cdf[r];
                if let Some(&(total, _)) = cdf.last()
                    && key.uniform(0) < board.job_finding[r]
                {
                    let target = key.uniform(1) * total;
                    let k = cdf.partition_point(|&(cum, _)| cum <= target).min(cdf.len() - 1);
                    hh.employer = cdf[k].1;
                    moves.add(hh.employer as usize, 1);
                }
            }
        }
    });
    board.staff_moves.settle();
    if cfg!(debug_assertions) {
        // Staff before the moves plus the moves is every household an employer now employs.
        let mut employed = vec![0i64; board.postings.len()];
        for (_, hh) in &households {
            if hh.employer != NONE {
                employed[hh.employer as usize] += 1;
            }
        }
        for (e, (posting, &now)) in board.postings.iter().zip(&employed).enumerate() {
            let counted = posting.workers as i64 + board.staff_moves.get(e);
            assert_eq!(counted, now, "employer {e}: staff counted by moves against households employed");
        }
    }
}

/// Firms learn their staff after the moves: their staff before them, less the employees
/// laid off, plus the hires. (Staff counts start from the households the world employs at
/// each firm, and households change employer only in [`move_workers`].)
pub fn count_staff(board: Res<EmployerBoard>, mut firms: Query<&mut Staff>) {
    for_each_run!(firms, |mut staff: ContiguousMut<Staff>| {
        for staff in staff.bypass_change_detection() {
            let workers = staff.workers as i64 + board.staff_moves.get(staff.employer as usize);
            debug_assert!(workers >= 0, "employer {} counted {workers} staff", staff.employer);
            staff.workers = workers.max(0) as u32;
        }
    });
}
