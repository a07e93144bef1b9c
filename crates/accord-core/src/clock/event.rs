//! Ticket events: what a helpdesk tells Accord about a ticket.
//!
//! The wire format (JSON, one object per line) is parsed in `accord-format`; these are the
//! values the clock engine folds. Events of one ticket are applied in [`TicketEvent::order_key`]
//! order, whatever order they arrive in.

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;

/// The version of the event format these types describe.
pub const EVENT_FORMAT_VERSION: u32 = 1;

/// One event of one ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketEvent {
    /// The event's id, unique across all tickets; a second event with the same id is a
    /// duplicate and is ignored.
    pub id: Arc<str>,
    /// The ticket's id.
    pub ticket: Arc<str>,
    /// When it happened.
    pub at: Timestamp,
    /// What happened.
    pub kind: EventKind,
}

impl TicketEvent {
    /// The order events of one ticket are applied in: time, then kind (a ticket is created
    /// before anything else happens to it at the same instant, and solved after it is
    /// commented on), then id. Any arrival order gives the same result.
    pub fn order_key(&self) -> (Timestamp, u8, &str) {
        (self.at, self.kind.rank(), &self.id)
    }
}

/// Who wrote a comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Author {
    /// The provider's agent.
    Agent,
    /// The customer.
    Customer,
}

impl Author {
    /// The word used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Agent => "agent",
            Author::Customer => "customer",
        }
    }
}

/// Whether a ticket is an incident or a service request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TicketType {
    /// Something broke.
    #[default]
    Incident,
    /// Something is asked for (with a request type).
    Request,
}

impl TicketType {
    /// The word used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketType::Incident => "incident",
            TicketType::Request => "request",
        }
    }
}

/// A satisfaction rating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Score {
    /// 1 (worst) to 5 (best).
    Stars(u8),
    /// Good or bad.
    Good(bool),
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Score::Stars(stars) => write!(f, "{stars}/5"),
            Score::Good(true) => f.write_str("good"),
            Score::Good(false) => f.write_str("bad"),
        }
    }
}

/// What the ticket looks like when it is created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// The customer's name.
    pub customer: Arc<str>,
    /// The service's name.
    pub service: Arc<str>,
    /// The priority (`P1`...).
    pub priority: Arc<str>,
    /// Incident or request.
    pub ticket_type: TicketType,
    /// The request type, for requests.
    pub request_type: Option<Arc<str>>,
    /// The status (`new`, `open`, `waiting_on_customer`...).
    pub status: Arc<str>,
    /// The customer's site, which picks the service calendar.
    pub site: Option<Arc<str>>,
    /// The customer's region.
    pub region: Option<Arc<str>>,
    /// The assignee group.
    pub group: Option<Arc<str>>,
    /// The helpdesk's own reference.
    pub external_ref: Option<Arc<str>>,
}

/// Fields that changed; `None` means unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Updated {
    /// A new status.
    pub status: Option<Arc<str>>,
    /// A new priority.
    pub priority: Option<Arc<str>>,
    /// A new service.
    pub service: Option<Arc<str>>,
    /// A new customer.
    pub customer: Option<Arc<str>>,
    /// A new site.
    pub site: Option<Arc<str>>,
    /// A new region.
    pub region: Option<Arc<str>>,
    /// A new assignee group.
    pub group: Option<Arc<str>>,
    /// A new request type.
    pub request_type: Option<Arc<str>>,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The ticket was opened.
    Created(Box<Created>),
    /// Fields changed.
    Updated(Box<Updated>),
    /// A comment: public ones are visible to the customer.
    Comment {
        /// Who wrote it.
        author: Author,
        /// Whether the customer sees it.
        public: bool,
    },
    /// An internal note (never customer-visible, never stops a clock).
    Note,
    /// The ticket was solved; `status` defaults to `solved`.
    Solved,
    /// The ticket was closed; `status` defaults to `closed`.
    Closed,
    /// The ticket was reopened, with its new status (default `open`).
    Reopened {
        /// The status it reopened in.
        status: Option<Arc<str>>,
    },
    /// A satisfaction rating.
    Rating {
        /// The score.
        score: Score,
        /// The customer's comment.
        comment: Option<Arc<str>>,
    },
}

impl EventKind {
    /// The `type` word of the event format.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::Created(_) => "created",
            EventKind::Updated(_) => "updated",
            EventKind::Comment { .. } => "comment",
            EventKind::Note => "note",
            EventKind::Solved => "solved",
            EventKind::Closed => "closed",
            EventKind::Reopened { .. } => "reopened",
            EventKind::Rating { .. } => "rating",
        }
    }

    /// Order among events at the same instant.
    fn rank(&self) -> u8 {
        match self {
            EventKind::Created(_) => 0,
            EventKind::Reopened { .. } => 1,
            EventKind::Updated(_) => 2,
            EventKind::Comment { .. } | EventKind::Note => 3,
            EventKind::Solved => 4,
            EventKind::Closed => 5,
            EventKind::Rating { .. } => 6,
        }
    }
}
