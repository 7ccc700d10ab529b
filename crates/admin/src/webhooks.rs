//! Webhooks: per site, the URLs consent events are delivered to, each with
//! a signing secret made here, shown once and kept sealed with the
//! tenant's data key; their deliveries, and redelivery of dead ones.
//!
//! The delivery itself (HTTP, signatures, back-off) is the server's; it
//! claims and settles deliveries through the store and opens secrets with
//! [`Admin::open_webhook_secret`].

use crate::error::AdminError;
use crate::keys::Scope;
use crate::principal::Principal;
use crate::Admin;
use nexaguard_access::{Permission, WebhookSecret};
use nexaguard_audit::Action;
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

/// Checks a webhook URL: `https://` with a host, no user name or password,
/// no fragment, at most [`MAX_URL_LEN`] bytes, and not an address of this
/// machine or a private network written as an IP literal (the server
/// checks resolved names at delivery time as well). With
/// `allow_loopback_http` (a development or test setting of the server),
/// `http://` is accepted for `localhost`, `127.0.0.1` and `[::1]`, and so
/// are those hosts over https.
pub fn check_url(url: &str, allow_loopback_http: bool) -> Result<(), AdminError> {
    let bad = |why: &str| AdminError::invalid("bad_url", format!("the webhook URL {why}"));
    if url.len() > MAX_URL_LEN {
        return Err(bad(&format!("is longer than {MAX_URL_LEN} bytes")));
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
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
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
        let dev_machine = loopback && allow_loopback_http;
        if !dev_machine && !is_public(ip) {
            return Err(bad(
                "must not point at a private, local or reserved address",
            ));
        }
    }
    Ok(())
}

/// Whether an address may receive webhooks: not loopback, private,
/// link-local, unspecified, multicast, shared (CGNAT), documentation or
/// otherwise reserved. Used for IP literals here and for resolved names by
/// the server, so that a webhook cannot be aimed at the server's own
/// network (SSRF).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            let [a, b, ..] = ip.octets();
            !(ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.is_multicast()
                || ip.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = ip.segments().first().copied().unwrap_or(0);
            !(ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && ip.segments().get(1).copied() == Some(0x0db8))
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
    /// signing secret.
    pub async fn create_webhook(
        &self,
        principal: &Principal,
        site: SiteId,
        url: &str,
        enabled: bool,
    ) -> Result<NewWebhook, AdminError> {
        let tenant = self.webhook_site(principal, site).await?;
        check_url(url, self.loopback_allowed())?;
        if self.store.webhooks(tenant, site).await?.len() >= MAX_WEBHOOKS_PER_SITE {
            return Err(AdminError::invalid(
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
            url: url.to_owned(),
            secret_sealed: self.seal_secret(tenant, id, &secret).await?,
            enabled,
            created_at: now,
            updated_at: now,
        };
        let audit = principal.audit(
            Action::WebhookCreated,
            format!("webhook:{}", id.0),
            json!({"site": site.0, "host": audit_host(url), "enabled": enabled}),
        );
        self.store.create_webhook(&webhook, audit).await?;
        // What was stored, as it reads back (times rounded by the database).
        let webhook = self.store.webhook(tenant, id).await?.unwrap_or(webhook);
        Ok(NewWebhook { webhook, secret })
    }

    /// Changes a webhook; with `rotate_secret`, returns the new secret
    /// (shown this once; the old one stops working at once).
    pub async fn update_webhook(
        &self,
        principal: &Principal,
        site: SiteId,
        webhook: WebhookId,
        update: &WebhookUpdate,
    ) -> Result<(Webhook, Option<WebhookSecret>), AdminError> {
        let (tenant, _) = self.site_webhook(principal, site, webhook).await?;
        if let Some(url) = &update.url {
            check_url(url, self.loopback_allowed())?;
        }
        let secret = update.rotate_secret.then(WebhookSecret::generate);
        let secret_sealed = match &secret {
            Some(secret) => Some(self.seal_secret(tenant, webhook, secret).await?),
            None => None,
        };
        let change = WebhookChange {
            url: update.url.clone(),
            enabled: update.enabled,
            secret_sealed,
        };
        let audit = principal.audit(
            Action::WebhookUpdated,
            format!("webhook:{}", webhook.0),
            json!({
                "site": site.0,
                "host": update.url.as_deref().map(audit_host),
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
