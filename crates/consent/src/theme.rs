//! The banner's colours as the browser paints them: the configured colours,
//! with the text colours replaced where they would be hard to read.
//!
//! Invariant: the body text has a contrast ratio of at least 4.5:1 with
//! the background (WCAG 2.x level AA for normal text), and the text on the
//! accent colour is black or white, whichever contrasts more. Computed once
//! per published configuration by the server, so the browser SDK carries
//! no colour arithmetic.

use crate::config::Banner;
use serde::Serialize;

/// The minimum contrast ratio of body text (WCAG 2.x, level AA).
pub const MIN_TEXT_CONTRAST: f64 = 4.5;

/// The colours the SDK paints the banner with, `#rrggbb` each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Theme {
    /// The accent colour (buttons), as configured.
    pub primary: String,
    /// The background, as configured.
    pub background: String,
    /// The body text: as configured where it reaches
    /// [`MIN_TEXT_CONTRAST`] on the background, else black or white.
    pub text: String,
    /// The text on the accent colour: black or white.
    pub on_primary: String,
}

impl Theme {
    /// The theme of a banner. A colour that is not `#rrggbb` (validation
    /// refuses those, so only an unvalidated configuration has one) falls
    /// back to the product's default.
    pub fn of(banner: &Banner) -> Theme {
        let defaults = Banner::default();
        let pick = |c: &str, fallback: String| {
            if luminance(c).is_some() {
                c.to_owned()
            } else {
                fallback
            }
        };
        let background = pick(&banner.background_color, defaults.background_color);
        let primary = pick(&banner.primary_color, defaults.primary_color);
        let text = if contrast(&banner.text_color, &background) >= MIN_TEXT_CONTRAST {
            banner.text_color.clone()
        } else {
            readable_on(&background).to_owned()
        };
        let on_primary = readable_on(&primary).to_owned();
        Theme {
            primary,
            background,
            text,
            on_primary,
        }
    }
}

/// The relative luminance of `#rrggbb` (WCAG 2.x), or `None` when `hex` is
/// not such a colour.
pub fn luminance(hex: &str) -> Option<f64> {
    let digits = hex.strip_prefix('#').filter(|d| d.len() == 6)?;
    let n = u32::from_str_radix(digits, 16).ok()?;
    let channel = |shift: u32| {
        let s = f64::from((n >> shift) & 0xff) / 255.0;
        if s <= 0.03928 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    Some(0.2126 * channel(16) + 0.7152 * channel(8) + 0.0722 * channel(0))
}

/// The contrast ratio of two `#rrggbb` colours, from 1 to 21; 1 when either
/// is not a colour.
pub fn contrast(a: &str, b: &str) -> f64 {
    match (luminance(a), luminance(b)) {
        (Some(la), Some(lb)) => (la.max(lb) + 0.05) / (la.min(lb) + 0.05),
        _ => 1.0,
    }
}

/// Black or white, whichever contrasts more with `background`.
pub fn readable_on(background: &str) -> &'static str {
    if contrast("#000000", background) >= contrast("#ffffff", background) {
        "#000000"
    } else {
        "#ffffff"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn banner(primary: &str, background: &str, text: &str) -> Banner {
        Banner {
            primary_color: primary.to_owned(),
            background_color: background.to_owned(),
            text_color: text.to_owned(),
            ..Banner::default()
        }
    }

    #[test]
    fn black_on_white_is_the_largest_contrast() {
        assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
        assert!((contrast("#777777", "#777777") - 1.0).abs() < 1e-9);
        assert_eq!(contrast("black", "#ffffff"), 1.0);
    }

    #[test]
    fn a_readable_configured_text_colour_is_kept() {
        let theme = Theme::of(&banner("#1f5eff", "#ffffff", "#1a1a1a"));
        assert_eq!(theme.text, "#1a1a1a");
        assert_eq!(theme.on_primary, "#ffffff");
        assert!(contrast(&theme.on_primary, &theme.primary) >= MIN_TEXT_CONTRAST);
    }

    #[test]
    fn text_below_four_and_a_half_to_one_becomes_black_or_white() {
        let theme = Theme::of(&banner("#ffee00", "#ffffff", "#dddddd"));
        assert_eq!(theme.text, "#000000");
        assert_eq!(theme.on_primary, "#000000", "black reads better on yellow");
        let dark = Theme::of(&banner("#1f5eff", "#101010", "#202020"));
        assert_eq!(dark.text, "#ffffff");
        assert!(contrast(&dark.text, &dark.background) >= MIN_TEXT_CONTRAST);
    }

    #[test]
    fn a_colour_that_is_not_rrggbb_falls_back_to_the_default() {
        let theme = Theme::of(&banner("blue", "#fff", "#000000"));
        assert_eq!(theme.primary, Banner::default().primary_color);
        assert_eq!(theme.background, Banner::default().background_color);
        assert_eq!(theme.text, "#000000");
    }
}
