//! SLA clocks on tickets: the events a helpdesk sends, and the engine that turns a ticket's
//! events into response, next response, update, resolution and request clocks in business
//! time.

pub mod compliance;
pub mod engine;
pub mod event;
pub mod explain;
pub mod hash;
pub mod synth;
pub mod terms;

pub use engine::{
    Applied, Clock, ClockState, ClockView, Cycle, Engine, Firing, Retarget, StopReason, Ticket,
    TicketState, in_horizon,
};
pub use event::{
    Author, Created, EVENT_FORMAT_VERSION, EventKind, Score, TicketEvent, TicketType, Updated,
};
pub use terms::{CatalogTerms, Objective, PinnedTerms, RevisionRef, Rung, TermsSource, Who};
