//! The page shell every console page shares.

use super::session::Console;
use maud::{html, Markup, DOCTYPE};
use nexaguard_access::Permission;

/// A public page (sign-in, the debug tool): `title` in the title bar,
/// `content` as the main landmark.
pub fn page(title: &str, content: Markup) -> Markup {
    shell(title, html! {}, content)
}

/// A page for a signed-in user: the same shell with the console's
/// navigation and the user's role.
pub fn console_page(console: &Console, title: &str, content: Markup) -> Markup {
    let may = |permission| console.may(permission);
    let nav = html! {
        nav aria-label="Console" {
            ul.nav {
                @if may(Permission::ViewSites) { li { a href="/admin/" { "Sites" } } }
                @if may(Permission::ManageUsers) { li { a href="/admin/users" { "Users" } } }
                @if may(Permission::ManageTokens) { li { a href="/admin/tokens" { "API tokens" } } }
                @if may(Permission::ManageTenants) { li { a href="/admin/tenants" { "Tenants" } } }
                @if may(Permission::RotateKeys) { li { a href="/admin/keys" { "Keys" } } }
                @if may(Permission::ViewAudit) { li { a href="/admin/audit" { "Audit log" } } }
                li { a href="/admin/debug" { "Debug tool" } }
            }
        }
        span.role { "Role: " (console.principal.role.as_str()) }
        form method="post" action="/admin/logout" {
            (console.csrf_input())
            button.link type="submit" { "Sign out" }
        }
    };
    shell(title, nav, content)
}

fn shell(title: &str, nav: Markup, content: Markup) -> Markup {
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
                    (nav)
                }
                main #main { (content) }
            }
        }
    }
}
