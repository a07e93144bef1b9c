//! Notification settings: who the names in escalation ladders are (an e-mail address or a
//! webhook URL, and the working hours quiet hours wait for), and the message templates the
//! provider edits.
//!
//! ```yaml
//! recipients:
//!   - name: service-desk-lead
//!     email: lead@northwind.example
//!     workingHours: office-berlin      # a calendar: quiet hours are outside it
//!   - name: ops-webhook
//!     webhook: https://hooks.northwind.example/accord
//! alerts:                              # burn-rate alerts of availability objectives
//!   page: [ops-webhook]
//!   ticket: [service-desk-lead]
//! templates:
//!   subject: "[{{ priority }}] {{ ticket }}: {{ metric }} {{ threshold }}"
//!   body: |
//!     ...
//! survey:                              # Accord's own satisfaction survey; off without it
//!   after: 10m                         # after the solve
//!   expires: 14d                       # the link's life
//!   customers: [acme]                  # or all (the default)
//! ```

use std::path::Path;

use jiff::SignedDuration;

use crate::probes::http_url;
use crate::tree::{Cx, Node, Value, parse_duration};
use crate::{FormatErrors, tree::is_name};

/// Where a recipient is reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// By e-mail.
    Email(String),
    /// By an HTTP POST to this URL.
    Webhook(String),
}

/// A named recipient of notifications.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// The name ladders use (`notify: [duty-manager]`).
    pub name: String,
    /// Where to reach them.
    pub address: Address,
    /// The calendar of their working hours; a rung with `quietHours: respect` waits for it.
    pub working_hours: Option<String>,
}

/// The provider's message templates (minijinja); `None` keeps the built-in one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Templates {
    /// The subject of e-mails and the `title` of webhook bodies.
    pub subject: Option<String>,
    /// The text of e-mails and the `text` of webhook bodies.
    pub body: Option<String>,
}

/// Notification settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotificationSettings {
    /// The recipients, in file order.
    pub recipients: Vec<Recipient>,
    /// Who hears of burn-rate alerts, by severity (`page`, `ticket`).
    pub alerts: Vec<(String, Vec<String>)>,
    /// The templates.
    pub templates: Templates,
    /// Accord's own satisfaction survey.
    pub survey: SurveySettings,
}

/// Accord's own satisfaction survey: after a ticket is solved, its requester gets an e-mail
/// with a signed one-time link to a one-click rating page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveySettings {
    /// Whether surveys are sent: a `survey:` section turns them on unless it says
    /// `enabled: false`.
    pub enabled: bool,
    /// How long after the solve the e-mail goes out (zero: at once).
    pub after: SignedDuration,
    /// How long the link works, counted from when the e-mail is due.
    pub expires: SignedDuration,
    /// The customers whose tickets are surveyed; `None` is every customer.
    pub customers: Option<Vec<String>>,
    /// The e-mail's templates; `None` keeps the built-in one.
    pub templates: Templates,
}

impl Default for SurveySettings {
    fn default() -> SurveySettings {
        SurveySettings {
            enabled: false,
            after: SignedDuration::from_mins(10),
            expires: SignedDuration::from_hours(14 * 24),
            customers: None,
            templates: Templates::default(),
        }
    }
}

impl SurveySettings {
    /// Whether tickets of `customer` are surveyed.
    pub fn covers(&self, customer: &str) -> bool {
        self.customers.as_ref().is_none_or(|customers| customers.iter().any(|c| c == customer))
    }
}

/// The longest `survey.after`.
const MAX_SURVEY_AFTER: SignedDuration = SignedDuration::from_hours(30 * 24);
/// The longest `survey.expires`.
const MAX_SURVEY_EXPIRES: SignedDuration = SignedDuration::from_hours(365 * 24);

impl NotificationSettings {
    /// The recipient called `name`.
    pub fn recipient(&self, name: &str) -> Option<&Recipient> {
        self.recipients.iter().find(|recipient| recipient.name == name)
    }

    /// Who hears of burn-rate alerts of `severity`.
    pub fn alerted(&self, severity: &str) -> &[String] {
        self.alerts
            .iter()
            .find(|(listed, _)| listed == severity)
            .map_or(&[], |(_, names)| names.as_slice())
    }
}

