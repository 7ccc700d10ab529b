//! Rate limits on consent posts, per client network: an IPv4 /24 or an IPv6
//! /64, so that one household or one abusive host shares one budget while
//! the address itself is never stored or logged.

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use nexaguard_store::HitCounter;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use time::OffsetDateTime;

/// The shared budget's window.
const WINDOW_SECONDS: i64 = 60;

/// How long a request waits for the shared count: a healthy database
/// answers in well under a millisecond.
const SHARED_TIMEOUT: Duration = Duration::from_millis(250);

/// How long a node counts alone after the shared count failed.
const SKIP_AFTER_FAILURE_MS: i64 = 5_000;
use std::num::NonZeroU32;
use std::time::Duration;

/// A client network: the address with its host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Network(IpAddr);

impl std::fmt::Display for Network {
    /// `192.0.2.0/24` or `2001:db8::/64`: what the audit log keeps.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}/24"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

impl Network {
    /// The /24 (IPv4) or /64 (IPv6) containing `ip`.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => {
                let [a, b, c, _] = v4.octets();
                Network(IpAddr::from([a, b, c, 0]))
            }
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Network::of(IpAddr::V4(v4)),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    Network(IpAddr::from(bits.to_be_bytes()))
                }
            },
        }
    }
}

/// Per-network limiter: this node's own budget, and on a shared database
/// a budget for all nodes together.
pub struct Limiter {
    inner: RateLimiter<Network, DefaultKeyedStateStore<Network>, DefaultClock>,
    /// What this node admits per network in a minute at most
    /// (`per_minute + burst`): the budget of all nodes together when shared.
    per_window: u64,
    shared: Option<Shared>,
}

/// The budget every node on one database counts against.
struct Shared {
    counter: Arc<dyn HitCounter>,
    /// What the limit is for (`consents`, `admin`): one budget each.
    scope: &'static str,
    /// Hits per network and one-minute window, all nodes together.
    per_window: u64,
    /// Until when (unix milliseconds) to skip the shared count after it
    /// failed: a database that is down must not make every request wait.
    skip_until_ms: AtomicI64,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limiter")
    }
}

impl Limiter {
    /// `per_minute` posts per minute with bursts of `burst`.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Limiter {
            inner: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            per_window: u64::from(per_minute.get()) + u64::from(burst.get()),
            shared: None,
        }
    }

    /// The same limits, also counted across every node on the database
    /// behind `counter`: per network and calendar minute, at most what one
    /// node admits in a minute (`per_minute + burst`), for all together.
    pub fn shared(mut self, counter: Arc<dyn HitCounter>, scope: &'static str) -> Self {
        self.shared = Some(Shared {
            counter,
            scope,
            per_window: self.per_window,
            skip_until_ms: AtomicI64::new(0),
        });
        self
    }

    /// `Ok` when the network may go on now, else how long to wait.
    pub async fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let network = Network::of(ip);
        self.inner
            .check_key(&network)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))?;
        match &self.shared {
            Some(shared) => shared.check(network).await,
            None => Ok(()),
        }
    }

    /// Forgets networks whose budget is full again (bounded memory).
    pub fn forget_idle(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }
}

