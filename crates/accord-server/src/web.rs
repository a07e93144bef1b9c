//! What the server-rendered web pages share: the message catalogues and locale formatting
//! (`i18n`) and the style sheet compiled into the binary. The pages themselves are askama
//! templates in `templates/`, rendered by handlers in `server` (`server::status`); this module
//! knows nothing of the store or of HTTP routing.

pub(crate) mod i18n;

/// The style sheet every page inlines: no CDN, no second request.
pub(crate) const CSS: &str = include_str!("../templates/accord.css");
