//! Bar charts as SVG, drawn on the server: no script, no inline style (the
//! CSP forbids both), colours from the console's stylesheet. Each chart is
//! an image with a title for assistive technology; the page shows the same
//! numbers in a table next to it.

use maud::{html, Markup};

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The label under the axis (shown for some bars when there are many).
    pub label: String,
    /// The height as a share of the full scale, 0 to 1.
    pub value: f64,
    /// The bar's tooltip, e.g. `2026-11-24: 62.5 % of 16`.
    pub text: String,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 40.0;
/// Labels under the axis at most; the others are left out.
const MAX_LABELS: usize = 8;

/// A bar chart of shares (0 to 100 %): `id` names its title element.
pub fn bar_chart(id: &str, title: &str, bars: &[Bar]) -> Markup {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / bars.len().max(1) as f64;
    let every = bars.len().div_ceil(MAX_LABELS).max(1);
    let title_id = format!("{id}-title");
    html! {
        svg.chart #(id) viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
            aria-labelledby=(title_id) xmlns="http://www.w3.org/2000/svg" {
            title #(title_id) { (title) }
            @for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
                @let y = TOP + plot_h * (1.0 - tick);
                line.grid x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y) y2=(y) {}
                text x=(LEFT - 4.0) y=(y + 4.0) text-anchor="end" { (format!("{:.0}%", tick * 100.0)) }
            }
            line.axis x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(TOP + plot_h) {}
            line.axis x1=(LEFT) x2=(WIDTH - RIGHT) y1=(TOP + plot_h) y2=(TOP + plot_h) {}
            @for (i, bar) in bars.iter().enumerate() {
                @let value = if bar.value.is_finite() { bar.value.clamp(0.0, 1.0) } else { 0.0 };
                @let h = plot_h * value;
                @let x = LEFT + slot * i as f64;
                rect.bar x=(round(x + slot * 0.15)) y=(round(TOP + plot_h - h))
                    width=(round(slot * 0.7)) height=(round(h)) {
                    title { (bar.text) }
                }
                @if i % every == 0 {
                    text x=(round(x + slot / 2.0)) y=(HEIGHT - BOTTOM + 16.0) text-anchor="middle" { (bar.label) }
                }
            }
        }
    }
}

/// Two decimals are plenty for a picture and keep the markup short.
fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn bar(label: &str, value: f64) -> Bar {
        Bar {
            label: label.to_owned(),
            value,
            text: format!("{label}: {value}"),
        }
    }

    #[test]
    fn a_chart_is_an_image_with_a_title_and_one_bar_per_value() {
        let svg = bar_chart(
            "rate",
            "Opt-in rate by day",
            &[bar("a", 0.5), bar("b", 1.0), bar("c", 0.0)],
        )
        .into_string();
        assert!(svg.starts_with("<svg class=\"chart\" id=\"rate\""), "{svg}");
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("aria-labelledby=\"rate-title\""));
        assert!(svg.contains("<title id=\"rate-title\">Opt-in rate by day</title>"));
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 3);
        assert!(svg.contains("<title>b: 1</title>"));
        // No inline style: the CSP forbids it.
        assert!(!svg.contains("style="));
    }

    #[test]
    fn bar_heights_are_proportional_and_clamped() {
        let plot_h = HEIGHT - TOP - BOTTOM;
        let svg = bar_chart(
            "x",
            "t",
            &[bar("half", 0.5), bar("over", 3.0), bar("nan", f64::NAN)],
        )
        .into_string();
        assert!(
            svg.contains(&format!("height=\"{}\"", plot_h / 2.0)),
            "{svg}"
        );
        assert!(svg.contains(&format!("height=\"{plot_h}\"")), "{svg}");
        assert!(svg.contains("height=\"0\""), "{svg}");
    }

    #[test]
    fn many_bars_get_few_labels() {
        let bars: Vec<Bar> = (0..30).map(|i| bar(&format!("d{i}"), 0.1)).collect();
        let svg = bar_chart("x", "t", &bars).into_string();
        assert_eq!(svg.matches("<rect").count(), 30);
        let labels = svg.matches("text-anchor=\"middle\"").count();
        assert!((2..=MAX_LABELS).contains(&labels), "{labels}");
        assert!(svg.contains(">d0</text>"));
        // An empty chart still draws its axes.
        let empty = bar_chart("e", "t", &[]).into_string();
        assert!(empty.contains("class=\"axis\"") && !empty.contains("<rect"));
    }
}
