//! Webhooks: per site, the URLs consent events are delivered to, each with
//! a signing secret made here, shown once and kept sealed with the
//! tenant's data key; their deliveries, and redelivery of dead ones.
//!
//! The delivery itself (HTTP, signatures, back-off) is the server's; it
//! claims and settles deliveries through the store and opens secrets with
//! [`Admin::open_webhook_secret`].
//!
//! Invariant: every stored webhook URL is the normalised form
//! [`check_url`] returned for it, and every address a delivery connects
//! to passes [`may_connect`], whose policy is the one table in
//! [`address`].

use crate::error::AdminError;
use crate::keys::Scope;
use crate::principal::Principal;
use crate::Admin;
use nexaguard_access::{Permission, WebhookSecret};
use nexaguard_audit::Action;
use nexaguard_consent::config::forbidden_url_char;
use nexaguard_store::webhooks::{
    ClaimedDelivery, Delivery, DeliveryId, DeliveryStatus, Webhook, WebhookChange, WebhookId,
};
use nexaguard_store::{SiteId, TenantId};
use serde_json::json;
use std::net::IpAddr;
use time::OffsetDateTime;
use uuid::Uuid;

/// Longest webhook URL accepted, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// Most webhooks a site may have.
pub const MAX_WEBHOOKS_PER_SITE: usize = 10;

/// Deliveries listed when the caller names no limit.
pub const DEFAULT_DELIVERY_LIMIT: u32 = 50;

/// Most deliveries listed at once.
pub const MAX_DELIVERY_LIMIT: u32 = 500;

/// A new webhook; the secret is shown this once.
#[derive(Debug)]
pub struct NewWebhook {
    /// The webhook as stored.
    pub webhook: Webhook,
    /// The signing secret, for the receiver to check signatures with.
    pub secret: WebhookSecret,
}

/// A change asked for through the API; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookUpdate {
    /// A new URL.
    pub url: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// Replace the signing secret with a fresh one (shown once).
    pub rotate_secret: bool,
}

/// Checks a webhook URL and returns it normalised (parsed and serialised,
/// as it is stored and sent to): `https://` with a host, no user name or
/// password, no fragment, at most [`MAX_URL_LEN`] bytes, none of the
/// characters [`forbidden_url_char`] names in the text as given (the
/// parser would silently drop tabs and newlines, so the raw text is
/// checked first), and not a name of this machine or an address that
/// [`address::refusal`] refuses (the server checks resolved names at
/// delivery time as well). With `allow_loopback_http` (a development or
/// test setting of the server), `http://` is accepted for `localhost`
/// (and names under it), `127.0.0.1` and `[::1]`, and so are those hosts
/// over https.
pub fn check_url(url: &str, allow_loopback_http: bool) -> Result<String, AdminError> {
    let bad = |why: &str| AdminError::invalid("bad_url", format!("the webhook URL {why}"));
    if url.len() > MAX_URL_LEN {
        return Err(bad(&format!("is longer than {MAX_URL_LEN} bytes")));
    }
    if let Some(what) = forbidden_url_char(url) {
        return Err(bad(&format!("must not contain {what}")));
    }
    let parsed = url::Url::parse(url).map_err(|_| bad("is not a valid absolute URL"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("must not contain a user name or password"));
    }
    if parsed.fragment().is_some() {
        return Err(bad("must not contain a fragment (#...)"));
    }
    let host = parsed.host().ok_or_else(|| bad("has no host"))?;
    let loopback = match &host {
        url::Host::Domain(name) => is_localhost_name(name),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    match parsed.scheme() {
        "https" => {}
        "http" if allow_loopback_http && loopback => {}
        "http" if loopback => {
            return Err(bad(
                "must use https (http to localhost only when the server allows it for development)",
            ))
        }
        _ => return Err(bad("must use https")),
    }
    if loopback && !allow_loopback_http {
        return Err(bad("must not point at this machine"));
    }
    let ip = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    };
    if let Some(ip) = ip {
        if !may_connect(ip, allow_loopback_http) {
            let reason = address::refusal(ip).unwrap_or("special purpose");
            return Err(bad(&format!(
                "must not point at a private, local or reserved address ({reason})"
            )));
        }
    }
    let normalised = String::from(parsed);
    if normalised.len() > MAX_URL_LEN {
        return Err(bad(&format!("is longer than {MAX_URL_LEN} bytes")));
    }
    Ok(normalised)
}

