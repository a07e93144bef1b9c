//! Accord's domain, as values and pure functions.
//!
//! This crate holds what Accord computes (business time, SLA clocks, availability accounting
//! and service credits) and nothing that touches the outside world.
//!
//! **Architecture Invariant:** this crate performs no I/O, spawns nothing and never reads the
//! wall clock. Anything that needs "now" takes it as an argument.

#![warn(missing_docs)]

pub mod access;
pub mod agreement;
pub mod availability;
pub mod calendar;
pub mod clock;
pub mod credits;
pub mod lifecycle;
pub mod maintenance;

pub use calendar::{BusinessCalendar, CalendarError, DayInterval, QueryError, TimeRange};
