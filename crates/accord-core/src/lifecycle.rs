//! Agreement lifecycle: the states a revision moves through, the actions that move it, and
//! effective dating.
//!
//! Each revision of an agreement has its own history of [`Transition`]s, starting with `draft`
//! when the revision is created. People request [`Action`]s (submit, approve, activate, ...);
//! [`plan`] checks a request against the recorded history and returns the transitions to
//! record, and [`state_at`] reads the history back at any instant.
//! This is separate from `agreement`, which says what an agreement promises: here we only say
//! which revision is in force, and since when.
//!
//! # Semantics
//!
//! - A transition is *recorded* at one instant (`recorded_at`, when someone asked) and takes
//!   *effect* at another (`effective_at`). Activating an approved revision whose term starts
//!   next month is recorded now and effective next month; until then the revision reads as
//!   `approved`.
//! - The state of a revision at an instant is that of its transition with the latest
//!   `effective_at` at or before the instant; among equal `effective_at`, the one recorded last
//!   wins. An `active` revision whose term has ended reads as `expired`.
//! - What a revision may do next depends on its *recorded* state: the target of its last
//!   recorded transition, even when that transition takes effect in the future.
//! - A new transition never takes effect before the revision's earlier transitions, so it
//!   really is the revision's latest state. Terminating a revision whose activation is
//!   scheduled for next month therefore takes effect next month: the revision stays approved
//!   until then and never becomes active.
//! - `superseded` is never requested: activating a revision records it for every other
//!   revision of the agreement that would be active at or after the activation.
//!
//! **Invariant:** if every transition of an agreement comes from [`plan`], at most one of its
//! revisions is active at any instant, whatever order the requests come in and whatever `now`
//! they carry.
//!
//! # Examples
//!
//! A revision approved in January with a term from March is recorded as active from March:
//!
//! ```
//! use accord_core::lifecycle::{self, Action, LifecycleState, Request, RevisionLifecycle};
//! use jiff::Timestamp;
//!
//! let jan: Timestamp = "2026-01-10T09:00:00Z".parse().unwrap();
//! let march: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
//! let term = RevisionLifecycle { revision: 1, effective_from: Some(march), effective_until: None };
//! let mut history = vec![lifecycle::Transition {
//!     revision: 1,
//!     from: None,
//!     to: LifecycleState::Draft,
//!     actor: "alice".to_owned(),
//!     note: "first draft".to_owned(),
//!     recorded_at: jan,
//!     effective_at: jan,
//! }];
//! for action in [Action::Submit, Action::Approve, Action::Activate] {
//!     let request =
//!         Request { revision: 1, action, actor: "bob".to_owned(), note: String::new() };
//!     let planned = lifecycle::plan(&request, &[term], &history, jan).unwrap();
//!     history.extend(planned);
//! }
//! assert_eq!(history[3].effective_at, march);
//! let feb: Timestamp = "2026-02-01T00:00:00Z".parse().unwrap();
//! assert_eq!(lifecycle::state_at(1, &history, &term, feb), Some(LifecycleState::Approved));
//! assert_eq!(lifecycle::state_at(1, &history, &term, march), Some(LifecycleState::Active));
//! ```

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;

#[cfg(test)]
mod tests;

/// Where a revision is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LifecycleState {
    /// Being written; every revision starts here.
    Draft,
    /// Submitted and waiting for approval.
    InReview,
    /// Approved but not (yet) in force.
    Approved,
    /// In force.
    Active,
    /// Replaced by the activation of another revision of the same agreement. Recorded
    /// automatically, never requested.
    Superseded,
    /// Ended by its term, or declared expired.
    Expired,
    /// Ended early, or withdrawn before it came into force.
    Terminated,
}

impl LifecycleState {
    /// Every state, in lifecycle order.
    pub const ALL: [LifecycleState; 7] = [
        LifecycleState::Draft,
        LifecycleState::InReview,
        LifecycleState::Approved,
        LifecycleState::Active,
        LifecycleState::Superseded,
        LifecycleState::Expired,
        LifecycleState::Terminated,
    ];

    /// The state's name as stored and shown: `draft`, `in_review`, `approved`, `active`,
    /// `superseded`, `expired` or `terminated`.
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleState::Draft => "draft",
            LifecycleState::InReview => "in_review",
            LifecycleState::Approved => "approved",
            LifecycleState::Active => "active",
            LifecycleState::Superseded => "superseded",
            LifecycleState::Expired => "expired",
            LifecycleState::Terminated => "terminated",
        }
    }
}

impl fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LifecycleState {
    type Err = LifecycleError;

    /// Parses a name written by [`LifecycleState::as_str`].
    ///
    /// # Errors
    ///
    /// [`LifecycleError::UnknownState`], naming the text.
    fn from_str(text: &str) -> Result<LifecycleState, LifecycleError> {
        LifecycleState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| LifecycleError::UnknownState { text: text.to_owned() })
    }
}

