//! Service credits: what one agreement owes for one calendar month, line by line, each line
//! with its evidence and the agreement revision that defined its rule.
//!
//! The inputs are figures other modules already produced: the effective `credits` terms
//! ([`Credits`]), the monthly fee, the month ([`Period`]), the measured availability of the
//! objective the tiers name with the outages it counted ([`MeasuredAvailability`], from
//! [`availability::account`]), and the clocks that breached in the month ([`BreachedClock`],
//! from the clock engine through [`breached_clocks`]). [`compute`] turns them into a
//! [`CreditStatement`]. It is apart from `availability` and `clock` because it measures
//! nothing: it applies a contract's money rules to what was measured.
//!
//! # Rules
//!
//! - **Availability tier.** The tier with the lowest `below` that the availability is strictly
//!   under applies, alone (tiers do not add up). The comparison is exact, in integers, like
//!   [`Availability::meets`]: 99.9 % of the month is not below 99.9 %.
//! - **Breach penalties.** A ticket that breached its response or resolution target in the
//!   month earns its priority's penalty once, however many of those clocks breached; when its
//!   breached clocks ran on priorities with different penalties, the largest applies. Other
//!   metrics (next response, update, request) earn nothing, and a priority without a penalty
//!   earns nothing; the statement's notes say so.
//! - **Rounding.** Every line that is a share of the fee is rounded on its own to the nearest
//!   minor unit, halves away from zero ([`share_of`]): 10 % of 9.99 EUR is 1.00 EUR, 5 % of
//!   9.90 EUR is 0.50 EUR. The cap is rounded the same way. Nothing else is rounded: amount
//!   penalties, the subtotal, the cap's cut and the minimum are whole minor units already.
//! - **Cap.** The subtotal is cut to `cap` of the monthly fee (100 % when the terms set none),
//!   so credits never exceed what the month cost.
//! - **Minimum.** A capped total under `minimum` is not paid: the total becomes zero, and the
//!   statement says how much that removed. A total equal to the minimum is paid.
//! - **Claim window.** With `claimWindowDays: N`, a claim is on time through the N-th local day
//!   after the month, in the period's zone: the window closes at the start of the next day,
//!   counted in calendar days, so a change of offset inside it makes it an hour longer or
//!   shorter, never a day.
//!
//! Amounts are `i64` minor units of the pricing currency inside [`Money`]; arithmetic is done
//! in `i128`, so no intermediate product overflows.

use std::collections::BTreeMap;
use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::agreement::{
    CreditTier, CreditedOn, Credits, Metric, Money, Penalty, Percent, Window, format_duration,
};
use crate::availability::{self, Account, Availability, CountedOutage};
use crate::calendar::TimeRange;
use crate::clock::{RevisionRef, TicketState};

/// Why a statement cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CreditError {
    /// The period is not a calendar month.
    #[error("invalid credit period {label:?}: expected a calendar month such as 2026-11")]
    Period {
        /// The label given.
        label: String,
    },
    /// The monthly fee is below zero.
    #[error("monthly fee {fee} is negative")]
    NegativeFee {
        /// The fee.
        fee: Money,
    },
    /// A penalty amount or the minimum is below zero.
    #[error("{what} is negative: {minor} minor units")]
    NegativeAmount {
        /// Which value (`the P2 penalty`, `the minimum`).
        what: String,
        /// The value.
        minor: i64,
    },
    /// The availability given is not that of the objective the tiers measure.
    #[error(
        "availability measured for objective {measured:?}, but the credit tiers measure {expected:?}"
    )]
    WrongObjective {
        /// The objective the terms name.
        expected: String,
        /// The objective measured.
        measured: String,
    },
    /// The subtotal does not fit in 64 bits of minor units.
    #[error("credit subtotal of {minor} minor units is too large")]
    TooLarge {
        /// The subtotal.
        minor: i128,
    },
    /// The claim deadline is outside the dates the zone can represent.
    #[error("claim window of {days} days after {period} ends outside the supported dates")]
    ClaimDeadline {
        /// The period's label.
        period: String,
        /// The claim window.
        days: u32,
    },
}

/// A calendar month in the zone the agreement's term is read in.
#[derive(Clone, Debug)]
pub struct Period {
    // Invariant: `range` is the calendar month `label` in `zone`.
    label: String,
    range: TimeRange,
    zone: TimeZone,
}

