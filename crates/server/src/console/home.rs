//! `/admin/`: the console's start page, the tenant's sites.

use super::layout;
use super::session::{Console, Refusal};
use maud::{html, Markup};
use nexaguard_access::Permission;

/// `GET /admin/`. The platform operator, who has no sites, is sent to the
/// tenants.
pub async fn home(console: Console) -> Result<Markup, Refusal> {
    if console.principal.role.is_platform() && console.may(Permission::ManageTenants) {
        return Err(Refusal::Redirect("/admin/tenants".into()));
    }
    console.require(Permission::ViewSites)?;
    let sites = console.admin.list_sites(&console.principal).await?;
    Ok(layout::console_page(
        &console,
        "Sites",
        html! {
            h1 { "Sites" }
            @if console.may(Permission::EditSites) {
                p { a.button href="/admin/sites/new" { "New site" } }
            }
            @if sites.is_empty() {
                p { "No sites yet." }
            } @else {
                ul.sites {
                    @for site in &sites {
                        li { a href=(format!("/admin/sites/{}", site.id.0)) { (site.name) } }
                    }
                }
            }
        },
    ))
}
