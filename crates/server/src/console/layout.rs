//! The page shell every console page shares.

use maud::{html, Markup, DOCTYPE};

/// A whole page: `title` in the title bar and as the first heading's
/// context, `content` as the main landmark.
pub fn page(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · NexaGuard" }
                link rel="stylesheet" href="/admin/assets/console.css";
                script src="/admin/assets/console.js" defer {}
            }
            body {
                a.skip-link href="#main" { "Skip to content" }
                header.topbar {
                    a.brand href="/admin/" { "NexaGuard" }
                }
                main #main { (content) }
            }
        }
    }
}
