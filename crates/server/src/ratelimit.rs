//! Rate limits on consent posts, per client network: an IPv4 /24 or an IPv6
//! /64, so that one household or one abusive host shares one budget while
//! the address itself is never stored or logged.
//!
//! On a shared database the budget also holds for all nodes together, per
//! network and calendar minute. Invariant: a request never waits for the
//! database while its network is far from that budget, nor once it is over
//! it; only near the budget does a check ask the database. Each node counts
//! its hits in memory; a reconcile task adds them to the shared count once
//! a second (`RECONCILE_EVERY`), for every network in one write, and
//! learns every node's total in the answer. A check adds the last known
//! total and the hits not yet sent:
//!
//! - below half the budget: admitted from memory. Two nodes deciding on
//!   stale totals admit less than the budget between them before either
//!   asks; at worst, what one node admitted from memory and has not sent
//!   yet (less than half the budget) comes on top of the budget, and only
//!   until its next reconcile, within a second;
//! - over the budget: refused from memory (the count only grows within a
//!   window);
//! - in between: this node's unsent hits and this one are added to the
//!   shared count at once, and the answer decides. A network this close
//!   to its budget is rare, so the database sees few of these.
//!
//! A database that fails or does not answer within `SHARED_TIMEOUT` is
//! not asked again for `SKIP_AFTER_FAILURE_MS`: meanwhile each node
//! decides from what it knows, and its own limit still holds.

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use nexaguard_store::{HitCounter, StoreError};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use time::OffsetDateTime;

/// The shared budget's window.
const WINDOW_SECONDS: i64 = 60;

/// How long a request near its network's budget waits for the shared
/// count: a healthy database answers in well under a millisecond.
const SHARED_TIMEOUT: Duration = Duration::from_millis(250);

/// How long a node decides alone after the shared count failed.
const SKIP_AFTER_FAILURE_MS: i64 = 5_000;

/// How often a node sends the hits it counted to the shared count: the
/// longest another node goes without seeing them.
const RECONCILE_EVERY: Duration = Duration::from_secs(1);

/// How long a reconcile waits for the database. It delays no request;
/// the bound only keeps a stuck call from stopping the reconciles after it.
const RECONCILE_TIMEOUT: Duration = Duration::from_secs(10);

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

/// The budget every node on one database counts against, and the task
/// that keeps this node's part of it in step with the database.
struct Shared {
    counts: Arc<SharedCounts>,
    /// The reconcile task; stopped when the limiter is dropped.
    reconciler: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(task) = &self.reconciler {
            task.abort();
        }
    }
}

/// This node's view of the shared counts.
struct SharedCounts {
    counter: Arc<dyn HitCounter>,
    /// What the limit is for (`consents`, `admin`): one budget each.
    scope: &'static str,
    /// Hits per network and one-minute window, all nodes together.
    per_window: u64,
    /// The networks counted in the current window (older windows are
    /// forgotten: bounded memory).
    networks: Mutex<HashMap<Network, Count>>,
    /// Until when (unix milliseconds) to decide without the database
    /// after it failed: a database that is down must not make requests
    /// wait.
    skip_until_ms: AtomicI64,
}

/// One network's count in one window, as this node knows it.
#[derive(Debug, Default, Clone, Copy)]
struct Count {
    /// The window's start, unix seconds.
    window: i64,
    /// Every node's hits, as the database last answered.
    known: u64,
    /// This node's hits counted after that answer and not sent yet.
    unsent: u64,
    /// This node's hits on their way to the database.
    sending: u64,
}

impl Count {
    /// The window's hits as far as this node can tell. Hits whose answer
    /// came back while others were still on their way may count twice for
    /// that moment: the error is on the strict side, and brief.
    fn estimate(&self) -> u64 {
        self.known
            .saturating_add(self.unsent)
            .saturating_add(self.sending)
    }
}

/// A one-minute window of the shared budget.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: OffsetDateTime,
    /// Seconds until the next window: the answer's Retry-After.
    left: Duration,
}

impl Window {
    fn containing(now: OffsetDateTime) -> Window {
        let into_window = now.unix_timestamp().rem_euclid(WINDOW_SECONDS);
        let start = now.replace_nanosecond(0).unwrap_or(now) - time::Duration::seconds(into_window);
        Window {
            start,
            left: Duration::from_secs((WINDOW_SECONDS - into_window).unsigned_abs()),
        }
    }