impl Period {
    /// The month `label` (`2026-11`) in `zone`.
    ///
    /// # Errors
    ///
    /// [`CreditError::Period`] unless `label` is a calendar month.
    ///
    /// # Examples
    ///
    /// ```
    /// use accord_core::credits::Period;
    /// use jiff::tz::TimeZone;
    ///
    /// let october = Period::month("2026-10", &TimeZone::get("Europe/Berlin").unwrap()).unwrap();
    /// let range = october.range();
    /// // 31 days and the hour the autumn change adds.
    /// assert_eq!(range.end().duration_since(range.start()).as_hours(), 745);
    /// ```
    pub fn month(label: &str, zone: &TimeZone) -> Result<Period, CreditError> {
        match availability::parse_period(label, zone) {
            Ok((Window::Month, range)) => {
                let first = zone.to_datetime(range.start()).date();
                Ok(Period {
                    label: format!("{:04}-{:02}", first.year(), first.month()),
                    range,
                    zone: zone.clone(),
                })
            }
            _ => Err(CreditError::Period { label: label.to_owned() }),
        }
    }

    /// `2026-11`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The month as instants, end excluded.
    pub fn range(&self) -> TimeRange {
        self.range
    }

    /// The zone the month and the claim window are read in.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// When a claim for this month must be in, with a window of `days` days.
    ///
    /// # Errors
    ///
    /// [`CreditError::ClaimDeadline`] when the deadline is past what the zone can represent.
    pub fn claim_deadline(&self, days: u32) -> Result<ClaimDeadline, CreditError> {
        let error = || CreditError::ClaimDeadline { period: self.label.clone(), days };
        // The month ends at the start of the first day of the next one.
        let first_after = self.zone.to_datetime(self.range.end()).date();
        let closing_day = first_after.checked_add(i64::from(days).days()).map_err(|_| error())?;
        let last_day = closing_day.yesterday().map_err(|_| error())?;
        // Compatible disambiguation: a midnight in a gap is the first instant of the day.
        let closes_at = closing_day.to_zoned(self.zone.clone()).map_err(|_| error())?.timestamp();
        Ok(ClaimDeadline { days, last_day, closes_at })
    }
}

/// When a claim must be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimDeadline {
    /// The claim window, in days after the month.
    pub days: u32,
    /// The last local day on which a claim is on time (the month's last day for 0 days).
    pub last_day: Date,
    /// The instant the window closes: the start of the day after `last_day` in the period's
    /// zone. A claim at or after it is late.
    pub closes_at: Timestamp,
}

/// The measured availability of the objective the credit tiers name, with its evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeasuredAvailability {
    /// The objective's name (`credits.availability.objective`).
    pub objective: String,
    /// Good over eligible, exactly.
    pub availability: Availability,
    /// The outages that counted against it.
    pub outages: Vec<CountedOutage>,
}

impl MeasuredAvailability {
    /// The availability of a month's `account` for `objective`, keeping as evidence the
    /// outages that counted (not those too short or entirely left out).
    pub fn from_account(objective: &str, account: &Account) -> MeasuredAvailability {
        MeasuredAvailability {
            objective: objective.to_owned(),
            availability: account.availability(),
            outages: account
                .outages
                .iter()
                .filter(|counted| counted.counted > SignedDuration::ZERO)
                .copied()
                .collect(),
        }
    }
}

/// A clock cycle that breached its target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreachedClock {
    /// The ticket.
    pub ticket: String,
    /// The metric.
    pub metric: Metric,
    /// The priority the cycle ran on when it breached (the request type for `request`).
    pub priority: String,
    /// The cycle's position in its clock, from 1.
    pub cycle: usize,
    /// When the cycle started.
    pub cycle_start: Timestamp,
    /// The cycle's target as business time.
    pub target: SignedDuration,
    /// When it breached.
    pub breached_at: Timestamp,
}