impl Shared {
    async fn check(&self, network: Network) -> Result<(), Duration> {
        let now = OffsetDateTime::now_utc();
        let into_window = now.unix_timestamp().rem_euclid(WINDOW_SECONDS);
        let window_start =
            now.replace_nanosecond(0).unwrap_or(now) - time::Duration::seconds(into_window);
        let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        if now_ms < self.skip_until_ms.load(Ordering::Relaxed) {
            return Ok(());
        }
        let bucket = format!("{}:{network}", self.scope);
        let hit = tokio::time::timeout(SHARED_TIMEOUT, self.counter.hit(&bucket, window_start));
        let failure = match hit.await {
            Ok(Ok(hits)) if hits > self.per_window => {
                let left = WINDOW_SECONDS - into_window;
                return Err(Duration::from_secs(left.unsigned_abs()));
            }
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no answer within {SHARED_TIMEOUT:?}"),
        };
        // The node's own limit still holds. An unreachable database fails
        // the request that needs it anyway, with its own 503.
        self.skip_until_ms.store(
            now_ms.saturating_add(SKIP_AFTER_FAILURE_MS),
            Ordering::Relaxed,
        );
        tracing::warn!(error = %failure, "the shared rate-limit counter failed; using this node's limit only for a while");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn networks_group_neighbours() {
        let a: IpAddr = "192.0.2.10".parse().unwrap();
        let b: IpAddr = "192.0.2.200".parse().unwrap();
        let c: IpAddr = "192.0.3.10".parse().unwrap();
        assert_eq!(Network::of(a), Network::of(b));
        assert_ne!(Network::of(a), Network::of(c));
        let x: IpAddr = "2001:db8::1".parse().unwrap();
        let y: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        let z: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        assert_eq!(Network::of(x), Network::of(y));
        assert_ne!(Network::of(x), Network::of(z));
    }

    #[tokio::test]
    async fn the_burst_is_enforced_per_network() {
        let limiter = Limiter::new(1, 2);
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        assert!(limiter.check(ip).await.is_ok());
        assert!(limiter.check(ip).await.is_ok());
        let wait = limiter.check(ip).await.unwrap_err();
        assert!(wait > Duration::ZERO);
        assert!(limiter.check("203.0.113.1".parse().unwrap()).await.is_ok());
    }

    /// Counts in memory, as the database would for every node.
    #[derive(Default)]
    struct Counts(std::sync::Mutex<std::collections::HashMap<(String, i64), u64>>);

    #[async_trait::async_trait]
    impl HitCounter for Counts {
        async fn hit(
            &self,
            bucket: &str,
            window_start: OffsetDateTime,
        ) -> Result<u64, nexaguard_store::StoreError> {
            let mut counts = self.0.lock().unwrap();
            let n = counts
                .entry((bucket.to_owned(), window_start.unix_timestamp()))
                .or_default();
            *n += 1;
            Ok(*n)
        }
    }

    /// A counter that never answers, as a database that is down.
    struct Hangs;

    #[async_trait::async_trait]
    impl HitCounter for Hangs {
        async fn hit(
            &self,
            _bucket: &str,
            _window_start: OffsetDateTime,
        ) -> Result<u64, nexaguard_store::StoreError> {
            std::future::pending().await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_shared_counter_that_does_not_answer_falls_back_to_the_node_limit() {
        let limiter = Limiter::new(100, 100).shared(Arc::new(Hangs), "test");
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let started = tokio::time::Instant::now();
        assert!(limiter.check(ip).await.is_ok());
        assert_eq!(started.elapsed(), SHARED_TIMEOUT);
        // Then it does not wait at all for a while.
        let again = tokio::time::Instant::now();
        assert!(limiter.check(ip).await.is_ok());
        assert_eq!(again.elapsed(), Duration::ZERO);
    }

    #[tokio::test]
    async fn nodes_sharing_a_counter_share_one_budget() {
        let counter: Arc<dyn HitCounter> = Arc::new(Counts::default());
        // Two nodes of 1 per minute with bursts of 5: alone, each lets 5
        // rapid requests through (10 in all); together they allow what one
        // node allows in a minute, 1 + 5 = 6 per window.
        let node = || Limiter::new(1, 5).shared(Arc::clone(&counter), "test");
        let (a, b) = (node(), node());
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let minute = || OffsetDateTime::now_utc().unix_timestamp() / WINDOW_SECONDS;
        let before = minute();
        let mut admitted = 0;
        for i in 0..20 {
            let limiter = if i % 2 == 0 { &a } else { &b };
            match limiter.check(ip).await {
                Ok(()) => admitted += 1,
                Err(wait) => assert!(wait <= Duration::from_secs(60), "{wait:?}"),
            }
        }
        if minute() == before {
            assert_eq!(admitted, 6);
        } else {
            // Straddled a window boundary: two windows' budgets at most.
            assert!((6..=12).contains(&admitted), "{admitted}");
        }
        let other_scope = Limiter::new(1, 5).shared(Arc::clone(&counter), "other");
        assert!(
            other_scope.check(ip).await.is_ok(),
            "scopes have their own budgets"
        );
    }
}
