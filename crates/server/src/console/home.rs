//! `/admin/`: the console's start page, the tenant's sites.

use super::layout;
use super::session::{Console, Refusal};
use maud::{html, Markup};
use nexaguard_access::Permission;

/// `GET /admin/`.
pub async fn home(console: Console) -> Result<Markup, Refusal> {
    console.require(Permission::ViewSites)?;
    let sites = console.admin.list_sites(&console.principal).await?;
    Ok(layout::console_page(
        &console,
        "Sites",
        html! {
            h1 { "Sites" }
            @if sites.is_empty() {
                p { "No sites yet." }
            } @else {
                ul.sites {
                    @for site in &sites {
                        li { (site.name) }
                    }
                }
            }
        },
    ))
}