/// The clocks of `ticket` that breached in `period` and by `now`, in clock order.
///
/// Open cycles are counted up to `now` or the period's end, whichever is earlier, so a breach
/// still to come in the current month is not reported before it happens.
pub fn breached_clocks(
    ticket: &str,
    state: &TicketState,
    period: TimeRange,
    now: Timestamp,
) -> Vec<BreachedClock> {
    let as_of = now.min(period.end());
    let mut out = Vec::new();
    for clock in &state.clocks {
        for (cycle_idx, cycle) in clock.cycles.iter().enumerate() {
            let cycle = if cycle.is_stopped() { cycle.clone() } else { cycle.as_of(as_of) };
            let Some(breached_at) = cycle.breached_at else { continue };
            if breached_at < period.start() || breached_at >= period.end() || breached_at > now {
                continue;
            }
            out.push(BreachedClock {
                ticket: ticket.to_owned(),
                metric: clock.metric,
                priority: cycle.objective.key.to_string(),
                cycle: cycle_idx + 1,
                cycle_start: cycle.start,
                target: cycle.target,
                breached_at,
            });
        }
    }
    out
}

/// Everything a statement is computed from.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    /// The effective `credits` terms.
    pub terms: &'a Credits,
    /// The agreement revision the `credits` terms come from.
    pub credits_revision: &'a RevisionRef,
    /// The effective monthly fee, in the currency every amount is in.
    pub monthly_fee: Money,
    /// The agreement revision the fee comes from, when known.
    pub pricing_revision: Option<&'a RevisionRef>,
    /// The month.
    pub period: &'a Period,
    /// The measured availability of the objective the tiers name; `None` when not measured.
    pub availability: Option<&'a MeasuredAvailability>,
    /// Clocks that breached; those outside the period are left out and noted.
    pub breaches: &'a [BreachedClock],
}

/// What a credit line pays for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// The availability tier reached.
    AvailabilityTier(CreditTier),
    /// A ticket's breach penalty.
    BreachPenalty {
        /// The priority whose penalty applies.
        priority: String,
        /// The penalty.
        penalty: Penalty,
    },
}

/// What a credit line rests on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// The availability measured and the outages that counted against it.
    Outages {
        /// The objective.
        objective: String,
        /// The availability.
        availability: Availability,
        /// The outages that counted.
        outages: Vec<CountedOutage>,
    },
    /// A ticket's breached response and resolution clocks in the period, earliest first.
    Breaches {
        /// The ticket.
        ticket: String,
        /// Its breached clocks.
        clocks: Vec<BreachedClock>,
    },
}

/// One line of a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditLine {
    /// What it pays for.
    pub kind: LineKind,
    /// The rule as applied, for people: `availability of wan 98.6111% is below 99%: 25% of
    /// the monthly fee`.
    pub rule: String,
    /// The amount, rounded to the minor unit.
    pub amount: Money,
    /// What it rests on.
    pub evidence: Evidence,
    /// The agreement revision that defined the rule.
    pub revision: RevisionRef,
}

/// The cap, as applied to the subtotal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapRule {
    /// The share of the monthly fee.
    pub share: Percent,
    /// Whether the terms set it (`false`: the default, 100 %).
    pub from_terms: bool,
    /// The share of the fee, rounded like a line.
    pub limit: Money,
    /// What it cut from the subtotal.
    pub removed: Money,
}

/// The minimum, as applied to the capped total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinimumRule {
    /// Totals under this are not paid.
    pub minimum: Money,
    /// The capped total when it was under the minimum and so not paid; zero otherwise.
    pub removed: Money,
}

impl MinimumRule {
    /// Whether the minimum set the total to zero.
    pub fn applied(&self) -> bool {
        self.removed.minor() > 0
    }
}

/// What one agreement owes for one month.
#[derive(Clone, Debug)]
pub struct CreditStatement {
    /// The month.
    pub period: Period,
    /// The monthly fee the shares are of.
    pub monthly_fee: Money,
    /// The revision the `credits` terms come from.
    pub credits_revision: RevisionRef,
    /// The revision the fee comes from, when known.
    pub pricing_revision: Option<RevisionRef>,
    /// The availability tier line first, then one line per ticket in order of its first
    /// breach.
    pub lines: Vec<CreditLine>,
    /// The sum of the lines.
    pub subtotal: Money,
    /// The cap.
    pub cap: CapRule,
    /// The minimum, when the terms set one.
    pub minimum: Option<MinimumRule>,
    /// What is owed: the subtotal, capped, then zero when under the minimum.
    pub total: Money,
    /// When a claim must be in; `None` when credits need no claim.
    pub claim: Option<ClaimDeadline>,
    /// How the total is paid.
    pub credited_on: CreditedOn,
    /// What was left out and why: no measurement, breaches of other metrics, priorities
    /// without a penalty, breaches outside the month.
    pub notes: Vec<String>,
}

