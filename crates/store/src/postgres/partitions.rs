//! The monthly partitions of `consents`: naming, creating, listing and
//! dropping them.
//!
//! A partition holds one calendar month in UTC and is named after it
//! (`consents_y2026m11`). Names and bounds are made here from numbers only,
//! never from text read from the database, so that the DDL built with them
//! (DDL takes no bind parameters) cannot be steered.

use crate::StoreError;
use sqlx::{PgConnection, PgPool};
use time::{Date, Month, OffsetDateTime, UtcOffset};

/// The advisory lock (transaction-scoped) taken while creating or dropping
/// partitions, so that two connections (or two servers) never create the
/// same partition at once: `CREATE TABLE IF NOT EXISTS` alone still fails
/// on that race, with a unique violation in the catalog. The value is
/// "nexapart" in ASCII, to be recognisable in `pg_locks`.
const PARTITION_LOCK: i64 = 0x6e65_7861_7061_7274;

/// How long partition maintenance waits for the table locks it needs
/// before giving up: dropping a partition locks the whole `consents`
/// table, and consent writes queue behind a waiting lock request, so it
/// must not wait long.
const SET_MAINTENANCE_LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '5s'";

/// One month's partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct MonthPartition {
    year: i32,
    month: Month,
}

impl MonthPartition {
    /// The partition whose month (in UTC) contains `at`.
    pub(super) fn containing(at: OffsetDateTime) -> Result<MonthPartition, StoreError> {
        let utc = at
            .checked_to_offset(UtcOffset::UTC)
            .ok_or_else(out_of_range)?;
        let partition = MonthPartition {
            year: utc.year(),
            month: utc.month(),
        };
        // Four-digit years keep the names sortable and simple identifiers.
        if !(1..=9998).contains(&partition.year) {
            return Err(out_of_range());
        }
        Ok(partition)
    }

    /// The partition of the following month.
    pub(super) fn next(self) -> MonthPartition {
        match self.month {
            Month::December => MonthPartition {
                year: self.year.saturating_add(1),
                month: Month::January,
            },
            month => MonthPartition {
                year: self.year,
                month: month.next(),
            },
        }
    }

    /// Its table's name.
    pub(super) fn name(self) -> String {
        format!("consents_y{:04}m{:02}", self.year, u8::from(self.month))
    }

    /// Reads a name made by [`MonthPartition::name`]; `None` for any other
    /// table (an operator's own partition is left alone).
    pub(super) fn from_name(name: &str) -> Option<MonthPartition> {
        let rest = name.strip_prefix("consents_y")?;
        let (year, month) = rest.split_once('m')?;
        if year.len() != 4
            || month.len() != 2
            || !(year.bytes().chain(month.bytes())).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let partition = MonthPartition {
            year: year.parse().ok()?,
            month: Month::try_from(month.parse::<u8>().ok()?).ok()?,
        };
        (partition.name() == name).then_some(partition)
    }

    /// The first instant of its month.
    pub(super) fn start(self) -> Result<OffsetDateTime, StoreError> {
        Date::from_calendar_date(self.year, self.month, 1)
            .map(|date| date.midnight().assume_utc())
            .map_err(|_| out_of_range())
    }

    /// The first instant after its month.
    pub(super) fn end(self) -> Result<OffsetDateTime, StoreError> {
        self.next().start()
    }

    /// `CREATE TABLE IF NOT EXISTS` for it. The bounds carry their UTC
    /// offset, so they mean the same whatever the session's time zone.
    fn create_sql(self) -> String {
        let next = self.next();
        format!(
            "CREATE TABLE IF NOT EXISTS {} PARTITION OF consents \
             FOR VALUES FROM ('{:04}-{:02}-01 00:00:00+00') TO ('{:04}-{:02}-01 00:00:00+00')",
            self.name(),
            self.year,
            u8::from(self.month),
            next.year,
            u8::from(next.month),
        )
    }
}

fn out_of_range() -> StoreError {
    StoreError::Corrupt("a timestamp outside the storable range".to_owned())
}

