//! The webhook delivery worker: polls the outbox, posts each consent event
//! to its webhook with a signature, and settles the delivery as delivered,
//! due again after a back-off, or dead.
//!
//! - At least once: a delivery is claimed (its attempt counted, a lease
//!   taken) before it is sent and settled after; a worker that stops in
//!   between leaves it to be claimed again when the lease lapses. Receivers
//!   drop duplicates by the `NexaGuard-Delivery` id (or the event id).
//! - Signed like Stripe's webhooks: `NexaGuard-Signature: t=<unix
//!   seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, so a receiver
//!   checks the body and rejects old timestamps (replays).
//! - Only a 2xx within [`WebhookSettings::timeout`] counts; redirects are
//!   not followed (a redirect is a failure, and cannot lead the server
//!   somewhere the URL check did not allow).
//! - Every address connected to passes the one address policy
//!   ([`may_connect`], the IANA special-purpose tables of
//!   `nexaguard_admin::webhooks::address`): the URL, IP literals included,
//!   is checked again before each attempt, and every address a name
//!   resolves to is filtered at each resolution, so a webhook cannot reach
//!   the server's own network, nor be re-aimed there later by DNS; the
//!   development setting opens this machine alone. No proxy is used (it
//!   would resolve names past the filter).
//! - Logs name the webhook, the delivery and the kind of failure; never
//!   the URL, the payload or the receiver's answer.

use hmac::{Hmac, Mac};
use nexaguard_admin::webhooks::{check_url, may_connect};
use nexaguard_admin::Admin;
use nexaguard_store::webhooks::{ClaimedDelivery, Settlement};
use rand::Rng;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::value::RawValue;
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::task::JoinSet;

/// The header with the signature.
pub const SIGNATURE_HEADER: &str = "NexaGuard-Signature";
/// The header with the delivery id.
pub const DELIVERY_HEADER: &str = "NexaGuard-Delivery";
/// The header with the attempt number (1 for the first).
pub const ATTEMPT_HEADER: &str = "NexaGuard-Attempt";
/// The header with the event type.
pub const EVENT_HEADER: &str = "NexaGuard-Event";
/// The only event type so far.
pub const CONSENT_RECORDED: &str = "consent.recorded";

/// How the worker runs. [`WebhookSettings::default`] is production's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// How often the outbox is polled when it had nothing due.
    pub poll_every: Duration,
    /// Deliveries claimed at once (and sent concurrently).
    pub batch: u32,
    /// How long a claim holds a delivery: longer than any attempt takes.
    pub lease: Duration,
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// Attempts before a delivery is dead.
    pub max_attempts: u32,
    /// The wait after the first failure; each further failure doubles it.
    pub backoff_base: Duration,
    /// The longest wait between attempts.
    pub backoff_cap: Duration,
    /// Whether `http://` and addresses of this machine are allowed
    /// (development and tests only).
    pub allow_loopback: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            poll_every: Duration::from_secs(1),
            batch: 32,
            lease: Duration::from_secs(120),
            timeout: Duration::from_secs(10),
            max_attempts: 8,
            backoff_base: Duration::from_secs(30),
            backoff_cap: Duration::from_secs(3600),
            allow_loopback: false,
        }
    }
}

impl WebhookSettings {
    /// The wait after failed attempt number `attempt` (1 for the first),
    /// before jitter: base × 2^(attempt − 1), at most the cap.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.backoff_base
            .saturating_mul(1_u32 << doublings)
            .min(self.backoff_cap)
    }

    /// [`WebhookSettings::backoff`] with up to a fifth taken off at
    /// random, so that deliveries that failed together (a receiver down)
    /// do not all come back at the same instant.
    fn backoff_with_jitter(&self, attempt: u32) -> Duration {
        let full = self.backoff(attempt);
        let factor = rand::rng().random_range(0.8..=1.0);
        full.mul_f64(factor)
    }
}

/// The `NexaGuard-Signature` value of `body` sent at `timestamp` (unix
/// seconds): `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
/// The key is the whole secret string, `whsec_` included.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable_hmac());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// HMAC takes keys of any length; `new_from_slice` cannot fail for it.
#[cold]
fn unreachable_hmac() -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new(&[0u8; 64].into())
}

/// The body of a delivery: the event type, the ids a receiver needs, and
/// the recorded consent event exactly as stored.
pub fn body(claimed: &ClaimedDelivery) -> Result<Vec<u8>, serde_json::Error> {
    let event = RawValue::from_string(claimed.payload.clone())?;
    serde_json::to_vec(&serde_json::json!({
        "type": CONSENT_RECORDED,
        "deliveryId": claimed.delivery.id.0,
        "webhookId": claimed.delivery.webhook.0,
        "siteId": claimed.site.0,
        "event": event,
    }))
}