impl CreditStatement {
    /// The currency of every amount.
    pub fn currency(&self) -> &str {
        self.monthly_fee.currency()
    }
}

/// `share` of `minor` minor units, rounded to the nearest minor unit, halves away from zero.
///
/// # Examples
///
/// ```
/// use accord_core::agreement::Percent;
/// use accord_core::credits::share_of;
///
/// let percent = |text| Percent::parse(text).unwrap();
/// assert_eq!(share_of(999, percent("10")), 100); // 99.9
/// assert_eq!(share_of(990, percent("5")), 50); // 49.5
/// assert_eq!(share_of(4, percent("10")), 0); // 0.4
/// assert_eq!(share_of(-990, percent("5")), -50); // -49.5
/// ```
pub fn share_of(minor: i64, share: Percent) -> i64 {
    let numerator = i128::from(minor) * i128::from(share.micros());
    let hundred = i128::from(Percent::HUNDRED.micros());
    // Division truncates towards zero, so adding half the divisor away from zero rounds half
    // away from zero.
    let rounded = if numerator >= 0 {
        (numerator + hundred / 2) / hundred
    } else {
        (numerator - hundred / 2) / hundred
    };
    i64::try_from(rounded).expect("a share of at most 100 % is no larger than the amount")
}

/// The tier the availability is strictly under with the lowest `below`, if any.
fn tier_for(availability: Availability, tiers: &[CreditTier]) -> Option<CreditTier> {
    tiers
        .iter()
        .filter(|tier| !availability.meets(tier.below))
        .min_by_key(|tier| tier.below)
        .copied()
}

fn revision_label(revision: &RevisionRef) -> String {
    format!("{} {}", revision.agreement, revision.revision)
}

/// Computes the statement of one month.
///
/// # Errors
///
/// [`CreditError`] when the inputs contradict each other (availability of another objective)
/// or hold impossible amounts (a negative fee, penalty or minimum, a subtotal beyond `i64`),
/// or when the claim deadline cannot be represented.
pub fn compute(inputs: &Inputs<'_>) -> Result<CreditStatement, CreditError> {
    let terms = inputs.terms;
    let fee = inputs.monthly_fee;
    if fee.minor() < 0 {
        return Err(CreditError::NegativeFee { fee });
    }
    for (priority, penalty) in &terms.breaches {
        if let Penalty::Amount(minor) = *penalty
            && minor < 0
        {
            let what = format!("the {priority} penalty");
            return Err(CreditError::NegativeAmount { what, minor });
        }
    }
    if let Some(minor) = terms.minimum
        && minor < 0
    {
        return Err(CreditError::NegativeAmount { what: "the minimum".to_owned(), minor });
    }
    let money = |minor: i64| Money::new(minor, fee.currency()).expect("the fee's currency");
    let period = inputs.period;
    let mut lines = Vec::new();
    let mut notes = Vec::new();

    if !terms.tiers.is_empty() {
        let objective = terms.availability_objective.as_ref().map(|name| name.value.as_str());
        match inputs.availability {
            None => notes.push(format!(
                "no availability measured for objective {}: no availability credit",
                objective.unwrap_or("(unnamed)")
            )),
            Some(measured) => {
                if let Some(expected) = objective
                    && expected != measured.objective
                {
                    return Err(CreditError::WrongObjective {
                        expected: expected.to_owned(),
                        measured: measured.objective.clone(),
                    });
                }
                availability_line(inputs, measured, &mut lines, &mut notes);
            }
        }
    }
    breach_lines(inputs, &mut lines, &mut notes);

    let subtotal: i128 = lines.iter().map(|line| i128::from(line.amount.minor())).sum();
    let subtotal =
        i64::try_from(subtotal).map_err(|_| CreditError::TooLarge { minor: subtotal })?;
    let cap_share = terms.cap.unwrap_or(Percent::HUNDRED);
    let limit = share_of(fee.minor(), cap_share);
    let capped = subtotal.min(limit);
    let cap = CapRule {
        share: cap_share,
        from_terms: terms.cap.is_some(),
        limit: money(limit),
        removed: money(subtotal - capped),
    };
    let mut total = capped;
    let minimum = terms.minimum.map(|minimum| {
        let removed = if total < minimum { total } else { 0 };
        total -= removed;
        MinimumRule { minimum: money(minimum), removed: money(removed) }
    });
    let claim = terms.claim_window_days.map(|days| period.claim_deadline(days)).transpose()?;
    Ok(CreditStatement {
        period: period.clone(),
        monthly_fee: fee,
        credits_revision: inputs.credits_revision.clone(),
        pricing_revision: inputs.pricing_revision.cloned(),
        lines,
        subtotal: money(subtotal),
        cap,
        minimum,
        total: money(total),
        claim,
        credited_on: terms.credited_on,
        notes,
    })
}

