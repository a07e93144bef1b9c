//! Small value types of agreements: exact percentages and money, and how durations are
//! written. Kept apart from the model because they carry parsing and formatting rules.

use std::fmt;

use jiff::SignedDuration;

/// A value in a document that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not a percentage.
    #[error(
        "invalid percentage {0:?}: expected a number from 0 to 100 with at most 6 decimals, such as 99.9 or 99.95%"
    )]
    Percent(String),
    /// Not a currency code.
    #[error("invalid currency {0:?}: expected an ISO 4217 code such as EUR")]
    Currency(String),
}

/// An exact percentage from 0 to 100, with up to six decimals (stored in millionths of a
/// percent, so `99.999` is exact, unlike an `f64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(u32);

impl Percent {
    const SCALE: u32 = 1_000_000;

    /// 100 %.
    pub const HUNDRED: Percent = Percent(100 * Percent::SCALE);

    /// Parses `99.9`, `99.9%` or `10 %`.
    ///
    /// # Errors
    ///
    /// [`ValueError::Percent`] for anything else, or a value above 100.
    pub fn parse(text: &str) -> Result<Percent, ValueError> {
        let bad = || ValueError::Percent(text.to_owned());
        let number = text.trim().trim_end_matches('%').trim_end();
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty()
            || !whole.bytes().all(|byte| byte.is_ascii_digit())
            || !fraction.bytes().all(|byte| byte.is_ascii_digit())
            || fraction.len() > 6
            || whole.len() > 3
        {
            return Err(bad());
        }
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        let mut micros = 0;
        for (digit_idx, digit) in fraction.bytes().enumerate() {
            micros += u32::from(digit - b'0') * 10u32.pow(5 - digit_idx as u32);
        }
        let value = whole * Percent::SCALE + micros;
        if value > Percent::HUNDRED.0 {
            return Err(bad());
        }
        Ok(Percent(value))
    }

    /// From millionths of a percent, in constants; the caller keeps it at most 100 %.
    pub(crate) const fn from_micros_const(micros: u32) -> Percent {
        Percent(micros)
    }

    /// From millionths of a percent.
    pub fn from_micros(micros: u32) -> Option<Percent> {
        (micros <= Percent::HUNDRED.0).then_some(Percent(micros))
    }

    /// Millionths of a percent.
    pub fn micros(self) -> u32 {
        self.0
    }

    /// The share of `window` this percentage leaves out: what a 99.9 % target allows.
    pub fn complement_of(self, window: SignedDuration) -> SignedDuration {
        let missing = i128::from(Percent::HUNDRED.0 - self.0);
        let nanos = window.as_nanos() * missing / i128::from(Percent::HUNDRED.0);
        SignedDuration::from_nanos(i64::try_from(nanos).unwrap_or(i64::MAX))
    }

    /// How many of `n` may miss when this share must succeed: `floor(n × (100 % − self))`.
    pub fn allowed_misses(self, n: u64) -> u64 {
        let missing = u128::from(Percent::HUNDRED.0 - self.0);
        u64::try_from(u128::from(n) * missing / u128::from(Percent::HUNDRED.0)).unwrap_or(u64::MAX)
    }

    /// The share of `window` this percentage is.
    pub fn of(self, window: SignedDuration) -> SignedDuration {
        window - self.complement_of(window)
    }
}

impl fmt::Display for Percent {
    /// `99.9%`: no trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / Percent::SCALE;
        let fraction = self.0 % Percent::SCALE;
        if fraction == 0 {
            return write!(f, "{whole}%");
        }
        let digits = format!("{fraction:06}");
        write!(f, "{whole}.{}%", digits.trim_end_matches('0'))
    }
}

/// Money in integer minor units of a currency (cents for EUR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    minor: i64,
    currency: [u8; 3],
}

impl Money {
    /// An amount in minor units of an ISO 4217 currency.
    ///
    /// # Errors
    ///
    /// [`ValueError::Currency`] unless `currency` is three upper-case letters.
    pub fn new(minor: i64, currency: &str) -> Result<Money, ValueError> {
        let bytes = currency.as_bytes();
        let [a, b, c] = bytes else { return Err(ValueError::Currency(currency.to_owned())) };
        if ![a, b, c].iter().all(|byte| byte.is_ascii_uppercase()) {
            return Err(ValueError::Currency(currency.to_owned()));
        }
        Ok(Money { minor, currency: [*a, *b, *c] })
    }

    /// Minor units.
    pub fn minor(self) -> i64 {
        self.minor
    }

    /// The currency code.
    pub fn currency(&self) -> &str {
        std::str::from_utf8(&self.currency).expect("currency codes are ASCII")
    }
}

impl fmt::Display for Money {
    /// `12500.00 EUR` (two decimals: the common case; currencies without minor units are
    /// left for the credit issue).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency())
    }
}

/// Writes a duration the way documents do: `4h`, `1h30m`, `90s`, `0s`.
pub fn format_duration(duration: SignedDuration) -> String {
    let mut seconds = duration.as_secs();
    let mut text = String::new();
    if seconds < 0 {
        text.push('-');
        seconds = -seconds;
    }
    let (hours, minutes, secs) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        text.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        text.push_str(&format!("{minutes}m"));
    }
    if secs > 0 || (hours == 0 && minutes == 0) {
        text.push_str(&format!("{secs}s"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_is_exact_to_six_decimals() {
        assert_eq!(Percent::parse("99.999").unwrap().micros(), 99_999_000);
        assert_eq!(Percent::parse("99.9%").unwrap().to_string(), "99.9%");
        assert_eq!(Percent::parse("10 %").unwrap().to_string(), "10%");
        assert_eq!(Percent::parse("100").unwrap(), Percent::HUNDRED);
        for bad in ["100.1", "-1", "abc", "", ".5", "99.1234567", "1e2"] {
            assert!(Percent::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn five_nines_allow_26_seconds_in_a_30_day_month() {
        let month = SignedDuration::from_hours(24 * 30);
        let allowed = Percent::parse("99.999").unwrap().complement_of(month);
        assert_eq!(format_duration(allowed), "25s");
        assert_eq!(allowed.as_millis(), 25_920);
    }

    #[test]
    fn money_formats_minor_units() {
        assert_eq!(Money::new(1_250_000, "EUR").unwrap().to_string(), "12500.00 EUR");
        assert_eq!(Money::new(-5, "USD").unwrap().to_string(), "-0.05 USD");
        assert!(Money::new(1, "eur").is_err());
    }

    #[test]
    fn durations_are_written_as_in_documents() {
        assert_eq!(format_duration(SignedDuration::from_mins(90)), "1h30m");
        assert_eq!(format_duration(SignedDuration::from_hours(4)), "4h");
        assert_eq!(format_duration(SignedDuration::ZERO), "0s");
        assert_eq!(format_duration(SignedDuration::from_secs(45)), "45s");
    }
}