/// Resolves names to the addresses a webhook may reach (see
/// [`may_connect`]); a name with none left fails to resolve.
#[derive(Debug, Clone, Copy)]
struct PublicOnly {
    allow_loopback: bool,
}

/// The addresses of `found` a delivery may connect to, in their order.
fn reachable(found: impl Iterator<Item = SocketAddr>, allow_loopback: bool) -> Vec<SocketAddr> {
    found
        .filter(|addr| may_connect(addr.ip(), allow_loopback))
        .collect()
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed = reachable(found, allow_loopback);
            if allowed.is_empty() {
                return Err("the name resolves to no public address".into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client deliveries are sent with.
fn client(settings: &WebhookSettings) -> reqwest::Result<reqwest::Client> {
    // reqwest's rustls has no provider of its own (the server picks ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        // A redirect's target would escape the URL check; it is a failure.
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve names itself, past the address check.
        .no_proxy()
        .dns_resolver(Arc::new(PublicOnly {
            allow_loopback: settings.allow_loopback,
        }))
        .user_agent(concat!("NexaGuard-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Starts the worker; it runs until the task is aborted. Aborting it mid
/// attempt is safe: the lease lapses and the delivery is sent again.
pub fn spawn(
    admin: Arc<Admin>,
    settings: WebhookSettings,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    admin.allow_loopback_webhook_urls(settings.allow_loopback);
    let client = client(&settings)?;
    let worker = Arc::new(Worker {
        admin,
        client,
        settings,
    });
    Ok(tokio::spawn(async move { worker.run().await }))
}

struct Worker {
    admin: Arc<Admin>,
    client: reqwest::Client,
    settings: WebhookSettings,
}

impl Worker {
    async fn run(self: Arc<Self>) {
        loop {
            let claimed = match self
                .admin
                .store()
                .claim_deliveries(
                    OffsetDateTime::now_utc(),
                    self.settings.lease,
                    self.settings.batch,
                )
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "claiming webhook deliveries failed");
                    Vec::new()
                }
            };
            let full = u32::try_from(claimed.len()).is_ok_and(|n| n >= self.settings.batch);
            let mut sending = JoinSet::new();
            for delivery in claimed {
                let worker = Arc::clone(&self);
                sending.spawn(async move { worker.deliver(delivery).await });
            }
            while sending.join_next().await.is_some() {}
            // A full batch suggests more is due: go on without waiting.
            if !full {
                tokio::time::sleep(self.settings.poll_every).await;
            }
        }
    }

    async fn deliver(&self, claimed: ClaimedDelivery) {
        let attempt = claimed.delivery.attempts;
        let outcome = self.attempt(&claimed).await;
        let settlement = match outcome {
            Ok(()) => {
                metrics::counter!("nexaguard_webhook_delivered_total").increment(1);
                tracing::info!(
                    webhook = %claimed.delivery.webhook.0,
                    delivery = %claimed.delivery.id.0,
                    attempt,
                    "webhook delivered"
                );
                Settlement::Delivered
            }
            Err(failure) => {
                metrics::counter!("nexaguard_webhook_failed_total").increment(1);
                let last = attempt >= self.settings.max_attempts || failure.permanent;
                tracing::warn!(
                    webhook = %claimed.delivery.webhook.0,
                    delivery = %claimed.delivery.id.0,
                    attempt,
                    error = %failure.error,
                    dead = last,
                    "webhook delivery failed"
                );
                if last {
                    metrics::counter!("nexaguard_webhook_dead_total").increment(1);
                    Settlement::Dead {
                        error: failure.error,
                        status: failure.status,
                    }
                } else {
                    Settlement::Retry {
                        next_attempt_at: OffsetDateTime::now_utc()
                            + self.settings.backoff_with_jitter(attempt),
                        error: failure.error,
                        status: failure.status,
                    }
                }
            }
        };
        match self
            .admin
            .store()
            .settle_delivery(
                claimed.delivery.id,
                claimed.lease,
                &settlement,
                OffsetDateTime::now_utc(),
            )
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                delivery = %claimed.delivery.id.0,
                "a webhook delivery's lease lapsed before it was settled; it is sent again"
            ),
            Err(error) => tracing::warn!(
                delivery = %claimed.delivery.id.0,
                %error,
                "settling a webhook delivery failed; it is sent again when its lease lapses"
            ),
        }
    }

    /// One attempt; the error says why it failed, in words safe to store
    /// and show (no URL, no answer body).
    async fn attempt(&self, claimed: &ClaimedDelivery) -> Result<(), Failure> {
        if check_url(&claimed.url, self.settings.allow_loopback).is_err() {
            return Err(Failure::permanent("the URL is not allowed"));
        }
        let secret = self
            .admin
            .open_webhook_secret(claimed)
            .await
            .map_err(|error| {
                tracing::error!(
                    webhook = %claimed.delivery.webhook.0,
                    %error,
                    "opening a webhook secret failed"
                );
                Failure::retry("the signing secret could not be opened")
            })?;
        let body = body(claimed).map_err(|_| Failure::permanent("the stored event is not JSON"))?;
        let timestamp = OffsetDateTime::now_utc().unix_timestamp();
        let response = self
            .client
            .post(&claimed.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                signature(secret.as_str(), timestamp, &body),
            )
            .header(DELIVERY_HEADER, claimed.delivery.id.0.to_string())
            .header(ATTEMPT_HEADER, claimed.delivery.attempts.to_string())
            .header(EVENT_HEADER, CONSENT_RECORDED)
            .body(body)
            .send()
            .await
            .map_err(|error| Failure::retry(describe(&error, self.settings.timeout)))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(Failure {
                error: format!("the receiver answered HTTP {}", status.as_u16()),
                status: Some(status.as_u16()),
                permanent: false,
            })
        }
    }
}

