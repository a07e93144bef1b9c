//! Worked cases for the agreement lifecycle, told as stories through one `Story` helper, and
//! property tests over random request sequences for the one-active-revision invariant.

use expect_test::{Expect, expect};
use proptest::prelude::*;

use super::*;

/// `MM-DD` or `MM-DDTHH:MM` in 2026, UTC.
fn at(text: &str) -> Timestamp {
    let time = if text.contains('T') { format!("{text}:00") } else { format!("{text}T00:00:00") };
    format!("2026-{time}Z").parse().unwrap()
}

fn short(at: Timestamp) -> String {
    at.strftime("%m-%dT%H:%M").to_string()
}

fn render(transition: &Transition) -> String {
    let from = transition.from.map_or("(new)", LifecycleState::as_str);
    format!(
        "r{} {from} -> {} effective {} recorded {} by {}: {}",
        transition.revision,
        transition.to,
        short(transition.effective_at),
        short(transition.recorded_at),
        transition.actor,
        transition.note,
    )
}

/// One agreement's revisions and recorded history.
#[derive(Default)]
struct Story {
    revisions: Vec<RevisionLifecycle>,
    transitions: Vec<Transition>,
}

impl Story {
    /// Creates the next revision at `created` with a term such as `""`, `"from 03-01"` or
    /// `"from 03-01 until 06-01"`.
    fn create(&mut self, term: &str, created: &str) -> &mut Story {
        let revision = self.revisions.len() as u32 + 1;
        let mut words = term.split_whitespace();
        let mut lifecycle =
            RevisionLifecycle { revision, effective_from: None, effective_until: None };
        while let Some(word) = words.next() {
            let instant = Some(at(words.next().unwrap()));
            match word {
                "from" => lifecycle.effective_from = instant,
                "until" => lifecycle.effective_until = instant,
                other => panic!("unknown term word {other}"),
            }
        }
        self.revisions.push(lifecycle);
        self.transitions.push(Transition {
            revision,
            from: None,
            to: LifecycleState::Draft,
            actor: "alice".to_owned(),
            note: "created".to_owned(),
            recorded_at: at(created),
            effective_at: at(created),
        });
        self
    }

    /// Requests each action in turn at `now`, recording what is planned; panics on refusal.
    fn walk(&mut self, revision: u32, actions: &[&str], now: &str) -> &mut Story {
        for action in actions {
            let planned = self.plan(revision, action, now).unwrap();
            self.transitions.extend(planned);
        }
        self
    }

    fn plan(
        &self,
        revision: u32,
        action: &str,
        now: &str,
    ) -> Result<Vec<Transition>, LifecycleError> {
        let request = Request {
            revision,
            action: action.parse().unwrap(),
            actor: "bob".to_owned(),
            note: format!("please {action}"),
        };
        plan(&request, &self.revisions, &self.transitions, at(now))
    }

    /// Requests one action at `now` and renders what is planned, or why it is refused. Planned
    /// transitions are recorded.
    fn request(&mut self, revision: u32, action: &str, now: &str) -> String {
        match self.plan(revision, action, now) {
            Ok(planned) => {
                let lines: Vec<String> = planned.iter().map(render).collect();
                self.transitions.extend(planned);
                lines.join("\n")
            }
            Err(error) => format!("error: {error}"),
        }
    }

    /// Every revision's state at each instant, one line per instant.
    fn timeline(&self, instants: &[&str]) -> String {
        let mut lines = Vec::new();
        for instant in instants {
            let states: Vec<String> = self
                .revisions
                .iter()
                .map(|term| {
                    let state = state_at(term.revision, &self.transitions, term, at(instant));
                    format!("r{} {}", term.revision, state.map_or("-", LifecycleState::as_str))
                })
                .collect();
            lines.push(format!("{instant}: {}", states.join(", ")));
        }
        lines.join("\n")
    }

    fn history(&self) -> String {
        self.transitions.iter().map(render).collect::<Vec<_>>().join("\n")
    }
}