/// `localhost` and the names under it, which resolve to this machine
/// (RFC 6761), with or without the root's trailing dot.
fn is_localhost_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Whether an address may receive webhooks: see [`address::refusal`].
/// Used for IP literals here and for resolved names by the server, so
/// that a webhook cannot be aimed at the server's own network (SSRF).
pub fn is_public(ip: IpAddr) -> bool {
    address::refusal(ip).is_none()
}

/// Whether a delivery may connect to `ip`: a public address, or with the
/// development setting `allow_loopback` also a loopback one (`127/8`,
/// `::1`). The one rule for IP literals at creation and before each
/// attempt, and for every address a name resolves to at each delivery.
pub fn may_connect(ip: IpAddr, allow_loopback: bool) -> bool {
    is_public(ip) || (allow_loopback && ip.is_loopback())
}

pub mod address {
    //! The address policy of webhooks: the IANA special-purpose address
    //! registries as two tables of (block, reason), which a reader can
    //! check row by row against
    //! <https://www.iana.org/assignments/iana-ipv4-special-registry> and
    //! <https://www.iana.org/assignments/iana-ipv6-special-registry>.
    //!
    //! Invariant: an address is public only if no row covers it and, for
    //! the IPv6 forms that carry an IPv4 address, that IPv4 address is
    //! public too; anything IPv6 outside `2000::/3` (the only space IANA
    //! allocates for global unicast) is refused as well. Pure functions of
    //! the address: no I/O, no DNS.
    //!
    //! Decisions beyond the registries' "globally reachable" column:
    //! - Blocks that are reachable but are no web server's (`192.0.0.0/24`
    //!   with its anycast /32s, AS112, AMT, `2001::/23` whole) are refused:
    //!   no webhook receiver lives there.
    //! - 6to4 (`2002::/16`) and Teredo (`2001::/32`) are refused whole,
    //!   even when the IPv4 address they embed is public: they reach it
    //!   through relays, and a relay is a hop the server does not choose.
    //! - IPv4-mapped (`::ffff:0:0/96`) and NAT64 well-known (`64:ff9b::/96`)
    //!   addresses are judged by the IPv4 address in their last 32 bits:
    //!   that address is where the connection ends up, and an IPv6-only
    //!   server behind DNS64 reaches public IPv4 receivers this way.
    //! - Local-use NAT64 (`64:ff9b:1::/48`) is refused whole: where the
    //!   IPv4 address sits in it depends on a local prefix length.

    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    /// One row of a policy table: every address under `network/prefix`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Block<A> {
        /// The first address of the block.
        pub network: A,
        /// The prefix length in bits.
        pub prefix: u8,
        /// What the block is, after the registry, with its RFC.
        pub reason: &'static str,
        /// What covering an address means.
        pub rule: Rule,
    }

    /// What a row says about the addresses it covers.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Rule {
        /// Never a webhook receiver.
        Refuse,
        /// Judged by the IPv4 address in the last 32 bits (IPv6 only).
        EmbeddedIpv4,
    }

    const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8, reason: &'static str) -> Block<Ipv4Addr> {
        Block {
            network: Ipv4Addr::new(a, b, c, d),
            prefix,
            reason,
            rule: Rule::Refuse,
        }
    }

    const fn v6(
        segments: [u16; 8],
        prefix: u8,
        rule: Rule,
        reason: &'static str,
    ) -> Block<Ipv6Addr> {
        let [a, b, c, d, e, f, g, h] = segments;
        Block {
            network: Ipv6Addr::new(a, b, c, d, e, f, g, h),
            prefix,
            reason,
            rule,
        }
    }

    /// The IPv4 blocks no webhook goes to, in the registry's order.
    #[rustfmt::skip]
    pub const IPV4: &[Block<Ipv4Addr>] = &[
        v4(0, 0, 0, 0, 8,           "\"this network\" (RFC 791)"),
        v4(10, 0, 0, 0, 8,          "private use (RFC 1918)"),
        v4(100, 64, 0, 0, 10,       "shared address space, carrier-grade NAT (RFC 6598)"),
        v4(127, 0, 0, 0, 8,         "loopback (RFC 1122)"),
        v4(169, 254, 0, 0, 16,      "link local, cloud metadata services (RFC 3927)"),
        v4(172, 16, 0, 0, 12,       "private use (RFC 1918)"),
        v4(192, 0, 0, 0, 24,        "IETF protocol assignments (RFC 6890)"),
        v4(192, 0, 2, 0, 24,        "documentation, TEST-NET-1 (RFC 5737)"),
        v4(192, 31, 196, 0, 24,     "AS112-v4 (RFC 7535)"),
        v4(192, 52, 193, 0, 24,     "AMT (RFC 7450)"),
        v4(192, 88, 99, 0, 24,      "deprecated 6to4 relay anycast (RFC 7526)"),
        v4(192, 168, 0, 0, 16,      "private use (RFC 1918)"),
        v4(192, 175, 48, 0, 24,     "direct delegation AS112 service (RFC 7534)"),
        v4(198, 18, 0, 0, 15,       "benchmarking (RFC 2544)"),
        v4(198, 51, 100, 0, 24,     "documentation, TEST-NET-2 (RFC 5737)"),
        v4(203, 0, 113, 0, 24,      "documentation, TEST-NET-3 (RFC 5737)"),
        v4(224, 0, 0, 0, 4,         "multicast (RFC 5771)"),
        v4(240, 0, 0, 0, 4,         "reserved (RFC 1112)"),
        v4(255, 255, 255, 255, 32,  "limited broadcast (RFC 919)"),
    ];

    /// The IPv6 blocks no webhook goes to, or that carry an IPv4 address
    /// to judge instead. The first row that covers an address decides, so
    /// a narrower block comes before a wider one that contains it.
    #[rustfmt::skip]
    pub const IPV6: &[Block<Ipv6Addr>] = &[
        v6([0, 0, 0, 0, 0, 0, 0, 1], 128,       Rule::Refuse,       "loopback (RFC 4291)"),
        v6([0, 0, 0, 0, 0, 0, 0, 0], 128,       Rule::Refuse,       "unspecified (RFC 4291)"),
        v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96,   Rule::EmbeddedIpv4, "IPv4-mapped (RFC 4291)"),
        v6([0, 0, 0, 0, 0, 0, 0, 0], 96,        Rule::Refuse,       "IPv4-compatible, deprecated (RFC 4291)"),
        v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, Rule::EmbeddedIpv4, "NAT64 well-known prefix (RFC 6052)"),
        v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, Rule::Refuse,       "local-use IPv4/IPv6 translation (RFC 8215)"),
        v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64,    Rule::Refuse,       "discard-only (RFC 6666)"),
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32,   Rule::Refuse,       "Teredo (RFC 4380)"),
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23,   Rule::Refuse,       "IETF protocol assignments (RFC 2928)"),
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, Rule::Refuse,     "documentation (RFC 3849)"),
        v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16,   Rule::Refuse,       "6to4 (RFC 3056)"),
        v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48, Rule::Refuse, "direct delegation AS112 service (RFC 7534)"),
        v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20,   Rule::Refuse,       "documentation (RFC 9637)"),
        v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16,   Rule::Refuse,       "segment routing SIDs (RFC 9602)"),
        v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7,    Rule::Refuse,       "unique local (RFC 4193)"),
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10,   Rule::Refuse,       "link-local unicast (RFC 4291)"),
        v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10,   Rule::Refuse,       "site-local, deprecated (RFC 3879)"),
        v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8,    Rule::Refuse,       "multicast (RFC 4291)"),
    ];

    /// Why IPv6 space outside `2000::/3` is refused when no row names it.
    pub const NOT_GLOBAL_UNICAST: &str =
        "outside 2000::/3, the only IPv6 space allocated for global unicast (RFC 4291)";

    fn covers(network: u128, prefix: u8, address: u128, bits: u8) -> bool {
        let shift = u32::from(bits.saturating_sub(prefix));
        let mask = u128::MAX.checked_shl(shift).unwrap_or(0);
        network & mask == address & mask
    }

    /// Why `ip` may not receive webhooks (the reason of the row that
    /// refuses it), or `None` when it is public.
    pub fn refusal(ip: IpAddr) -> Option<&'static str> {
        match ip {
            IpAddr::V4(ip) => refusal_v4(ip),
            IpAddr::V6(ip) => refusal_v6(ip),
        }
    }

    fn refusal_v4(ip: Ipv4Addr) -> Option<&'static str> {
        let address = u128::from(u32::from(ip));
        IPV4.iter()
            .find(|b| covers(u128::from(u32::from(b.network)), b.prefix, address, 32))
            .map(|b| b.reason)
    }

    fn refusal_v6(ip: Ipv6Addr) -> Option<&'static str> {
        let address = u128::from(ip);
        match IPV6
            .iter()
            .find(|b| covers(u128::from(b.network), b.prefix, address, 128))
        {
            Some(Block {
                rule: Rule::Refuse,
                reason,
                ..
            }) => Some(reason),
            Some(Block {
                rule: Rule::EmbeddedIpv4,
                ..
            }) => {
                let [.., a, b, c, d] = ip.octets();
                refusal_v4(Ipv4Addr::new(a, b, c, d))
            }
            None if !covers(0x2000_u128 << 112, 3, address, 128) => Some(NOT_GLOBAL_UNICAST),
            None => None,
        }
    }
}