/// Creates the partitions in `wanted` that do not exist yet.
pub(super) async fn ensure(pool: &PgPool, wanted: &[MonthPartition]) -> Result<(), StoreError> {
    // The common case, every partition there, costs one read and no lock.
    let mut missing = Vec::new();
    for partition in wanted {
        if !exists(pool, *partition).await? {
            missing.push(*partition);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    lock_for_maintenance(&mut tx).await?;
    for partition in missing {
        // A one-off statement: not worth a prepared statement in the
        // connection's cache.
        sqlx::query(&partition.create_sql())
            .persistent(false)
            .execute(&mut *tx)
            .await?;
        tracing::info!(partition = %partition.name(), "created a consent partition");
    }
    tx.commit().await?;
    Ok(())
}

/// Bounds how long the transaction waits for table locks, and takes the
/// partition maintenance lock (released at commit or rollback).
async fn lock_for_maintenance(tx: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query(SET_MAINTENANCE_LOCK_TIMEOUT)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PARTITION_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn exists(pool: &PgPool, partition: MonthPartition) -> Result<bool, StoreError> {
    let (exists,): (bool,) = sqlx::query_as("SELECT to_regclass($1) IS NOT NULL")
        .bind(partition.name())
        .fetch_one(pool)
        .await?;
    Ok(exists)
}

/// The monthly partitions that exist, oldest first. Partitions not named
/// by this module are left out.
pub(super) async fn list(pool: &PgPool) -> Result<Vec<MonthPartition>, StoreError> {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT c.relname::text FROM pg_inherits AS i \
         JOIN pg_class AS c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'consents'::regclass",
    )
    .fetch_all(pool)
    .await?;
    let mut partitions: Vec<_> = names
        .iter()
        .filter_map(|(name,)| MonthPartition::from_name(name))
        .collect();
    partitions.sort();
    Ok(partitions)
}

/// Drops a partition with its rows; answers how many rows it held (0 if
/// another connection dropped it first).
///
/// The rows are counted before the drop, in the same transaction. A row
/// inserted in between would go uncounted; that takes a consent recorded
/// with a time in a month that has entirely passed the retention cutoff,
/// which a server clock within the retention period of the truth never
/// produces, and it would be deleted anyway.
pub(super) async fn drop_partition(
    pool: &PgPool,
    partition: MonthPartition,
) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    lock_for_maintenance(&mut tx).await?;
    let (exists,): (bool,) = sqlx::query_as("SELECT to_regclass($1) IS NOT NULL")
        .bind(partition.name())
        .fetch_one(&mut *tx)
        .await?;
    if !exists {
        return Ok(0);
    }
    let (count,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {}", partition.name()))
        .persistent(false)
        .fetch_one(&mut *tx)
        .await?;
    // Locks the parent table too, briefly: consent writes wait for the
    // commit (and the lock timeout above bounds how long this waits for
    // them).
    sqlx::query(&format!("DROP TABLE {}", partition.name()))
        .persistent(false)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(partition = %partition.name(), rows = count, "dropped a consent partition");
    u64::try_from(count).map_err(|_| StoreError::Corrupt(format!("partition row count {count}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use time::macros::datetime;

    #[test]
    fn months_are_named_and_bounded_in_utc() {
        // 00:30 on 1 December in Berlin is still November in UTC.
        let november = MonthPartition::containing(datetime!(2026-12-01 00:30 +01:00)).unwrap();
        assert_eq!(november.name(), "consents_y2026m11");
        assert_eq!(november.start().unwrap(), datetime!(2026-11-01 00:00 UTC));
        assert_eq!(november.end().unwrap(), datetime!(2026-12-01 00:00 UTC));
        assert_eq!(november.next().next().name(), "consents_y2027m01");
        assert_eq!(
            november.create_sql(),
            "CREATE TABLE IF NOT EXISTS consents_y2026m11 PARTITION OF consents \
             FOR VALUES FROM ('2026-11-01 00:00:00+00') TO ('2026-12-01 00:00:00+00')"
        );
    }

    #[test]
    fn only_our_own_names_are_read_back() {
        let partition = MonthPartition::containing(datetime!(2024-05-01 12:00 UTC)).unwrap();
        assert_eq!(
            MonthPartition::from_name("consents_y2024m05"),
            Some(partition)
        );
        for other in [
            "consents_y2024m13",
            "consents_y2024m5",
            "consents_y24m05",
            "consents_y2024m05_old",
            "consents_y+024m05",
            "consents_default",
            "consents",
        ] {
            assert_eq!(MonthPartition::from_name(other), None, "{other}");
        }
        assert!(MonthPartition::containing(datetime!(9999-12-01 00:00 UTC)).is_err());
    }
}
