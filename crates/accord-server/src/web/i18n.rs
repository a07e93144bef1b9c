//! Message catalogues and locale formatting for the web pages.
//!
//! Every text a person reads on a page comes from a catalogue, `i18n/en.txt` or
//! `i18n/zh-CN.txt` (`key = text`, one a line), compiled into the binary. The viewer's
//! language is `?lang=`, then the `lang` cookie, then `Accept-Language` (q-values respected),
//! then English; the zone is `?tz=`, then the `tz` cookie, then the page's default. Dates and
//! percentages are written the way each language writes them. Apart from the server's other
//! modules because it knows nothing of HTTP beyond header values.

use std::collections::HashMap;
use std::sync::OnceLock;

use accord_core::availability::Availability;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

const EN: &str = include_str!("../../i18n/en.txt");
const ZH_CN: &str = include_str!("../../i18n/zh-CN.txt");

/// A language the pages are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    /// English, the default.
    En,
    /// Simplified Chinese.
    ZhCn,
}

impl Lang {
    /// Every language, in the order the language switch lists them.
    pub(crate) const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// The BCP 47 tag: `en`, `zh-CN` (the `lang` attribute, `?lang=` and the cookie).
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language a tag names: `en`, `en-GB`, `zh`, `zh-CN`, `zh-Hans` (any case).
    pub(crate) fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        match primary.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::ZhCn),
            _ => None,
        }
    }

    /// The viewer's language: `query` (`?lang=`), then `cookie`, then the best of
    /// `accept_language` that is offered, then English.
    pub(crate) fn choose(
        query: Option<&str>,
        cookie: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        query
            .and_then(Lang::parse)
            .or_else(|| cookie.and_then(Lang::parse))
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or(Lang::En)
    }

    /// The offered language with the highest q-value in an `Accept-Language` header (the
    /// first listed among equals); `*` means English.
    fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(u16, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let quality = parts
                .filter_map(|param| param.trim().strip_prefix("q="))
                .map(quality_per_mille)
                .next()
                .unwrap_or(1000);
            let lang = if tag == "*" { Some(Lang::En) } else { Lang::parse(tag) };
            if let Some(lang) = lang
                && quality > 0
                && best.is_none_or(|(best_quality, _)| quality > best_quality)
            {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    /// The text of `key` in this language; the key itself when missing (the catalogue test
    /// keeps that from happening).
    pub(crate) fn t(self, key: &str) -> &'static str {
        let catalogue = match self {
            Lang::En => catalogue(&EN_MESSAGES, EN),
            Lang::ZhCn => catalogue(&ZH_CN_MESSAGES, ZH_CN),
        };
        catalogue.get(key).copied().unwrap_or_else(|| {
            tracing::warn!(key, lang = self.tag(), "no message");
            "?"
        })
    }

    /// The text of `key` with each `{name}` replaced by its value.
    pub(crate) fn fill(self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_owned();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// A date: `22 Nov 2026`, `2026年11月22日`.
    pub(crate) fn date(self, date: Date) -> String {
        match self {
            Lang::En => {
                let month = MONTHS[usize::try_from(date.month() - 1).unwrap_or(0)];
                format!("{} {month} {}", date.day(), date.year())
            }
            Lang::ZhCn => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
        }
    }

    /// An instant in `zone`, to the minute: `22 Nov 2026, 14:05`, `2026年11月22日 14:05`.
    pub(crate) fn date_time(self, at: Timestamp, zone: &TimeZone) -> String {
        let local = at.to_zoned(zone.clone());
        let date = self.date(local.date());
        let time = format!("{:02}:{:02}", local.hour(), local.minute());
        match self {
            Lang::En => format!("{date}, {time}"),
            Lang::ZhCn => format!("{date} {time}"),
        }
    }

    /// An availability to three decimals, rounded down (never overstating it): `99.953 %`
    /// in English, `99.953%` in Chinese.
    pub(crate) fn percent(self, availability: Availability) -> String {
        let thousandths = availability.percent().micros() / 1000;
        let number = format!("{}.{:03}", thousandths / 1000, thousandths % 1000);
        match self {
            Lang::En => format!("{number} %"),
            Lang::ZhCn => format!("{number}%"),
        }
    }
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

static EN_MESSAGES: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
static ZH_CN_MESSAGES: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();

fn catalogue(
    cell: &'static OnceLock<HashMap<&'static str, &'static str>>,
    text: &'static str,
) -> &'static HashMap<&'static str, &'static str> {
    cell.get_or_init(|| parse_catalogue(text))
}

/// `key = text` lines; blank lines and `#` comments skipped.
fn parse_catalogue(text: &'static str) -> HashMap<&'static str, &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, message)| (key.trim(), message.trim()))
        .collect()
}