    fn key(&self) -> i64 {
        self.start.unix_timestamp()
    }
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
    ///
    /// Starts the reconcile task on the current Tokio runtime; it stops
    /// when the limiter is dropped or the counter's store is closed.
    /// Outside a runtime there is no task, and hits reach the shared count
    /// only when a network nears its budget.
    pub fn shared(mut self, counter: Arc<dyn HitCounter>, scope: &'static str) -> Self {
        let counts = Arc::new(SharedCounts {
            counter,
            scope,
            per_window: self.per_window,
            networks: Mutex::new(HashMap::new()),
            skip_until_ms: AtomicI64::new(0),
        });
        let reconciler = tokio::runtime::Handle::try_current()
            .ok()
            .map(|runtime| runtime.spawn(reconcile_every(Arc::clone(&counts))));
        self.shared = Some(Shared { counts, reconciler });
        self
    }

    /// `Ok` when the network may go on now, else how long to wait. Waits
    /// for the database only when the network is near its shared budget
    /// (see the module's header), and then at most `SHARED_TIMEOUT`.
    pub async fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let network = Network::of(ip);
        self.inner
            .check_key(&network)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))?;
        match &self.shared {
            Some(shared) => {
                shared
                    .counts
                    .check(network, OffsetDateTime::now_utc())
                    .await
            }
            None => Ok(()),
        }
    }

    /// Forgets networks whose budget is full again, and shared counts of
    /// past windows (bounded memory).
    pub fn forget_idle(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
        if let Some(shared) = &self.shared {
            shared
                .counts
                .forget_old_windows(Window::containing(OffsetDateTime::now_utc()));
        }
    }
}

/// Sends the hits counted in memory every `RECONCILE_EVERY`, until the
/// counter's store is closed (the server is stopping) or the task is
/// aborted (its limiter was dropped).
async fn reconcile_every(counts: Arc<SharedCounts>) {
    let start = tokio::time::Instant::now() + RECONCILE_EVERY;
    let mut tick = tokio::time::interval_at(start, RECONCILE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(StoreError::Closed) = counts.reconcile(OffsetDateTime::now_utc()).await {
            return;
        }
    }
}

impl SharedCounts {
    fn networks(&self) -> std::sync::MutexGuard<'_, HashMap<Network, Count>> {
        // The map holds plain numbers: a panic elsewhere cannot leave it
        // half-changed.
        self.networks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bucket(&self, network: Network) -> String {
        format!("{}:{network}", self.scope)
    }

