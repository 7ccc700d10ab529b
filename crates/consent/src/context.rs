//! The coarse context recorded with a consent instead of personal data:
//! a country taken from a trusted proxy header and a device class derived
//! from the user agent. The user agent itself is never kept.

use serde::{Deserialize, Serialize};

/// What kind of device sent a consent, as far as the user agent tells.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DeviceClass {
    /// A desktop or laptop browser.
    Desktop,
    /// A phone.
    Mobile,
    /// A tablet.
    Tablet,
    /// A crawler or other automated client.
    Bot,
    /// No user agent, or one that says nothing useful.
    Unknown,
}

impl DeviceClass {
    /// Classifies a `User-Agent` header value. Only the class survives.
    pub fn from_user_agent(user_agent: &str) -> Self {
        let ua = user_agent.to_ascii_lowercase();
        if ua.trim().is_empty() {
            return DeviceClass::Unknown;
        }
        const BOTS: [&str; 5] = ["bot", "crawler", "spider", "headlesschrome", "curl/"];
        if BOTS.iter().any(|b| ua.contains(b)) {
            return DeviceClass::Bot;
        }
        // iPads and Android tablets say "ipad" or "tablet", or Android
        // without "mobile"; phones say "mobi" or "iphone".
        if ua.contains("ipad") || ua.contains("tablet") {
            return DeviceClass::Tablet;
        }
        if ua.contains("mobi") || ua.contains("iphone") {
            return DeviceClass::Mobile;
        }
        if ua.contains("android") {
            return DeviceClass::Tablet;
        }
        if ua.contains("mozilla/") {
            return DeviceClass::Desktop;
        }
        DeviceClass::Unknown
    }
}

/// The context recorded with an event.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct EventContext {
    /// ISO 3166-1 alpha-2 country from the configured trusted header, if any.
    pub country: Option<String>,
    /// The device class derived from the user agent.
    pub device_class: DeviceClass,
}

impl EventContext {
    /// Builds the context from the raw header values, keeping only the
    /// coarse parts. A country header that is not two letters is ignored.
    pub fn from_headers(country_header: Option<&str>, user_agent: Option<&str>) -> Self {
        let country = country_header
            .map(str::trim)
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(str::to_ascii_uppercase);
        EventContext {
            country,
            device_class: DeviceClass::from_user_agent(user_agent.unwrap_or("")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_map_to_classes() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0",
                DeviceClass::Desktop,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
                DeviceClass::Mobile,
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120 Mobile Safari",
                DeviceClass::Mobile,
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)",
                DeviceClass::Tablet,
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; SM-X200) Chrome/120 Safari",
                DeviceClass::Tablet,
            ),
            (
                "Googlebot/2.1 (+http://www.google.com/bot.html)",
                DeviceClass::Bot,
            ),
            ("", DeviceClass::Unknown),
            ("something", DeviceClass::Unknown),
        ];
        for (ua, class) in cases {
            assert_eq!(DeviceClass::from_user_agent(ua), class, "{ua}");
        }
    }

    #[test]
    fn only_two_letter_countries_are_kept() {
        assert_eq!(
            EventContext::from_headers(Some("de"), None)
                .country
                .as_deref(),
            Some("DE")
        );
        assert_eq!(EventContext::from_headers(Some("DEU"), None).country, None);
        assert_eq!(EventContext::from_headers(Some("1A"), None).country, None);
        assert_eq!(
            EventContext::from_headers(None, None).device_class,
            DeviceClass::Unknown
        );
    }
}