/// What a sealed secret is bound to: a sealed value moved to another
/// webhook's row does not open.
fn secret_context(webhook: WebhookId) -> String {
    format!("webhook|{}", webhook.0)
}

/// The host of a URL, for audit details: the rest (path, query) may hold
/// a receiver's own credentials.
fn audit_host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Admin {
    /// Whether `http://` URLs of this machine are accepted for webhooks
    /// (a development and test setting; off by default).
    pub fn allow_loopback_webhook_urls(&self, allow: bool) {
        self.webhook_loopback
            .store(allow, std::sync::atomic::Ordering::Relaxed);
    }

    fn loopback_allowed(&self) -> bool {
        self.webhook_loopback
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Checks the permission and that `site` is the caller's; returns the
    /// tenant.
    async fn webhook_site(
        &self,
        principal: &Principal,
        site: SiteId,
    ) -> Result<TenantId, AdminError> {
        principal.require(Permission::ManageWebhooks)?;
        let tenant = principal.tenant()?;
        self.store
            .tenant_site(tenant, site)
            .await?
            .ok_or(AdminError::NotFound("site"))?;
        Ok(tenant)
    }

    /// A webhook of the caller's site.
    async fn site_webhook(
        &self,
        principal: &Principal,
        site: SiteId,
        webhook: WebhookId,
    ) -> Result<(TenantId, Webhook), AdminError> {
        let tenant = self.webhook_site(principal, site).await?;
        let found = self
            .store
            .webhook(tenant, webhook)
            .await?
            .filter(|w| w.site == site)
            .ok_or(AdminError::NotFound("webhook"))?;
        Ok((tenant, found))
    }

    async fn seal_secret(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        secret: &WebhookSecret,
    ) -> Result<String, AdminError> {
        self.keys
            .seal(
                Scope::Tenant(tenant),
                &secret_context(webhook),
                secret.as_str().as_bytes(),
            )
            .await
    }

    /// The webhooks of a site of the caller's tenant.
    pub async fn list_webhooks(
        &self,
        principal: &Principal,
        site: SiteId,
    ) -> Result<Vec<Webhook>, AdminError> {
        let tenant = self.webhook_site(principal, site).await?;
        Ok(self.store.webhooks(tenant, site).await?)
    }

    /// A webhook of a site of the caller's tenant.
    pub async fn webhook(
        &self,
        principal: &Principal,
        site: SiteId,
        webhook: WebhookId,
    ) -> Result<Webhook, AdminError> {
        Ok(self.site_webhook(principal, site, webhook).await?.1)
    }

    /// Creates a webhook for a site of the caller's tenant, with a fresh
    /// signing secret; the URL is stored as [`check_url`] normalises it.
    pub async fn create_webhook(
        &self,
        principal: &Principal,
        site: SiteId,
        url: &str,
        enabled: bool,
    ) -> Result<NewWebhook, AdminError> {
        let tenant = self.webhook_site(principal, site).await?;
        let url = check_url(url, self.loopback_allowed())?;
        if self.store.webhooks(tenant, site).await?.len() >= MAX_WEBHOOKS_PER_SITE {
            return Err(AdminError::state(
                "too_many_webhooks",
                format!("a site has at most {MAX_WEBHOOKS_PER_SITE} webhooks"),
            ));
        }
        let id = WebhookId(Uuid::new_v4());
        let secret = WebhookSecret::generate();
        let now = OffsetDateTime::now_utc();
        let webhook = Webhook {
            id,
            tenant,
            site,
            url: url.clone(),
            secret_sealed: self.seal_secret(tenant, id, &secret).await?,
            enabled,
            created_at: now,
            updated_at: now,
        };
        let audit = principal.audit(
            Action::WebhookCreated,
            format!("webhook:{}", id.0),
            json!({"site": site.0, "host": audit_host(&url), "enabled": enabled}),
        );
        self.store.create_webhook(&webhook, audit).await?;
        // What was stored, as it reads back (times rounded by the database).
        let webhook = self.store.webhook(tenant, id).await?.unwrap_or(webhook);
        Ok(NewWebhook { webhook, secret })
    }

    /// Changes a webhook; with `rotate_secret`, returns the new secret
    /// (shown this once; the old one stops working at once). A new URL is
    /// stored as [`check_url`] normalises it.
    pub async fn update_webhook(
        &self,
        principal: &Principal,
        site: SiteId,
        webhook: WebhookId,
        update: &WebhookUpdate,
    ) -> Result<(Webhook, Option<WebhookSecret>), AdminError> {
        let (tenant, _) = self.site_webhook(principal, site, webhook).await?;
        let url = match &update.url {
            Some(url) => Some(check_url(url, self.loopback_allowed())?),
            None => None,
        };
        let secret = update.rotate_secret.then(WebhookSecret::generate);
        let secret_sealed = match &secret {
            Some(secret) => Some(self.seal_secret(tenant, webhook, secret).await?),
            None => None,
        };
        let change = WebhookChange {
            url: url.clone(),
            enabled: update.enabled,
            secret_sealed,
        };
        let audit = principal.audit(
            Action::WebhookUpdated,
            format!("webhook:{}", webhook.0),
            json!({
                "site": site.0,
                "host": url.as_deref().map(audit_host),
                "enabled": update.enabled,
                "secretRotated": update.rotate_secret,
            }),
        );
        let updated = self
            .store
            .update_webhook(tenant, webhook, &change, audit)
            .await?
            .ok_or(AdminError::NotFound("webhook"))?;
        Ok((updated, secret))
    }

    /// Deletes a webhook with its deliveries (pending ones are not sent).
    pub async fn delete_webhook(
        &self,
        principal: &Principal,
        site: SiteId,
        webhook: WebhookId,
    ) -> Result<(), AdminError> {
        let (tenant, _) = self.site_webhook(principal, site, webhook).await?;
        let audit = principal.audit(
            Action::WebhookDeleted,
            format!("webhook:{}", webhook.0),
            json!({"site": site.0}),
        );
        if self.store.delete_webhook(tenant, webhook, audit).await? {
            Ok(())
        } else {
            Err(AdminError::NotFound("webhook"))
        }
    }

    /// A webhook's deliveries, newest first: at most `limit` (default
    /// [`DEFAULT_DELIVERY_LIMIT`], at most [`MAX_DELIVERY_LIMIT`]), only
    /// those with `status` if given.
    pub async fn webhook_deliveries(
        &self,
        principal: &Principal,
        site: SiteId,
        webhook: WebhookId,
        status: Option<DeliveryStatus>,
        limit: Option<u32>,
    ) -> Result<Vec<Delivery>, AdminError> {
        let limit = limit.unwrap_or(DEFAULT_DELIVERY_LIMIT);
        if !(1..=MAX_DELIVERY_LIMIT).contains(&limit) {
            return Err(AdminError::invalid(
                "bad_limit",
                format!("limit is 1 to {MAX_DELIVERY_LIMIT}"),
            ));
        }
        let (tenant, _) = self.site_webhook(principal, site, webhook).await?;
        Ok(self
            .store
            .deliveries(tenant, webhook, status, limit)
            .await?)
    }

    /// Sends a dead delivery again: it becomes pending, due now, with a
    /// fresh series of attempts. [`AdminError::NotFound`] if there is no
    /// such dead delivery.
    pub async fn redeliver(
        &self,
        principal: &Principal,
        site: SiteId,
        webhook: WebhookId,
        delivery: DeliveryId,
    ) -> Result<Delivery, AdminError> {
        let (tenant, _) = self.site_webhook(principal, site, webhook).await?;
        let audit = principal.audit(
            Action::WebhookRedelivered,
            format!("webhook:{}", webhook.0),
            json!({"site": site.0, "delivery": delivery.0}),
        );
        self.store
            .redeliver(tenant, webhook, delivery, OffsetDateTime::now_utc(), audit)
            .await?
            .ok_or(AdminError::NotFound("dead delivery"))
    }

    /// Opens the signing secret of a claimed delivery's webhook (for the
    /// delivery worker).
    pub async fn open_webhook_secret(
        &self,
        claimed: &ClaimedDelivery,
    ) -> Result<WebhookSecret, AdminError> {
        let bytes = self
            .keys
            .open(
                &claimed.secret_sealed,
                &secret_context(claimed.delivery.webhook),
            )
            .await?;
        String::from_utf8(bytes)
            .ok()
            .and_then(|text| WebhookSecret::parse(&text))
            .ok_or_else(|| {
                AdminError::Store(nexaguard_store::StoreError::Corrupt(format!(
                    "the secret of webhook {} is not a webhook secret",
                    claimed.delivery.webhook.0
                )))
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn refused(ip: &str) -> Option<&'static str> {
        address::refusal(ip.parse().unwrap())
    }

    #[test]
    fn special_purpose_ipv4_blocks_are_refused() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.255",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.0.9",
            "192.0.2.1",
            "192.31.196.1",
            "192.52.193.1",
            "192.88.99.1",
            "192.168.1.1",
            "192.175.48.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(refused(ip).is_some(), "{ip} passed");
        }
    }

    #[test]
    fn special_purpose_ipv6_blocks_are_refused() {
        for ip in [
            "::",
            "::1",
            "::2",
            "100::1",
            "2001::1",
            "2001:1::1",
            "2001:20::1",
            "2001:1ff:ffff::1",
            "2001:db8::1",
            "2002::1",
            "2620:4f:8000::1",
            "3fff::1",
            "3fff:fff::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "64:ff9b:1::a00:1",
            "4000::1",
            "1::1",
        ] {
            assert!(refused(ip).is_some(), "{ip} passed");
        }
    }

    #[test]
    fn ipv6_forms_of_refused_ipv4_addresses_are_refused() {
        for ip in [
            // NAT64 form of 127.0.0.1 (RFC 6052 well-known prefix).
            "64:ff9b::7f00:1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::10.0.0.1",
            // 6to4 of 127.0.0.1 and of a public address: 2002::/16 is
            // refused whole.
            "2002:7f00:1::",
            "2002:101:101::1",
            // IPv4-compatible (deprecated), whatever it embeds.
            "::127.0.0.1",
            "::1.1.1.1",
            // IPv4-mapped.
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:192.0.0.1",
            // Teredo: server 127.0.0.1, client 10.0.0.1 obfuscated.
            "2001:0:7f00:1::f5ff:fffe",
        ] {
            assert!(refused(ip).is_some(), "{ip} passed");
        }
    }

    #[test]
    fn public_addresses_and_their_ipv6_forms_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "192.0.1.1",
            "198.20.0.1",
            "223.255.255.254",
            "2606:4700:4700::1111",
            "2a00:1450:4001:82a::200e",
            "2001:200::1",
            "::ffff:1.1.1.1",
            "64:ff9b::1.1.1.1",
        ] {
            assert_eq!(refused(ip), None, "{ip}");
        }
    }

    #[test]
    fn every_table_row_is_a_network_address_and_refuses_its_first_address() {
        for block in address::IPV4 {
            let host_bits = 32 - u32::from(block.prefix);
            let low = u32::from(block.network).checked_shl(32 - host_bits);
            assert!(
                host_bits == 32 || low.unwrap_or(0) == 0,
                "{}/{} has host bits set",
                block.network,
                block.prefix
            );
            assert!(refused(&block.network.to_string()).is_some());
        }
        for block in address::IPV6 {
            let host_bits = 128 - u32::from(block.prefix);
            let low = u128::from(block.network).checked_shl(128 - host_bits);
            assert!(
                host_bits == 128 || low.unwrap_or(0) == 0,
                "{}/{} has host bits set",
                block.network,
                block.prefix
            );
            assert!(refused(&block.network.to_string()).is_some());
        }
    }

    #[test]
    fn nat64_form_of_loopback_is_refused_at_creation() {
        for bad in [
            "https://[64:ff9b::7f00:1]/hook",
            "https://[2002:7f00:1::]/hook",
            "https://[::127.0.0.1]/hook",
            "https://192.0.0.1/hook",
            "https://[::ffff:7f00:1]/hook",
            "https://[2001:0:7f00:1::f5ff:fffe]/hook",
            "https://2130706433/hook",
            "https://0x7f.1/hook",
            "https://127.1/hook",
        ] {
            let error = check_url(bad, false).unwrap_err();
            assert_eq!(error.code(), "bad_url", "{bad}");
        }
        // The development setting opens loopback, not its disguises.
        for bad in ["https://[64:ff9b::7f00:1]/", "http://[64:ff9b::7f00:1]/"] {
            assert!(check_url(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn control_characters_and_markup_in_a_webhook_url_are_refused_before_parsing() {
        for bad in [
            "https://hooks.example.com/a\tb",
            "https://hooks.exa\nmple.com/",
            "https://hooks.example.com/\r\nX-Injected: 1",
            "https://hooks.example.com/\u{0}",
            "https://hooks.example.com/\u{7f}",
            "https://hooks.example.com/\u{9b}",
            "https://hooks.example.com/a b",
            " https://hooks.example.com/",
            "https://hooks.example.com/\u{3000}",
            "https://hooks.example.com/\"x",
            "https://hooks.example.com/<x>",
            "https://hooks.example.com\\@127.0.0.1/",
            "https:\\\\hooks.example.com/",
        ] {
            let error = check_url(bad, false).unwrap_err();
            assert_eq!(error.code(), "bad_url", "{bad:?}");
        }
    }

    #[test]
    fn a_webhook_url_is_stored_in_its_normalised_form() {
        assert_eq!(
            check_url("HTTPS://Hooks.Example.COM:443/a/../b?x=1", false).unwrap(),
            "https://hooks.example.com/b?x=1"
        );
        assert_eq!(
            check_url("https://bücher.example/hook", false).unwrap(),
            "https://xn--bcher-kva.example/hook"
        );
        assert_eq!(
            check_url("https://hooks.example.com", false).unwrap(),
            "https://hooks.example.com/"
        );
        // Percent-encoding may make a URL longer than the raw text.
        let wide = format!("https://hooks.example.com/{}", "é".repeat(MAX_URL_LEN / 3));
        assert!(wide.len() <= MAX_URL_LEN);
        assert_eq!(check_url(&wide, false).unwrap_err().code(), "bad_url");
    }

    #[test]
    fn names_under_localhost_are_this_machine() {
        for bad in [
            "https://localhost./",
            "https://LOCALHOST/",
            "https://api.localhost/",
        ] {
            assert_eq!(
                check_url(bad, false).unwrap_err().code(),
                "bad_url",
                "{bad}"
            );
        }
        check_url("http://api.localhost:9000/", true).unwrap();
    }

    #[test]
    fn resolved_addresses_are_judged_by_the_same_policy() {
        for ip in ["127.0.0.1", "::1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!may_connect(ip, false));
            assert!(may_connect(ip, true));
        }
        for ip in ["64:ff9b::7f00:1", "::ffff:127.0.0.1", "10.0.0.1", "fd00::1"] {
            assert!(!may_connect(ip.parse().unwrap(), true), "{ip}");
        }
        assert!(may_connect("2606:4700:4700::1111".parse().unwrap(), false));
    }

    #[test]
    fn urls() {
        for good in [
            "https://hooks.example.com/nexaguard",
            "https://hooks.example.com:8443/a?b=c",
            "https://8.8.8.8/x",
        ] {
            check_url(good, false).unwrap();
        }
        for bad in [
            "http://hooks.example.com/",
            "ftp://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://user@hooks.example.com/",
            "https://hooks.example.com/#x",
            "not a url",
            "/relative",
            "https://127.0.0.1/",
            "https://localhost/",
            "http://127.0.0.1:9000/",
            "https://10.0.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
        ] {
            let error = check_url(bad, false).unwrap_err();
            assert_eq!(error.code(), "bad_url", "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(check_url(&long, false).unwrap_err().code(), "bad_url");
        // The development setting opens this machine, nothing else.
        for dev in [
            "http://127.0.0.1:9000/hook",
            "http://localhost:9000/hook",
            "http://[::1]:9000/",
        ] {
            check_url(dev, true).unwrap();
        }
        for still_bad in [
            "http://10.0.0.1/",
            "http://example.com/",
            "http://u:p@127.0.0.1/",
        ] {
            assert!(check_url(still_bad, true).is_err(), "{still_bad}");
        }
    }
}