fn availability_line(
    inputs: &Inputs<'_>,
    measured: &MeasuredAvailability,
    lines: &mut Vec<CreditLine>,
    notes: &mut Vec<String>,
) {
    let tiers = &inputs.terms.tiers;
    let Some(tier) = tier_for(measured.availability, tiers) else {
        let highest = tiers.iter().map(|tier| tier.below).max().expect("tiers are not empty");
        notes.push(format!(
            "availability of {} {} is not below {highest}, the highest tier: no availability credit",
            measured.objective, measured.availability
        ));
        return;
    };
    let fee = inputs.monthly_fee;
    let amount = share_of(fee.minor(), tier.credit);
    lines.push(CreditLine {
        kind: LineKind::AvailabilityTier(tier),
        rule: format!(
            "availability of {} {} is below {}: {} of the monthly fee",
            measured.objective, measured.availability, tier.below, tier.credit
        ),
        amount: Money::new(amount, fee.currency()).expect("the fee's currency"),
        evidence: Evidence::Outages {
            objective: measured.objective.clone(),
            availability: measured.availability,
            outages: measured.outages.clone(),
        },
        revision: inputs.credits_revision.clone(),
    });
}

fn breach_lines(inputs: &Inputs<'_>, lines: &mut Vec<CreditLine>, notes: &mut Vec<String>) {
    let range = inputs.period.range();
    let fee = inputs.monthly_fee;
    let amount_of = |penalty: Penalty| match penalty {
        Penalty::Share(share) => share_of(fee.minor(), share),
        Penalty::Amount(minor) => minor,
    };
    let mut outside = 0;
    let mut other_metrics: Vec<&str> = Vec::new();
    let mut by_ticket: BTreeMap<&str, Vec<&BreachedClock>> = BTreeMap::new();
    for breach in inputs.breaches {
        if breach.breached_at < range.start() || breach.breached_at >= range.end() {
            outside += 1;
        } else if !matches!(breach.metric, Metric::Response | Metric::Resolution) {
            other_metrics.push(breach.metric.as_str());
        } else {
            by_ticket.entry(&breach.ticket).or_default().push(breach);
        }
    }
    let mut tickets: Vec<(&str, Vec<&BreachedClock>)> = by_ticket.into_iter().collect();
    for (_, clocks) in &mut tickets {
        clocks.sort_by_key(|clock| (clock.breached_at, clock.metric));
    }
    tickets.sort_by_key(|(ticket, clocks)| (clocks[0].breached_at, *ticket));
    let mut without_penalty = Vec::new();
    for (ticket, clocks) in tickets {
        // The largest penalty among the ticket's breached clocks; the earliest on a tie.
        let chosen = clocks
            .iter()
            .filter_map(|clock| {
                let penalty = *inputs.terms.breaches.get(&clock.priority)?;
                Some((clock, penalty, amount_of(penalty)))
            })
            .min_by_key(|(clock, _, amount)| (std::cmp::Reverse(*amount), clock.breached_at));
        let Some((clock, penalty, amount)) = chosen else {
            let priorities: Vec<&str> =
                clocks.iter().map(|clock| clock.priority.as_str()).collect();
            without_penalty.push(format!("{ticket} ({})", dedup(priorities).join(", ")));
            continue;
        };
        let amount = Money::new(amount, fee.currency()).expect("the fee's currency");
        let price = match penalty {
            Penalty::Share(share) => format!("{share} of the monthly fee"),
            Penalty::Amount(_) => format!("{amount} per ticket"),
        };
        lines.push(CreditLine {
            kind: LineKind::BreachPenalty { priority: clock.priority.clone(), penalty },
            rule: format!(
                "ticket {ticket} breached its {} target ({}): {price}",
                clock.metric.as_str(),
                clock.priority
            ),
            amount,
            evidence: Evidence::Breaches {
                ticket: ticket.to_owned(),
                clocks: clocks.iter().map(|clock| (*clock).clone()).collect(),
            },
            revision: inputs.credits_revision.clone(),
        });
    }
    if !without_penalty.is_empty() {
        notes.push(format!(
            "no penalty for the priorities of {}: no breach credit",
            without_penalty.join(", ")
        ));
    }
    if !other_metrics.is_empty() {
        notes.push(format!(
            "{} breached {} clock(s) left out: only response and resolution earn penalties",
            other_metrics.len(),
            dedup(other_metrics).join(", ")
        ));
    }
    if outside > 0 {
        notes.push(format!("{outside} breach(es) outside {} left out", inputs.period.label()));
    }
}