/// `q=0.8` as 800; a malformed value as 0 (RFC 9110 allows three decimals).
fn quality_per_mille(value: &str) -> u16 {
    let value = value.trim();
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let fraction: String = fraction.chars().chain("000".chars()).take(3).collect();
    match (whole, fraction.parse::<u16>()) {
        ("1", _) => 1000,
        ("0", Ok(fraction)) => fraction,
        _ => 0,
    }
}

/// The viewer's zone: `query` (`?tz=`), then `cookie`, when either names an IANA zone, else
/// `default`.
pub(crate) fn choose_zone(
    query: Option<&str>,
    cookie: Option<&str>,
    default: TimeZone,
) -> TimeZone {
    [query, cookie]
        .into_iter()
        .flatten()
        .find_map(|name| TimeZone::get(name).ok())
        .unwrap_or(default)
}

/// A zone's name for people: `Europe/Berlin`, or `UTC`.
pub(crate) fn zone_name(zone: &TimeZone) -> &str {
    zone.iana_name().unwrap_or("UTC")
}

/// The value of cookie `name` in a `Cookie` header.
pub(crate) fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim())
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn both_catalogues_have_exactly_the_same_keys() {
        let en: BTreeSet<_> = parse_catalogue(EN).into_keys().collect();
        let zh: BTreeSet<_> = parse_catalogue(ZH_CN).into_keys().collect();
        assert_eq!(en.difference(&zh).collect::<Vec<_>>(), Vec::<&&str>::new(), "missing in zh-CN");
        assert_eq!(zh.difference(&en).collect::<Vec<_>>(), Vec::<&&str>::new(), "missing in en");
        assert!(en.len() > 20);
    }

    #[test]
    fn accept_language_respects_q_values() {
        let check = |header: &str, expected: Lang| {
            assert_eq!(Lang::choose(None, None, Some(header)), expected, "{header}");
        };
        check("zh-CN,zh;q=0.9,en;q=0.8", Lang::ZhCn);
        check("en-GB,en;q=0.9,zh-CN;q=0.8", Lang::En);
        check("fr-FR, zh;q=0.5, en;q=0.4", Lang::ZhCn);
        check("fr-FR, en;q=0.5, zh-Hans;q=0.7", Lang::ZhCn);
        check("zh-CN;q=0, en", Lang::En);
        check("de", Lang::En);
        check("", Lang::En);
        // The query beats the cookie, which beats the header.
        assert_eq!(Lang::choose(Some("zh-CN"), Some("en"), Some("en")), Lang::ZhCn);
        assert_eq!(Lang::choose(Some("xx"), Some("zh-CN"), Some("en")), Lang::ZhCn);
    }

    #[test]
    fn dates_and_percentages_follow_the_language() {
        let date = Date::new(2026, 11, 22).unwrap();
        assert_eq!(Lang::En.date(date), "22 Nov 2026");
        assert_eq!(Lang::ZhCn.date(date), "2026年11月22日");
        let availability = Availability::of_counts(999_535, 1_000_000);
        assert_eq!(Lang::En.percent(availability), "99.953 %");
        assert_eq!(Lang::ZhCn.percent(availability), "99.953%");
        let at: Timestamp = "2026-11-22T13:05:00Z".parse().unwrap();
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(Lang::En.date_time(at, &berlin), "22 Nov 2026, 14:05");
        assert_eq!(Lang::ZhCn.date_time(at, &berlin), "2026年11月22日 14:05");
    }

    #[test]
    fn zones_and_cookies() {
        assert_eq!(cookie(Some("a=1; lang=zh-CN; tz=Asia/Shanghai"), "lang"), Some("zh-CN"));
        assert_eq!(cookie(Some("a=1"), "lang"), None);
        let zone = choose_zone(Some("Nowhere/Atlantis"), Some("Asia/Shanghai"), TimeZone::UTC);
        assert_eq!(zone_name(&zone), "Asia/Shanghai");
        assert_eq!(zone_name(&choose_zone(None, None, TimeZone::UTC)), "UTC");
    }

    #[test]
    fn fill_replaces_placeholders() {
        assert_eq!(Lang::En.fill("status.of", &[("provider", "Northwind")]), "Status of Northwind");
        assert_eq!(
            Lang::ZhCn.fill("status.of", &[("provider", "Northwind")]),
            "Northwind 服务状态"
        );
    }
}