    fn now_ms(now: OffsetDateTime) -> i64 {
        i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    fn skipping(&self, now: OffsetDateTime) -> bool {
        Self::now_ms(now) < self.skip_until_ms.load(Ordering::Relaxed)
    }

    /// Decides alone for a while; says so once per failure, not per request.
    fn skip_after(&self, now: OffsetDateTime, failure: &str) {
        if !self.skipping(now) {
            tracing::warn!(error = %failure, "the shared rate-limit counter failed; using what this node knows for a while");
        }
        self.skip_until_ms.store(
            Self::now_ms(now).saturating_add(SKIP_AFTER_FAILURE_MS),
            Ordering::Relaxed,
        );
    }

    /// Counts one hit of `network` and decides on it (see the module's
    /// header).
    async fn check(&self, network: Network, now: OffsetDateTime) -> Result<(), Duration> {
        let window = Window::containing(now);
        let sent = {
            let mut networks = self.networks();
            let count = networks.entry(network).or_default();
            if count.window != window.key() {
                *count = Count {
                    window: window.key(),
                    ..Count::default()
                };
            }
            count.unsent = count.unsent.saturating_add(1);
            let estimate = count.estimate();
            if estimate > self.per_window {
                return Err(window.left);
            }
            if estimate.saturating_mul(2) < self.per_window || self.skipping(now) {
                return Ok(());
            }
            let sent = std::mem::take(&mut count.unsent);
            count.sending = count.sending.saturating_add(sent);
            sent
        };
        let hits = [(self.bucket(network), sent)];
        let answer = tokio::time::timeout(SHARED_TIMEOUT, self.counter.add(&hits, window.start));
        let answer = answer.await;
        let total = match &answer {
            Ok(Ok(totals)) => totals.first().copied(),
            _ => None,
        };
        if let Some(count) = self
            .networks()
            .get_mut(&network)
            .filter(|count| count.window == window.key())
        {
            count.sending = count.sending.saturating_sub(sent);
            match (&answer, total) {
                (_, Some(total)) => count.known = count.known.max(total),
                // Not counted: they go with the next reconcile.
                (Ok(Err(_)), None) => count.unsent = count.unsent.saturating_add(sent),
                // Perhaps counted, perhaps not: not sent again, which
                // forgives them rather than counting them twice.
                _ => {}
            }
        }
        let failure = match (answer, total) {
            (_, Some(total)) if total > self.per_window => return Err(window.left),
            (_, Some(_)) => return Ok(()),
            (Ok(Ok(_)), None) => "the counter answered no count".to_owned(),
            (Ok(Err(error)), None) => error.to_string(),
            (Err(_), None) => format!("no answer within {SHARED_TIMEOUT:?}"),
        };
        self.skip_after(now, &failure);
        Ok(())
    }

    /// Forgets every network of a window before `current`.
    fn forget_old_windows(&self, current: Window) {
        let mut networks = self.networks();
        networks.retain(|_, count| count.window == current.key());
        networks.shrink_to_fit();
    }

    /// Sends every network's unsent hits of the current window in one
    /// call, and learns their totals; forgets older windows. Errors only
    /// when the counter's store is closed (everything else is logged and
    /// retried with the next reconcile).
    async fn reconcile(&self, now: OffsetDateTime) -> Result<(), StoreError> {
        let window = Window::containing(now);
        let sent: Vec<(Network, u64)> = {
            let mut networks = self.networks();
            networks.retain(|_, count| count.window == window.key());
            networks
                .iter_mut()
                .filter(|(_, count)| count.unsent > 0)
                .map(|(network, count)| {
                    let hits = std::mem::take(&mut count.unsent);
                    count.sending = count.sending.saturating_add(hits);
                    (*network, hits)
                })
                .collect()
        };
        if sent.is_empty() {
            return Ok(());
        }
        let hits: Vec<(String, u64)> = sent
            .iter()
            .map(|(network, hits)| (self.bucket(*network), *hits))
            .collect();
        let answer = tokio::time::timeout(RECONCILE_TIMEOUT, self.counter.add(&hits, window.start));
        let answer = answer.await;
        let mut networks = self.networks();
        let mut settle = |network: &Network, hits: u64, total: Option<u64>, unsent: bool| {
            if let Some(count) = networks
                .get_mut(network)
                .filter(|count| count.window == window.key())
            {
                count.sending = count.sending.saturating_sub(hits);
                if let Some(total) = total {
                    count.known = count.known.max(total);
                }
                if unsent {
                    count.unsent = count.unsent.saturating_add(hits);
                }
            }
        };
        let failure = match answer {
            Ok(Ok(totals)) if totals.len() == sent.len() => {
                for ((network, hits), total) in sent.iter().zip(totals) {
                    settle(network, *hits, Some(total), false);
                }
                return Ok(());
            }
            Ok(Ok(totals)) => {
                for (network, hits) in &sent {
                    settle(network, *hits, None, false);
                }
                format!("{} counts for {} buckets", totals.len(), sent.len())
            }
            Ok(Err(StoreError::Closed)) => return Err(StoreError::Closed),
            Ok(Err(error)) => {
                // Not counted: sent again next time.
                for (network, hits) in &sent {
                    settle(network, *hits, None, true);
                }
                error.to_string()
            }
            Err(_) => {
                // Perhaps counted: forgiven rather than counted twice.
                for (network, hits) in &sent {
                    settle(network, *hits, None, false);
                }
                format!("no answer within {RECONCILE_TIMEOUT:?}")
            }
        };
        drop(networks);
        self.skip_after(now, &failure);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::AtomicUsize;

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

    /// Counts in memory, as the database would for every node, and
    /// remembers each call's buckets.
    #[derive(Default)]
    struct Counts {
        counts: std::sync::Mutex<HashMap<(String, i64), u64>>,
        calls: std::sync::Mutex<Vec<Vec<(String, u64)>>>,
    }

    impl Counts {
        fn calls(&self) -> Vec<Vec<(String, u64)>> {
            self.calls.lock().unwrap().clone()
        }
    }

    #[async_trait::async_trait]
    impl HitCounter for Counts {
        async fn add(
            &self,
            hits: &[(String, u64)],
            window_start: OffsetDateTime,
        ) -> Result<Vec<u64>, StoreError> {
            self.calls.lock().unwrap().push(hits.to_vec());
            let mut counts = self.counts.lock().unwrap();
            for (bucket, n) in hits {
                *counts
                    .entry((bucket.clone(), window_start.unix_timestamp()))
                    .or_default() += n;
            }
            Ok(hits
                .iter()
                .map(|(bucket, _)| counts[&(bucket.clone(), window_start.unix_timestamp())])
                .collect())
        }
    }

    /// A counter that never answers, as a database that is down.
    #[derive(Default)]
    struct Hangs(AtomicUsize);

    #[async_trait::async_trait]
    impl HitCounter for Hangs {
        async fn add(
            &self,
            _hits: &[(String, u64)],
            _window_start: OffsetDateTime,
        ) -> Result<Vec<u64>, StoreError> {
            self.0.fetch_add(1, Ordering::Relaxed);
            std::future::pending().await
        }
    }

    /// A counter whose store is closed.
    struct Closed;

    #[async_trait::async_trait]
    impl HitCounter for Closed {
        async fn add(
            &self,
            _hits: &[(String, u64)],
            _window_start: OffsetDateTime,
        ) -> Result<Vec<u64>, StoreError> {
            Err(StoreError::Closed)
        }
    }

    fn shared_counts(limiter: &Limiter) -> &SharedCounts {
        &limiter.shared.as_ref().unwrap().counts
    }

    const IP: &str = "198.51.100.7";

    #[tokio::test(start_paused = true)]
    async fn a_shared_counter_that_does_not_answer_never_holds_requests_for_long() {
        // 1 per minute with bursts of 5: a shared budget of 6, so the third
        // hit is the first near it.
        let hangs = Arc::new(Hangs::default());
        let limiter = Limiter::new(1, 5).shared(Arc::clone(&hangs) as _, "test");
        let ip: IpAddr = IP.parse().unwrap();
        let started = tokio::time::Instant::now();
        assert!(limiter.check(ip).await.is_ok());
        assert!(limiter.check(ip).await.is_ok());
        assert_eq!(started.elapsed(), Duration::ZERO, "far from the budget");
        assert_eq!(hangs.0.load(Ordering::Relaxed), 0);
        let near = tokio::time::Instant::now();
        assert!(limiter.check(ip).await.is_ok());
        assert_eq!(near.elapsed(), SHARED_TIMEOUT);
        // Then it does not wait at all for a while, and this node's own
        // limit still holds.
        let again = tokio::time::Instant::now();
        assert!(limiter.check(ip).await.is_ok());
        assert!(limiter.check(ip).await.is_ok());
        assert!(limiter.check(ip).await.is_err());
        assert_eq!(again.elapsed(), Duration::ZERO);
        assert_eq!(hangs.0.load(Ordering::Relaxed), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn nodes_sharing_a_counter_share_one_budget() {
        let counts = Arc::new(Counts::default());
        let counter: Arc<dyn HitCounter> = Arc::clone(&counts) as _;
        // Two nodes of 1 per minute with bursts of 5: alone, each lets 5
        // rapid requests through (10 in all); together they allow what one
        // node allows in a minute, 1 + 5 = 6 per window. Time is paused,
        // so no reconcile runs: the budget holds by itself.
        let node = || Limiter::new(1, 5).shared(Arc::clone(&counter), "test");
        let (a, b) = (node(), node());
        let ip: IpAddr = IP.parse().unwrap();
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
            // Only the hits near the budget asked the database: two per
            // node were decided in memory, and refusals once it was known
            // to be spent were too.
            assert_eq!(counts.calls().len(), 3, "{:?}", counts.calls());
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

    #[tokio::test(start_paused = true)]
    async fn far_from_the_budget_hits_are_counted_in_memory_and_sent_in_one_write() {
        let counts = Arc::new(Counts::default());
        let limiter = Limiter::new(1_000, 1_000).shared(Arc::clone(&counts) as _, "test");
        let now = OffsetDateTime::now_utc();
        let window = Window::containing(now);
        for (ip, hits) in [("192.0.2.1", 5), ("192.0.2.2", 3), ("2001:db8::1", 7)] {
            for _ in 0..hits {
                let network = Network::of(ip.parse().unwrap());
                shared_counts(&limiter).check(network, now).await.unwrap();
            }
        }
        assert!(counts.calls().is_empty(), "no write per request");
        shared_counts(&limiter).reconcile(now).await.unwrap();
        let mut calls = counts.calls();
        assert_eq!(calls.len(), 1);
        calls[0].sort();
        assert_eq!(
            calls[0],
            vec![
                ("test:192.0.2.0/24".to_owned(), 8),
                ("test:2001:db8::/64".to_owned(), 7),
            ]
        );
        // Nothing new: nothing sent.
        shared_counts(&limiter).reconcile(now).await.unwrap();
        assert_eq!(counts.calls().len(), 1);
        let known = shared_counts(&limiter).networks()[&Network::of("192.0.2.1".parse().unwrap())];
        assert_eq!(
            (known.window, known.known, known.unsent),
            (window.key(), 8, 0)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_node_learns_the_other_nodes_hits_when_it_reconciles() {
        let counts = Arc::new(Counts::default());
        let counter: Arc<dyn HitCounter> = Arc::clone(&counts) as _;
        // A shared budget of 200 per window.
        let a = Limiter::new(100, 100).shared(Arc::clone(&counter), "test");
        let b = Limiter::new(100, 100).shared(Arc::clone(&counter), "test");
        let network = Network::of(IP.parse().unwrap());
        let now = OffsetDateTime::now_utc();
        for _ in 0..90 {
            shared_counts(&b).check(network, now).await.unwrap();
        }
        shared_counts(&b).reconcile(now).await.unwrap();
        shared_counts(&a).check(network, now).await.unwrap();
        shared_counts(&a).reconcile(now).await.unwrap();
        assert_eq!(shared_counts(&a).networks()[&network].known, 91);
        // A's next 8 hits stay in memory (below half the budget, 100); the
        // one after asks, sending all 9, and the answer includes B's hits.
        let calls = counts.calls().len();
        for _ in 0..8 {
            shared_counts(&a).check(network, now).await.unwrap();
        }
        assert_eq!(counts.calls().len(), calls);
        shared_counts(&a).check(network, now).await.unwrap();
        assert_eq!(counts.calls().len(), calls + 1);
        assert_eq!(counts.calls().last().unwrap()[0].1, 9);
        assert_eq!(shared_counts(&a).networks()[&network].known, 100);
    }

    #[tokio::test(start_paused = true)]
    async fn past_windows_are_forgotten() {
        let counts = Arc::new(Counts::default());
        let limiter = Limiter::new(1_000, 1_000).shared(Arc::clone(&counts) as _, "test");
        let now = OffsetDateTime::now_utc();
        for i in 0..=255u8 {
            let network = Network::of(IpAddr::from([192, 0, i, 1]));
            shared_counts(&limiter).check(network, now).await.unwrap();
        }
        assert_eq!(shared_counts(&limiter).networks().len(), 256);
        let later = Window::containing(now + time::Duration::seconds(WINDOW_SECONDS));
        shared_counts(&limiter).forget_old_windows(later);
        assert!(shared_counts(&limiter).networks().is_empty());
        // A reconcile forgets them too, and sends nothing of a past window.
        shared_counts(&limiter)
            .check(Network::of(IP.parse().unwrap()), now)
            .await
            .unwrap();
        let next_minute = now + time::Duration::seconds(WINDOW_SECONDS);
        shared_counts(&limiter)
            .reconcile(next_minute)
            .await
            .unwrap();
        assert!(shared_counts(&limiter).networks().is_empty());
        assert!(counts.calls().is_empty());
    }

    #[tokio::test]
    async fn the_reconcile_task_stops_with_its_limiter_and_with_its_store() {
        let limiter = Limiter::new(1, 5).shared(Arc::new(Counts::default()), "test");
        let counts = Arc::downgrade(&limiter.shared.as_ref().unwrap().counts);
        drop(limiter);
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(
            counts.upgrade().is_none(),
            "the task still holds the counts"
        );

        let mut limiter = Limiter::new(1_000, 1_000).shared(Arc::new(Closed), "test");
        limiter.check(IP.parse().unwrap()).await.unwrap();
        tokio::time::timeout(
            RECONCILE_EVERY * 5,
            limiter
                .shared
                .as_mut()
                .map(|shared| shared.reconciler.take().unwrap())
                .unwrap(),
        )
        .await
        .expect("the task ends once the store is closed")
        .unwrap();
    }
}