/// Reads notification settings; every problem is reported with its line, column and field.
/// Templates are only read here; the server compiles them.
///
/// # Errors
///
/// Every problem found.
pub fn parse_notifications(path: &Path, text: &str) -> Result<NotificationSettings, FormatErrors> {
    let mut cx = Cx::new(path);
    let root: Node = match serde_saphyr::from_str(text) {
        Ok(root) => root,
        Err(error) => return Err(FormatErrors(vec![crate::document::yaml_error(path, &error, 0)])),
    };
    let mut settings = NotificationSettings::default();
    if let Some(fields) = cx.fields(&root, "", &["recipients", "alerts", "templates", "survey"]) {
        if let Some((list, list_field)) = fields.get("recipients") {
            for (item, item_field) in cx.items(list, &list_field) {
                let Some(recipient) = recipient(&mut cx, item, &item_field) else { continue };
                if settings.recipient(&recipient.name).is_some() {
                    let message = format!("duplicate recipient {}", recipient.name);
                    cx.error(item, &item_field, message);
                    continue;
                }
                settings.recipients.push(recipient);
            }
        }
        if let Some((node, field)) = fields.get("alerts")
            && let Some(alerts) = cx.fields(node, &field, &["page", "ticket"])
        {
            for severity in ["page", "ticket"] {
                if let Some(names) =
                    alerts.with(&mut cx, severity, |cx, node, field| Some(cx.strings(node, field)))
                {
                    settings.alerts.push((severity.to_owned(), names));
                }
            }
        }
        if let Some((node, field)) = fields.get("templates") {
            settings.templates = templates(&mut cx, node, &field);
        }
        if let Some((node, field)) = fields.get("survey") {
            settings.survey = survey(&mut cx, node, &field);
        }
    }
    if cx.errors.is_empty() { Ok(settings) } else { Err(FormatErrors(cx.errors)) }
}

fn templates(cx: &mut Cx<'_>, node: &Node, field: &str) -> Templates {
    let Some(templates) = cx.fields(node, field, &["subject", "body"]) else {
        return Templates::default();
    };
    Templates {
        subject: templates.with(cx, "subject", |cx, node, field| cx.string(node, field)),
        body: templates.with(cx, "body", |cx, node, field| cx.string(node, field)),
    }
}

/// The `survey:` section; a section that is only `{}` or `~` turns surveys on with the defaults.
fn survey(cx: &mut Cx<'_>, node: &Node, field: &str) -> SurveySettings {
    let mut survey = SurveySettings { enabled: true, ..SurveySettings::default() };
    if matches!(node.value, Value::Null) {
        return survey;
    }
    let known = ["enabled", "after", "expires", "customers", "templates"];
    let Some(fields) = cx.fields(node, field, &known) else { return survey };
    if let Some(enabled) = fields.with(cx, "enabled", |cx, node, field| cx.boolean(node, field)) {
        survey.enabled = enabled;
    }
    let bounded = |cx: &mut Cx<'_>, node: &Node, field: &str, zero: bool, max: SignedDuration| {
        let text = cx.string(node, field)?;
        match survey_duration(&text) {
            Some(duration)
                if (duration > SignedDuration::ZERO || zero && duration.is_zero())
                    && duration <= max =>
            {
                Some(duration)
            }
            _ => {
                let lowest = if zero { "0s" } else { "1s" };
                let message = format!(
                    "invalid duration {text:?}: expected {lowest} to {}d, such as 10m, 2h or 14d",
                    max.as_hours() / 24
                );
                cx.error(node, field, message);
                None
            }
        }
    };
    if let Some(after) =
        fields.with(cx, "after", |cx, node, field| bounded(cx, node, field, true, MAX_SURVEY_AFTER))
    {
        survey.after = after;
    }
    if let Some(expires) = fields
        .with(cx, "expires", |cx, node, field| bounded(cx, node, field, false, MAX_SURVEY_EXPIRES))
    {
        survey.expires = expires;
    }
    if let Some((node, field)) = fields.get("customers") {
        survey.customers = match &node.value {
            Value::Str(word) if word == "all" => None,
            Value::Seq(_) => Some(cx.strings(node, &field)),
            _ => {
                cx.error(node, &field, "expected all or a list of customers");
                None
            }
        };
    }
    if let Some((node, field)) = fields.get("templates") {
        survey.templates = templates(cx, node, &field);
    }
    survey
}

/// A duration of [`parse_duration`] with days too: `14d`, `1d12h`, `10m`, `0s`.
fn survey_duration(text: &str) -> Option<SignedDuration> {
    let text = text.trim();
    let (days, rest) = match text.find('d') {
        Some(at) => (text[..at].trim().parse::<i64>().ok()?, &text[at + 1..]),
        None => (0, text),
    };
    let rest = if rest.trim().is_empty() { SignedDuration::ZERO } else { parse_duration(rest)? };
    if days < 0 {
        return None;
    }
    SignedDuration::from_hours(days.checked_mul(24)?).checked_add(rest)
}