/// What someone asks to happen to a revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Send a draft for review: `draft` to `in_review`.
    Submit,
    /// Accept a revision under review: `in_review` to `approved`.
    Approve,
    /// Send a revision under review back: `in_review` to `draft`.
    Reject,
    /// Put an approved revision in force from the start of its term: `approved` to `active`.
    Activate,
    /// End a revision early or withdraw it: `draft`, `in_review`, `approved` or `active` to
    /// `terminated`.
    Terminate,
    /// Declare an active revision expired: `active` to `expired`.
    Expire,
}

impl Action {
    /// Every action, in lifecycle order.
    pub const ALL: [Action; 6] = [
        Action::Submit,
        Action::Approve,
        Action::Reject,
        Action::Activate,
        Action::Terminate,
        Action::Expire,
    ];

    /// The action's name as written in requests: `submit`, `approve`, `reject`, `activate`,
    /// `terminate` or `expire`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Activate => "activate",
            Action::Terminate => "terminate",
            Action::Expire => "expire",
        }
    }

    /// The recorded states this action may start from.
    pub fn allowed_from(self) -> &'static [LifecycleState] {
        use LifecycleState::{Active, Approved, Draft, InReview};
        match self {
            Action::Submit => &[Draft],
            Action::Approve | Action::Reject => &[InReview],
            Action::Activate => &[Approved],
            Action::Terminate => &[Draft, InReview, Approved, Active],
            Action::Expire => &[Active],
        }
    }

    /// The state this action leads to.
    pub fn target(self) -> LifecycleState {
        match self {
            Action::Submit => LifecycleState::InReview,
            Action::Approve => LifecycleState::Approved,
            Action::Reject => LifecycleState::Draft,
            Action::Activate => LifecycleState::Active,
            Action::Terminate => LifecycleState::Terminated,
            Action::Expire => LifecycleState::Expired,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = LifecycleError;

    /// Parses a name written by [`Action::as_str`].
    ///
    /// # Errors
    ///
    /// [`LifecycleError::UnknownAction`], naming the text.
    fn from_str(text: &str) -> Result<Action, LifecycleError> {
        Action::ALL
            .into_iter()
            .find(|action| action.as_str() == text)
            .ok_or_else(|| LifecycleError::UnknownAction { text: text.to_owned() })
    }
}

/// One recorded step in a revision's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The revision's number within its agreement, from 1.
    pub revision: u32,
    /// The state before; `None` for the initial `draft` recorded when the revision is created.
    pub from: Option<LifecycleState>,
    /// The state after.
    pub to: LifecycleState,
    /// Who asked (for `superseded`, who activated the other revision).
    pub actor: String,
    /// Why, in the actor's words.
    pub note: String,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// When it takes effect: the same as `recorded_at` or later.
    pub effective_at: Timestamp,
}

/// The term of one revision: when it applies, already turned into instants by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevisionLifecycle {
    /// The revision's number within its agreement, from 1.
    pub revision: u32,
    /// The first instant the revision may apply; `None` for "as soon as it is activated".
    pub effective_from: Option<Timestamp>,
    /// The first instant the revision no longer applies (exclusive end); `None` for open-ended.
    pub effective_until: Option<Timestamp>,
}

/// A request to move one revision of an agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The revision to move.
    pub revision: u32,
    /// What should happen to it.
    pub action: Action,
    /// Who asks.
    pub actor: String,
    /// Why, in the actor's words.
    pub note: String,
}

/// Why a lifecycle request or name is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// A state name that is not one of [`LifecycleState::ALL`].
    #[error(
        "unknown lifecycle state {text:?}: expected one of draft, in_review, approved, active, superseded, expired or terminated"
    )]
    UnknownState {
        /// The text as written.
        text: String,
    },
    /// An action name that is not one of [`Action::ALL`].
    #[error(
        "unknown lifecycle action {text:?}: expected one of submit, approve, reject, activate, terminate or expire"
    )]
    UnknownAction {
        /// The text as written.
        text: String,
    },
    /// The agreement has no revision with that number.
    #[error("unknown revision {revision}")]
    UnknownRevision {
        /// The revision asked for.
        revision: u32,
    },
    /// The revision exists but has no recorded transition, so it has no state to move from.
    #[error("revision {revision} has no lifecycle: no transition is recorded for it")]
    NoLifecycle {
        /// The revision asked for.
        revision: u32,
    },
    /// The revision's recorded state does not allow the action.
    #[error(
        "cannot {action} revision {revision}: it is {state}; {action} needs {}",
        either_of(action.allowed_from())
    )]
    NotAllowed {
        /// The revision asked for.
        revision: u32,
        /// The action asked for.
        action: Action,
        /// The revision's recorded state.
        state: LifecycleState,
    },
    /// Another revision is scheduled to become active after this one would: activating this
    /// one would leave that later activation in place, and two revisions would overlap.
    #[error(
        "cannot activate revision {revision}: revision {other} is scheduled to become active later, at {at}"
    )]
    LaterActivationScheduled {
        /// The revision asked for.
        revision: u32,
        /// The revision scheduled to become active later.
        other: u32,
        /// When it becomes active.
        at: Timestamp,
    },
    /// The revision's term ends before it could become active.
    #[error("cannot activate revision {revision}: its term ended at {until}")]
    TermEnded {
        /// The revision asked for.
        revision: u32,
        /// The end of its term.
        until: Timestamp,
    },
}