/// Sorted and without repeats.
fn dedup(mut words: Vec<&str>) -> Vec<&str> {
    words.sort_unstable();
    words.dedup();
    words
}

impl fmt::Display for CreditStatement {
    /// The statement for people: one line per credit with its evidence indented below it,
    /// then the subtotal, cap, minimum, total and claim deadline. Instants are local to the
    /// period's zone.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let zone = self.period.zone();
        let local =
            |at: Timestamp| at.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M").to_string();
        let zone_name = zone.iana_name().unwrap_or("fixed offset");
        writeln!(
            f,
            "credits for {} ({zone_name}), monthly fee {}",
            self.period.label(),
            self.monthly_fee
        )?;
        let width = self
            .lines
            .iter()
            .map(|line| line.amount.to_string().len())
            .chain([self.subtotal.to_string().len()])
            .max()
            .unwrap_or(0);
        for line in &self.lines {
            writeln!(
                f,
                "  {:>width$}  {} [{}]",
                line.amount.to_string(),
                line.rule,
                revision_label(&line.revision)
            )?;
            let indent = " ".repeat(width + 4);
            match &line.evidence {
                Evidence::Outages { outages, .. } => {
                    for counted in outages {
                        writeln!(
                            f,
                            "{indent}{} outage {} to {}, counted {}",
                            counted.outage.impact.as_str(),
                            local(counted.outage.range.start()),
                            local(counted.outage.range.end()),
                            format_duration(counted.counted)
                        )?;
                    }
                }
                Evidence::Breaches { clocks, .. } => {
                    for clock in clocks {
                        writeln!(
                            f,
                            "{indent}{} {} cycle {} from {}, target {}, breached {}",
                            clock.metric.as_str(),
                            clock.priority,
                            clock.cycle,
                            local(clock.cycle_start),
                            format_duration(clock.target),
                            local(clock.breached_at)
                        )?;
                    }
                }
            }
        }
        writeln!(f, "  {:>width$}  subtotal", self.subtotal.to_string())?;
        let default = if self.cap.from_terms { "" } else { " (default)" };
        writeln!(
            f,
            "cap {}{default} of the monthly fee: {}, removes {}",
            self.cap.share, self.cap.limit, self.cap.removed
        )?;
        if let Some(minimum) = &self.minimum {
            if minimum.applied() {
                writeln!(
                    f,
                    "minimum {}: {} is under it and is not paid",
                    minimum.minimum, minimum.removed
                )?;
            } else {
                writeln!(f, "minimum {}: not applied", minimum.minimum)?;
            }
        }
        let paid = match self.credited_on {
            CreditedOn::NextInvoice => "credited on the next invoice",
            CreditedOn::Refund => "refunded",
        };
        writeln!(f, "total {}, {paid}", self.total)?;
        match &self.claim {
            Some(claim) => writeln!(
                f,
                "claim within {} days: by {} (closes {})",
                claim.days,
                claim.last_day,
                local(claim.closes_at)
            )?,
            None => writeln!(f, "no claim needed")?,
        }
        write!(f, "rules: {}", revision_label(&self.credits_revision))?;
        if let Some(pricing) = &self.pricing_revision {
            write!(f, "; fee: {}", revision_label(pricing))?;
        }
        writeln!(f)?;
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}