fn recipient(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Recipient> {
    let fields = cx.fields(node, field, &["name", "email", "webhook", "workingHours"])?;
    let name = fields.require(cx, "name", "the recipient's name").and_then(|(node, field)| {
        let name = cx.string(node, &field)?;
        if name.starts_with("customer:") || !is_name(&name) {
            let message = format!(
                "invalid name {name:?}: expected lowercase letters, digits and dashes (customer:ROLE names the customer's contacts and is not defined here)"
            );
            cx.error(node, &field, message);
            return None;
        }
        Some(name)
    });
    let working_hours = fields.with(cx, "workingHours", |cx, node, field| cx.string(node, field));
    let address = match (fields.get("email"), fields.get("webhook")) {
        (Some((node, field)), None) => {
            let email = cx.string(node, &field)?;
            let valid = email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
            });
            if !valid {
                cx.error(node, &field, format!("invalid e-mail address {email:?}"));
                return None;
            }
            Address::Email(email)
        }
        (None, Some((node, field))) => {
            let url = cx.string(node, &field)?;
            if http_url(&url).is_none() {
                let message =
                    format!("invalid URL {url:?}: expected http://HOST[:PORT]/PATH or https://...");
                cx.error(node, &field, message);
                return None;
            }
            Address::Webhook(url)
        }
        _ => {
            cx.error(node, field, "give exactly one of email or webhook");
            return None;
        }
    };
    Some(Recipient { name: name?, address, working_hours })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_and_templates_are_read_and_mistakes_named_with_their_line() {
        let text = "recipients:
  - { name: lead, email: lead@example.com, workingHours: office-berlin }
  - { name: hook, webhook: 'http://127.0.0.1:9000/in' }
alerts: { page: [hook] }
templates:
  subject: '{{ ticket }}'
";
        let settings = parse_notifications(Path::new("n.yaml"), text).expect("valid");
        assert_eq!(settings.recipients.len(), 2);
        assert_eq!(
            settings.recipient("lead").and_then(|r| r.working_hours.as_deref()),
            Some("office-berlin")
        );
        assert_eq!(
            settings.recipient("hook").map(|r| &r.address),
            Some(&Address::Webhook("http://127.0.0.1:9000/in".into()))
        );
        assert_eq!(settings.templates.subject.as_deref(), Some("{{ ticket }}"));
        assert_eq!(settings.alerted("page"), ["hook"]);
        assert!(settings.alerted("ticket").is_empty());

        let bad = "recipients:
  - { name: lead, email: nobody }
  - { name: hook, webhook: 'ftp://x', email: a@b.c }
  - { name: 'customer:escalation', email: a@b.c }
  - { name: lead2, phone: 1 }
";
        let errors = parse_notifications(Path::new("n.yaml"), bad).expect_err("invalid").0;
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 5, "{shown:#?}");
        assert!(shown[0].starts_with("n.yaml:2:"), "{shown:#?}");
        assert!(shown[0].contains("invalid e-mail address"), "{shown:#?}");
        assert!(shown[1].contains("exactly one of email or webhook"), "{shown:#?}");
        assert!(shown[2].contains("customer:ROLE"), "{shown:#?}");
        assert!(shown[3].contains("phone"), "{shown:#?}");
    }

    #[test]
    fn the_survey_is_off_without_its_section_and_its_durations_take_days() {
        let off = parse_notifications(Path::new("n.yaml"), "recipients: []\n").expect("valid");
        assert!(!off.survey.enabled);
        assert_eq!(off.survey, SurveySettings::default());
        let text = "survey:
  after: 0s
  expires: 1d12h
  customers: [acme]
  templates: { subject: 'Rate {{ ticket }}' }
";
        let survey = parse_notifications(Path::new("n.yaml"), text).expect("valid").survey;
        assert!(survey.enabled);
        assert_eq!(
            (survey.after, survey.expires),
            (SignedDuration::ZERO, SignedDuration::from_hours(36))
        );
        assert!(survey.covers("acme") && !survey.covers("globex"));
        assert_eq!(survey.templates.subject.as_deref(), Some("Rate {{ ticket }}"));
        let all = parse_notifications(Path::new("n.yaml"), "survey: { customers: all }\n");
        assert!(all.expect("valid").survey.covers("globex"));
        let on = parse_notifications(Path::new("n.yaml"), "survey:\n").expect("valid").survey;
        assert!(on.enabled && on.after == SignedDuration::from_mins(10));

        let bad = "survey:
  enabled: yes please
  after: soon
  expires: 0s
  customers: 5
  colour: red
";
        let errors = parse_notifications(Path::new("n.yaml"), bad).expect_err("invalid").0;
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 5, "{shown:#?}");
        assert!(
            shown.iter().any(|e| e.contains("survey.after") && e.contains("\"soon\"")),
            "{shown:#?}"
        );
        assert!(
            shown.iter().any(|e| e.contains("survey.expires") && e.contains("1s to 365d")),
            "{shown:#?}"
        );
        assert!(shown.iter().any(|e| e.contains("survey.customers")), "{shown:#?}");
        assert!(shown.iter().any(|e| e.contains("colour")), "{shown:#?}");
    }
}