/// `a`, `a or b`, `a, b or c`.
fn either_of(states: &[LifecycleState]) -> String {
    match states {
        [] => String::new(),
        [only] => only.to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(|state| state.as_str()).collect();
            format!("{} or {last}", init.join(", "))
        }
    }
}

/// The state of one revision at an instant, or `None` before the revision existed.
///
/// `transitions` may hold every revision of the agreement, in recording order; only those of
/// `revision` count. The state is that of its transition with the latest `effective_at` at or
/// before `at`, the later-recorded one among equals. `term` is the revision's own term: an
/// `active` revision whose term has ended (`effective_until <= at`) reads as `expired`.
pub fn state_at(
    revision: u32,
    transitions: &[Transition],
    term: &RevisionLifecycle,
    at: Timestamp,
) -> Option<LifecycleState> {
    debug_assert_eq!(term.revision, revision, "the term belongs to the revision asked about");
    let mut current: Option<&Transition> = None;
    for transition in transitions.iter().filter(|t| t.revision == revision && t.effective_at <= at)
    {
        if current.is_none_or(|current| transition.effective_at >= current.effective_at) {
            current = Some(transition);
        }
    }
    match (current?.to, term.effective_until) {
        (LifecycleState::Active, Some(until)) if until <= at => Some(LifecycleState::Expired),
        (state, _) => Some(state),
    }
}

/// The transitions to record for a request, in the order to record them.
///
/// `revisions` and `transitions` cover one agreement: the terms of all its revisions, and all
/// their transitions in recording order. Every planned transition is recorded at `now`.
///
/// - The requested revision's recorded state (its last transition in `transitions`) must allow
///   the action.
/// - The new transition takes effect at `now`, or at the revision's latest `effective_at` if
///   that is later.
/// - An activation takes effect no earlier than the start of the revision's term either. Every
///   other revision that would be active at or after that instant is superseded at that
///   instant, with a note naming this revision; these follow the activation in the result.
///
/// # Errors
///
/// - [`LifecycleError::UnknownRevision`] when `revisions` has no such revision.
/// - [`LifecycleError::NoLifecycle`] when `transitions` has none for it.
/// - [`LifecycleError::NotAllowed`] when its recorded state does not allow the action.
/// - [`LifecycleError::TermEnded`] when an activation would take effect at or after the end of
///   the revision's term.
/// - [`LifecycleError::LaterActivationScheduled`] when another revision is scheduled to become
///   active after this activation would take effect.
pub fn plan(
    request: &Request,
    revisions: &[RevisionLifecycle],
    transitions: &[Transition],
    now: Timestamp,
) -> Result<Vec<Transition>, LifecycleError> {
    let revision = request.revision;
    let term = revisions
        .iter()
        .find(|term| term.revision == revision)
        .ok_or(LifecycleError::UnknownRevision { revision })?;
    let own = || transitions.iter().filter(move |transition| transition.revision == revision);
    let state = own().next_back().ok_or(LifecycleError::NoLifecycle { revision })?.to;
    if !request.action.allowed_from().contains(&state) {
        return Err(LifecycleError::NotAllowed { revision, action: request.action, state });
    }
    // Invariant: a revision's new transition never takes effect before its earlier ones, so the
    // new one really is the revision's latest state.
    let not_before = own().map(|transition| transition.effective_at).fold(now, Timestamp::max);
    let transition = |revision, from, to, note: String, effective_at| Transition {
        revision,
        from: Some(from),
        to,
        actor: request.actor.clone(),
        note,
        recorded_at: now,
        effective_at,
    };
    if request.action != Action::Activate {
        let target = request.action.target();
        return Ok(vec![transition(revision, state, target, request.note.clone(), not_before)]);
    }

    let effective_at = term.effective_from.map_or(not_before, |from| from.max(not_before));
    if let Some(until) = term.effective_until
        && until <= effective_at
    {
        return Err(LifecycleError::TermEnded { revision, until });
    }
    let mut planned = vec![transition(
        revision,
        state,
        LifecycleState::Active,
        request.note.clone(),
        effective_at,
    )];
    for other in revisions.iter().filter(|other| other.revision != revision) {
        // A state only changes at a transition's effective_at or at the end of the term, so the
        // other revision is active somewhere after `effective_at` exactly when one of its
        // `active` transitions shows there, or when it is active at `effective_at` itself.
        let shows_active =
            |at| state_at(other.revision, transitions, other, at) == Some(LifecycleState::Active);
        let later = transitions.iter().find(|t| {
            t.revision == other.revision
                && t.to == LifecycleState::Active
                && t.effective_at > effective_at
                && shows_active(t.effective_at)
        });
        if let Some(later) = later {
            return Err(LifecycleError::LaterActivationScheduled {
                revision,
                other: other.revision,
                at: later.effective_at,
            });
        }
        if shows_active(effective_at) {
            planned.push(transition(
                other.revision,
                LifecycleState::Active,
                LifecycleState::Superseded,
                format!("superseded by revision {revision}"),
                effective_at,
            ));
        }
    }
    Ok(planned)
}