/// Why an attempt failed.
struct Failure {
    error: String,
    status: Option<u16>,
    /// No later attempt can succeed: dead at once.
    permanent: bool,
}

impl Failure {
    fn retry(error: impl Into<String>) -> Failure {
        Failure {
            error: error.into(),
            status: None,
            permanent: false,
        }
    }

    fn permanent(error: impl Into<String>) -> Failure {
        Failure {
            error: error.into(),
            status: None,
            permanent: true,
        }
    }
}

/// A transport error in words: reqwest's own messages name the URL.
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        format!("no answer within {} s", timeout.as_secs_f32())
    } else if error.is_connect() {
        "could not connect (refused, unreachable, TLS or no public address)".to_owned()
    } else if error.is_request() {
        "the request failed".to_owned()
    } else {
        "the exchange failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::str::FromStr;

    #[test]
    fn resolved_special_purpose_addresses_are_dropped_at_every_resolution() {
        let found: Vec<SocketAddr> = [
            "[64:ff9b::7f00:1]:443",
            "[2002:7f00:1::]:443",
            "[::127.0.0.1]:443",
            "192.0.0.1:443",
            "169.254.169.254:443",
            "[::ffff:10.0.0.1]:443",
            "127.0.0.1:443",
            "[::1]:443",
            "1.1.1.1:443",
            "[2606:4700:4700::1111]:443",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        let public: Vec<String> = reachable(found.iter().copied(), false)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(public, ["1.1.1.1:443", "[2606:4700:4700::1111]:443"]);
        let dev: Vec<String> = reachable(found.iter().copied(), true)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            dev,
            [
                "127.0.0.1:443",
                "[::1]:443",
                "1.1.1.1:443",
                "[2606:4700:4700::1111]:443"
            ]
        );
    }

    #[tokio::test]
    async fn a_name_of_this_machine_does_not_resolve_for_deliveries() {
        let refused = PublicOnly {
            allow_loopback: false,
        }
        .resolve(Name::from_str("localhost").unwrap())
        .await;
        assert!(refused.is_err());
        let dev = PublicOnly {
            allow_loopback: true,
        }
        .resolve(Name::from_str("localhost").unwrap())
        .await;
        assert!(dev.unwrap().all(|a| a.ip().is_loopback()));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = WebhookSettings::default();
        let waits: Vec<u64> = (1..=9).map(|a| settings.backoff(a).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(settings.backoff(u32::MAX).as_secs(), 3600);
        for attempt in 1..=9 {
            let jittered = settings.backoff_with_jitter(attempt);
            assert!(jittered <= settings.backoff(attempt));
            assert!(jittered >= settings.backoff(attempt).mul_f64(0.8));
        }
    }

    #[test]
    fn signatures_are_stripe_style() {
        // HMAC-SHA256("whsec_test", "1700000000.{}"), computed independently
        // with `printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec_test`.
        let signed = signature("whsec_test", 1_700_000_000, b"{}");
        assert_eq!(
            signed,
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
        assert_ne!(signed, signature("whsec_other", 1_700_000_000, b"{}"));
        assert_ne!(signed, signature("whsec_test", 1_700_000_001, b"{}"));
    }
}
