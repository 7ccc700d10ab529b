//! Where the server's Global Vendor List comes from: a file, an https URL,
//! or the small sample embedded for the demo.

use anyhow::Context;
use nexaguard_tcf::gvl::Gvl;

const SAMPLE: &str = include_str!("../assets/gvl-sample.json");

/// Loads the GVL named by the settings (`None`: the embedded sample).
pub async fn load(source: Option<&str>) -> anyhow::Result<Gvl> {
    let text = match source {
        None => {
            tracing::info!(
                "using the embedded sample Global Vendor List (demo only; set gvl for production)"
            );
            SAMPLE.to_owned()
        }
        Some(url) if url.starts_with("https://") => fetch(url).await?,
        Some(url) if url.starts_with("http://") => {
            anyhow::bail!("gvl {url}: only https:// URLs are fetched")
        }
        Some(path) => tokio::fs::read_to_string(path)
            .await
            .with_context(|| format!("reading gvl {path}"))?,
    };
    let gvl = Gvl::from_json(&text).context("parsing the Global Vendor List")?;
    tracing::info!(
        vendor_list_version = gvl.vendor_list_version,
        vendors = gvl.vendors.len(),
        "Global Vendor List loaded"
    );
    Ok(gvl)
}

async fn fetch(url: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .context("building the HTTP client")?;
    let response = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("fetching gvl {url}"))?
        .error_for_status()
        .with_context(|| format!("fetching gvl {url}"))?;
    response
        .text()
        .await
        .with_context(|| format!("reading gvl {url}"))
}

/// The embedded sample, for tests and the demo.
pub fn sample() -> anyhow::Result<Gvl> {
    Gvl::from_json(SAMPLE).context("parsing the embedded sample GVL")
}