#[track_caller]
fn check(actual: String, expect: Expect) {
    expect.assert_eq(&actual);
}

#[test]
fn state_and_action_names_round_trip() {
    for state in LifecycleState::ALL {
        assert_eq!(state.as_str().parse::<LifecycleState>(), Ok(state));
    }
    for action in Action::ALL {
        assert_eq!(action.as_str().parse::<Action>(), Ok(action));
    }
}

#[test]
fn unknown_names_are_refused_with_the_valid_ones() {
    check(
        "InReview".parse::<LifecycleState>().unwrap_err().to_string(),
        expect![[
            r#"unknown lifecycle state "InReview": expected one of draft, in_review, approved, active, superseded, expired or terminated"#
        ]],
    );
    check(
        "publish".parse::<Action>().unwrap_err().to_string(),
        expect![[
            r#"unknown lifecycle action "publish": expected one of submit, approve, reject, activate, terminate or expire"#
        ]],
    );
}

#[test]
fn a_revision_goes_from_draft_through_review_to_active() {
    let mut story = Story::default();
    story.create("", "01-01");
    let mut steps = Vec::new();
    for (action, now) in [("submit", "01-02"), ("reject", "01-03"), ("submit", "01-04")] {
        steps.push(story.request(1, action, now));
    }
    steps.push(story.request(1, "approve", "01-05"));
    steps.push(story.request(1, "activate", "01-06T09:30"));
    check(
        steps.join("\n"),
        expect![[r#"
            r1 draft -> in_review effective 01-02T00:00 recorded 01-02T00:00 by bob: please submit
            r1 in_review -> draft effective 01-03T00:00 recorded 01-03T00:00 by bob: please reject
            r1 draft -> in_review effective 01-04T00:00 recorded 01-04T00:00 by bob: please submit
            r1 in_review -> approved effective 01-05T00:00 recorded 01-05T00:00 by bob: please approve
            r1 approved -> active effective 01-06T09:30 recorded 01-06T09:30 by bob: please activate"#]],
    );
    check(
        story.timeline(&["01-01", "01-03", "01-06", "01-06T09:30"]),
        expect![[r#"
            01-01: r1 draft
            01-03: r1 draft
            01-06: r1 approved
            01-06T09:30: r1 active"#]],
    );
}

#[test]
fn state_before_the_revision_existed_is_none() {
    let mut story = Story::default();
    story.create("", "01-10");
    check(
        story.timeline(&["01-09", "01-10"]),
        expect![[r#"
        01-09: r1 -
        01-10: r1 draft"#]],
    );
}

#[test]
fn transitions_effective_at_the_same_instant_read_as_the_one_recorded_last() {
    let mut story = Story::default();
    story.create("", "01-01").walk(1, &["submit", "reject", "submit"], "01-01");
    check(story.timeline(&["01-01"]), expect!["01-01: r1 in_review"]);
}

#[test]
fn activating_a_draft_is_refused_naming_the_state_needed() {
    let mut story = Story::default();
    story.create("", "01-01").create("", "01-02");
    check(
        story.request(2, "activate", "01-03"),
        expect!["error: cannot activate revision 2: it is draft; activate needs approved"],
    );
}

#[test]
fn terminating_a_terminated_revision_lists_every_state_it_needs() {
    let mut story = Story::default();
    story.create("", "01-01").walk(1, &["terminate"], "01-02");
    check(
        story.request(1, "terminate", "01-03"),
        expect![
            "error: cannot terminate revision 1: it is terminated; terminate needs draft, in_review, approved or active"
        ],
    );
}

#[test]
fn superseded_is_never_requested() {
    assert!(Action::ALL.iter().all(|action| action.target() != LifecycleState::Superseded));
    assert!("supersede".parse::<Action>().is_err());
}

#[test]
fn unknown_revision_and_revision_without_lifecycle_are_refused() {
    let mut story = Story::default();
    story.create("", "01-01");
    check(story.request(2, "submit", "01-02"), expect!["error: unknown revision 2"]);
    story.revisions.push(RevisionLifecycle {
        revision: 2,
        effective_from: None,
        effective_until: None,
    });
    check(
        story.request(2, "submit", "01-02"),
        expect!["error: revision 2 has no lifecycle: no transition is recorded for it"],
    );
}

#[test]
fn activation_before_the_term_starts_takes_effect_when_it_starts() {
    let mut story = Story::default();
    story.create("from 03-01", "01-01").walk(1, &["submit", "approve"], "01-10");
    check(
        story.request(1, "activate", "01-10T12:00"),
        expect![
            "r1 approved -> active effective 03-01T00:00 recorded 01-10T12:00 by bob: please activate"
        ],
    );
    check(
        story.timeline(&["01-10T12:00", "02-28T23:59", "03-01"]),
        expect![[r#"
            01-10T12:00: r1 approved
            02-28T23:59: r1 approved
            03-01: r1 active"#]],
    );
}

#[test]
fn activation_after_the_term_started_takes_effect_now() {
    let mut story = Story::default();
    story.create("from 01-05", "01-01").walk(1, &["submit", "approve"], "01-02");
    check(
        story.request(1, "activate", "02-01"),
        expect![
            "r1 approved -> active effective 02-01T00:00 recorded 02-01T00:00 by bob: please activate"
        ],
    );
}

#[test]
fn active_revision_reads_as_expired_once_its_term_ends() {
    let mut story = Story::default();
    story.create("until 06-01", "01-01").walk(1, &["submit", "approve", "activate"], "01-02");
    check(
        story.timeline(&["05-31T23:59", "06-01"]),
        expect![[r#"
        05-31T23:59: r1 active
        06-01: r1 expired"#]],
    );
}

#[test]
fn activation_after_the_term_ended_is_refused() {
    let mut story = Story::default();
    story.create("until 02-01", "01-01").walk(1, &["submit", "approve"], "01-02");
    check(
        story.request(1, "activate", "02-01"),
        expect!["error: cannot activate revision 1: its term ended at 2026-02-01T00:00:00Z"],
    );
}

#[test]
fn activating_revision_2_supersedes_revision_1() {
    let mut story = Story::default();
    story.create("", "01-01").walk(1, &["submit", "approve", "activate"], "01-02");
    story.create("", "02-01").walk(2, &["submit", "approve"], "02-02");
    check(
        story.request(2, "activate", "02-03"),
        expect![[r#"
            r2 approved -> active effective 02-03T00:00 recorded 02-03T00:00 by bob: please activate
            r1 active -> superseded effective 02-03T00:00 recorded 02-03T00:00 by bob: superseded by revision 2"#]],
    );
    check(
        story.timeline(&["02-02", "02-03"]),
        expect![[r#"
        02-02: r1 active, r2 approved
        02-03: r1 superseded, r2 active"#]],
    );
}

#[test]
fn scheduled_activation_supersedes_the_active_revision_when_it_takes_effect() {
    let mut story = Story::default();
    story.create("", "01-01").walk(1, &["submit", "approve", "activate"], "01-02");
    story.create("from 04-01", "02-01").walk(2, &["submit", "approve"], "02-02");
    check(
        story.request(2, "activate", "02-03"),
        expect![[r#"
            r2 approved -> active effective 04-01T00:00 recorded 02-03T00:00 by bob: please activate
            r1 active -> superseded effective 04-01T00:00 recorded 02-03T00:00 by bob: superseded by revision 2"#]],
    );
    check(
        story.timeline(&["03-31", "04-01"]),
        expect![[r#"
        03-31: r1 active, r2 approved
        04-01: r1 superseded, r2 active"#]],
    );
}

#[test]
fn activation_before_a_later_scheduled_one_is_refused() {
    let mut story = Story::default();
    story.create("", "01-01").create("from 04-01", "01-01");
    story.walk(1, &["submit", "approve"], "01-02");
    story.walk(2, &["submit", "approve", "activate"], "01-02");
    check(
        story.request(1, "activate", "01-03"),
        expect![
            "error: cannot activate revision 1: revision 2 is scheduled to become active later, at 2026-04-01T00:00:00Z"
        ],
    );
}

#[test]
fn later_activation_cuts_an_earlier_scheduled_one_short() {
    let mut story = Story::default();
    story.create("from 03-01", "01-01").create("from 05-01", "01-01");
    story.walk(1, &["submit", "approve", "activate"], "01-02");
    story.walk(2, &["submit", "approve"], "01-02");
    check(
        story.request(2, "activate", "01-03"),
        expect![[r#"
            r2 approved -> active effective 05-01T00:00 recorded 01-03T00:00 by bob: please activate
            r1 active -> superseded effective 05-01T00:00 recorded 01-03T00:00 by bob: superseded by revision 2"#]],
    );
    check(
        story.timeline(&["02-01", "03-01", "05-01"]),
        expect![[r#"
        02-01: r1 approved, r2 approved
        03-01: r1 active, r2 approved
        05-01: r1 superseded, r2 active"#]],
    );
}

#[test]
fn revision_whose_term_ended_is_left_expired_not_superseded() {
    let mut story = Story::default();
    story.create("until 02-01", "01-01").walk(1, &["submit", "approve", "activate"], "01-02");
    story.create("", "01-01").walk(2, &["submit", "approve"], "01-02");
    check(
        story.request(2, "activate", "03-01"),
        expect![
            "r2 approved -> active effective 03-01T00:00 recorded 03-01T00:00 by bob: please activate"
        ],
    );
    check(story.timeline(&["03-01"]), expect!["03-01: r1 expired, r2 active"]);
}

#[test]
fn terminating_a_scheduled_activation_takes_effect_when_it_was_due_so_it_never_applies() {
    let mut story = Story::default();
    story.create("from 03-01", "01-01").walk(1, &["submit", "approve", "activate"], "01-02");
    check(
        story.request(1, "terminate", "01-03"),
        expect![
            "r1 active -> terminated effective 03-01T00:00 recorded 01-03T00:00 by bob: please terminate"
        ],
    );
    check(
        story.timeline(&["02-01", "03-01"]),
        expect![[r#"
        02-01: r1 approved
        03-01: r1 terminated"#]],
    );
}

#[test]
fn terminating_an_active_revision_takes_effect_now() {
    let mut story = Story::default();
    story.create("", "01-01").walk(1, &["submit", "approve", "activate"], "01-02");
    check(
        story.request(1, "terminate", "01-20T15:45"),
        expect![
            "r1 active -> terminated effective 01-20T15:45 recorded 01-20T15:45 by bob: please terminate"
        ],
    );
    check(
        story.timeline(&["01-20T15:44", "01-20T15:45"]),
        expect![[r#"
        01-20T15:44: r1 active
        01-20T15:45: r1 terminated"#]],
    );
}

#[test]
fn expiring_an_active_revision_takes_effect_now() {
    let mut story = Story::default();
    story.create("", "01-01").walk(1, &["submit", "approve", "activate"], "01-02");
    check(
        story.request(1, "expire", "02-01"),
        expect![
            "r1 active -> expired effective 02-01T00:00 recorded 02-01T00:00 by bob: please expire"
        ],
    );
}

/// Revision 1 is active; revision 2 is scheduled to take over on 04-01 and then withdrawn,
/// which leaves revision 1 superseded only from 04-01. Activating revision 3 now must cut
/// revision 1 short now, although its last recorded transition says `superseded`.
#[test]
fn activation_supersedes_a_revision_whose_recorded_supersession_is_still_ahead() {
    let mut story = Story::default();
    story.create("", "01-01").walk(1, &["submit", "approve", "activate"], "01-02");
    story.create("from 04-01", "01-03").walk(2, &["submit", "approve", "activate"], "01-04");
    story.walk(2, &["terminate"], "01-05");
    story.create("", "01-06").walk(3, &["submit", "approve"], "01-07");
    check(
        story.request(3, "activate", "02-01"),
        expect![[r#"
            r3 approved -> active effective 02-01T00:00 recorded 02-01T00:00 by bob: please activate
            r1 active -> superseded effective 02-01T00:00 recorded 02-01T00:00 by bob: superseded by revision 3"#]],
    );
    check(
        story.timeline(&["01-31", "02-01", "04-01"]),
        expect![[r#"
        01-31: r1 active, r2 approved, r3 approved
        02-01: r1 superseded, r2 approved, r3 active
        04-01: r1 superseded, r2 terminated, r3 active"#]],
    );
}

#[test]
fn every_planned_transition_is_recorded_now_by_the_requester() {
    let mut story = Story::default();
    story.create("", "01-01").walk(1, &["submit", "approve", "activate"], "01-02");
    story.create("from 06-01", "01-01").walk(2, &["submit", "approve", "activate"], "01-03");
    check(
        story.history(),
        expect![[r#"
        r1 (new) -> draft effective 01-01T00:00 recorded 01-01T00:00 by alice: created
        r1 draft -> in_review effective 01-02T00:00 recorded 01-02T00:00 by bob: please submit
        r1 in_review -> approved effective 01-02T00:00 recorded 01-02T00:00 by bob: please approve
        r1 approved -> active effective 01-02T00:00 recorded 01-02T00:00 by bob: please activate
        r2 (new) -> draft effective 01-01T00:00 recorded 01-01T00:00 by alice: created
        r2 draft -> in_review effective 01-03T00:00 recorded 01-03T00:00 by bob: please submit
        r2 in_review -> approved effective 01-03T00:00 recorded 01-03T00:00 by bob: please approve
        r2 approved -> active effective 06-01T00:00 recorded 01-03T00:00 by bob: please activate
        r1 active -> superseded effective 06-01T00:00 recorded 01-03T00:00 by bob: superseded by revision 2"#]],
    );
}

// Property tests.

const N_REVISIONS: u32 = 4;

/// A term as hours after the start: `(effective_from, effective_until)`.
type Term = (Option<i64>, Option<i64>);

/// A request as `(revision, choice of action, hour of now)`; see [`choose`].
type Step = (u32, u8, i64);

/// Instants are whole hours after 2026-01-01T00:00Z, within about three months.
fn hour(offset: i64) -> Timestamp {
    at("01-01") + jiff::SignedDuration::from_hours(offset)
}

fn term() -> impl Strategy<Value = Term> {
    (proptest::option::of(0..1500i64), proptest::option::of(1..1500i64))
        .prop_map(|(from, length)| (from, length.map(|length| from.unwrap_or(0) + length)))
}

/// The action for a `choice` in `0..16`, given the revision's recorded state: mostly the one
/// that moves it forward (so that revisions get activated, superseded and withdrawn often),
/// sometimes a termination or a rejection, and sometimes any action at all.
fn choose(choice: u8, recorded: LifecycleState) -> Action {
    let forward = match recorded {
        LifecycleState::Draft => Some(Action::Submit),
        LifecycleState::InReview => Some(Action::Approve),
        LifecycleState::Approved => Some(Action::Activate),
        _ => None,
    };
    match (choice, forward) {
        (0..=8, Some(forward)) => forward,
        (9..=10, _) => Action::Terminate,
        (11, _) => Action::Reject,
        _ => Action::ALL[usize::from(choice) % Action::ALL.len()],
    }
}

/// Terms of four revisions and a sequence of requests.
fn scenario(monotonic_now: bool) -> impl Strategy<Value = (Vec<Term>, Vec<Step>)> {
    let requests = proptest::collection::vec((1..=N_REVISIONS, 0..16u8, 0..48i64), 10..60)
        .prop_map(move |requests| {
            let mut now = 0;
            requests
                .into_iter()
                .map(|(revision, choice, step)| {
                    // A non-monotonic clock wanders back and forth over the same range.
                    now = if monotonic_now { now + step } else { step * 30 };
                    (revision, choice, now)
                })
                .collect()
        });
    (proptest::collection::vec(term(), N_REVISIONS as usize), requests)
}

/// Runs the requests, checking each outcome against the rules; returns the story.
fn run(terms: &[Term], requests: &[Step]) -> Story {
    let mut story = Story::default();
    for (revision_idx, (from, until)) in terms.iter().enumerate() {
        let revision = revision_idx as u32 + 1;
        story.revisions.push(RevisionLifecycle {
            revision,
            effective_from: from.map(hour),
            effective_until: until.map(hour),
        });
        story.transitions.push(Transition {
            revision,
            from: None,
            to: LifecycleState::Draft,
            actor: "alice".to_owned(),
            note: String::new(),
            recorded_at: hour(0),
            effective_at: hour(0),
        });
    }
    for &(revision, choice, now) in requests {
        let recorded = story.transitions.iter().rev().find(|t| t.revision == revision).unwrap().to;
        let action = choose(choice, recorded);
        let request = Request { revision, action, actor: "bob".to_owned(), note: String::new() };
        match plan(&request, &story.revisions, &story.transitions, hour(now)) {
            Ok(planned) => {
                assert!(action.allowed_from().contains(&recorded));
                assert_eq!(planned[0].revision, revision);
                assert_eq!(planned[0].to, action.target());
                assert!(planned.iter().all(|t| t.recorded_at == hour(now)));
                assert!(planned.iter().all(|t| t.effective_at >= hour(now)));
                assert!(planned[1..].iter().all(|t| t.to == LifecycleState::Superseded));
                story.transitions.extend(planned);
                if action == Action::Activate {
                    let activated = story.transitions.iter().rev().find(|t| t.revision == revision);
                    let term = &story.revisions[revision as usize - 1];
                    let effective_at = activated.unwrap().effective_at;
                    assert_eq!(
                        state_at(revision, &story.transitions, term, effective_at),
                        Some(LifecycleState::Active),
                    );
                }
            }
            Err(LifecycleError::NotAllowed { state, .. }) => {
                assert_eq!(state, recorded);
                assert!(!action.allowed_from().contains(&recorded));
            }
            Err(
                LifecycleError::LaterActivationScheduled { .. } | LifecycleError::TermEnded { .. },
            ) => {
                assert_eq!(action, Action::Activate);
            }
            Err(error) => panic!("unexpected refusal: {error}"),
        }
    }
    story
}

/// Every instant at which some revision's state may change.
fn breakpoints(story: &Story) -> Vec<Timestamp> {
    let mut instants: Vec<Timestamp> = story.transitions.iter().map(|t| t.effective_at).collect();
    instants.extend(story.revisions.iter().filter_map(|term| term.effective_until));
    instants.sort();
    instants.dedup();
    instants
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// States change only at breakpoints, so checking every breakpoint checks every instant.
    #[test]
    fn at_most_one_revision_is_active_at_any_instant(
        (terms, requests) in prop_oneof![scenario(true), scenario(false)],
    ) {
        let story = run(&terms, &requests);
        for instant in breakpoints(&story) {
            let active: Vec<u32> = story
                .revisions
                .iter()
                .filter(|term| {
                    state_at(term.revision, &story.transitions, term, instant)
                        == Some(LifecycleState::Active)
                })
                .map(|term| term.revision)
                .collect();
            prop_assert!(active.len() <= 1, "revisions {active:?} active at {instant}");
        }
    }

    /// With a clock that does not run backwards, each revision ends up in its recorded state
    /// (or expired, when its term has ended).
    #[test]
    fn recorded_state_is_the_final_state(
        (terms, requests) in scenario(true),
    ) {
        let story = run(&terms, &requests);
        let end = hour(1_000_000);
        for term in &story.revisions {
            let recorded = story
                .transitions
                .iter()
                .rev()
                .find(|t| t.revision == term.revision)
                .map(|t| t.to);
            let expired_by_term = recorded == Some(LifecycleState::Active)
                && term.effective_until.is_some();
            let expected =
                if expired_by_term { Some(LifecycleState::Expired) } else { recorded };
            prop_assert_eq!(state_at(term.revision, &story.transitions, term, end), expected);
        }
    }
}
