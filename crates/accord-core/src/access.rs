//! Who may do what: roles, token scopes, and the principal a request acts as.
//!
//! A person signs in as a user with a [`Role`]; a program calls with an API token that acts as
//! a role too, narrowed to the [`Scope`]s it was given. A `customer` principal is bound to one
//! customer and sees only that customer's data.

use std::fmt;

/// A user's or token's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Everything, including users, tokens and settings.
    Admin,
    /// Provider staff: read and change agreements, post events and observations.
    Agent,
    /// Provider staff who only read.
    Viewer,
    /// A customer's person or program: reads that customer's data only.
    Customer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Agent, Role::Viewer, Role::Customer];

    /// The word used in commands, files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
            Role::Customer => "customer",
        }
    }

    /// The role named by a word of [`Role::as_str`].
    pub fn parse(word: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == word)
    }

    /// The scopes the role may hold; a token of the role holds at most these.
    pub fn scopes(self) -> Scopes {
        match self {
            Role::Admin => Scopes::ALL,
            Role::Agent => Scopes::of(&[Scope::Read, Scope::Write, Scope::Ingest]),
            Role::Viewer | Role::Customer => Scopes::of(&[Scope::Read]),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an API token may be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read agreements, clocks, availability and reports.
    Read,
    /// Change agreements, incidents and settings of the provider's data.
    Write,
    /// Post ticket events, heartbeats, request counts and probe results.
    Ingest,
    /// Manage users and tokens.
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Write, Scope::Ingest, Scope::Admin];

    /// The word used in commands and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Ingest => "ingest",
            Scope::Admin => "admin",
        }
    }

    /// The scope named by a word of [`Scope::as_str`].
    pub fn parse(word: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == word)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scopes(u8);

impl Scopes {
    /// Every scope.
    pub const ALL: Scopes = Scopes(0b1111);

    /// No scope.
    pub const NONE: Scopes = Scopes(0);

    /// The set of the given scopes.
    pub fn of(scopes: &[Scope]) -> Scopes {
        Scopes(scopes.iter().fold(0, |bits, scope| bits | scope.bit()))
    }

    /// Whether the set holds `scope`.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes in both sets.
    pub fn intersect(self, other: Scopes) -> Scopes {
        Scopes(self.0 & other.0)
    }

    /// The scopes, in [`Scope::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |scope| self.contains(*scope))
    }

    /// `read,ingest`: the scopes as stored, comma-separated.
    pub fn to_list(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(",")
    }

    /// Reads a comma-separated list.
    ///
    /// # Errors
    ///
    /// The first word that is not a scope.
    pub fn parse_list(text: &str) -> Result<Scopes, String> {
        let mut scopes = Scopes::NONE;
        for word in text.split(',').map(str::trim).filter(|word| !word.is_empty()) {
            let scope = Scope::parse(word).ok_or_else(|| word.to_owned())?;
            scopes = Scopes(scopes.0 | scope.bit());
        }
        Ok(scopes)
    }
}

/// Who a request acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The user's name, or `token:NAME` for an API token.
    pub subject: String,
    /// The role it acts as.
    pub role: Role,
    /// What it may do: the role's scopes, narrowed to a token's.
    pub scopes: Scopes,
    /// The customer it is bound to; always set for [`Role::Customer`].
    pub customer: Option<String>,
}

impl Principal {
    /// A principal of `role`, with the scopes the role allows narrowed to `scopes`.
    pub fn new(subject: String, role: Role, scopes: Scopes, customer: Option<String>) -> Principal {
        Principal { subject, role, scopes: role.scopes().intersect(scopes), customer }
    }

    /// Whether it may act with `scope`.
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// Whether it may see data of `customer`: provider staff see every customer, a customer
    /// principal only its own.
    pub fn sees_customer(&self, customer: &str) -> bool {
        match &self.customer {
            Some(bound) => bound == customer,
            None => self.role != Role::Customer,
        }
    }

    /// Whether it may see data that belongs to `customer`, or, for `None`, to no customer (a
    /// ticket that never named one): that only the provider's staff see.
    pub fn sees_data_of(&self, customer: Option<&str>) -> bool {
        match customer {
            Some(customer) => self.sees_customer(customer),
            None => self.customer.is_none() && self.role != Role::Customer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_hold_at_most_their_roles_scopes() {
        let token = Principal::new("token:x".into(), Role::Viewer, Scopes::ALL, None);
        assert_eq!(token.scopes, Scopes::of(&[Scope::Read]));
        let ingest =
            Principal::new("token:y".into(), Role::Agent, Scopes::of(&[Scope::Ingest]), None);
        assert!(ingest.may(Scope::Ingest) && !ingest.may(Scope::Read));
        assert_eq!(
            Scopes::parse_list("read, ingest"),
            Ok(Scopes::of(&[Scope::Read, Scope::Ingest]))
        );
        assert_eq!(Scopes::parse_list("read,everything"), Err("everything".to_owned()));
        assert_eq!(Scopes::of(&[Scope::Ingest, Scope::Read]).to_list(), "read,ingest");
    }

    #[test]
    fn a_customer_sees_only_its_own_customer() {
        let acme = Principal::new("ann".into(), Role::Customer, Scopes::ALL, Some("acme".into()));
        assert!(acme.sees_customer("acme") && !acme.sees_customer("globex"));
        let unbound = Principal::new("bob".into(), Role::Customer, Scopes::ALL, None);
        assert!(!unbound.sees_customer("acme"));
        let agent = Principal::new("cy".into(), Role::Agent, Scopes::ALL, None);
        assert!(agent.sees_customer("acme"));
        // Data of no customer is the provider's own.
        assert!(
            agent.sees_data_of(None) && !acme.sees_data_of(None) && !unbound.sees_data_of(None)
        );
        assert!(acme.sees_data_of(Some("acme")) && !acme.sees_data_of(Some("globex")));
    }
}
