//! The sequencer lease on PostgreSQL (docs/postgres.md): one `lease` row taken
//! and renewed by compare-and-swap against the database's own clock, so node
//! clocks never matter. The epoch grows with every change of holder; taking the
//! lease sets this storage's [`Fence`], which every batch commit re-checks under
//! a row lock.

use std::time::Duration;

use super::postgres::{Fence, PostgresStorage};
use super::postgres_schema::db;
use super::StorageError;
use crate::log::leader::{Lease, LeaseStore};

impl LeaseStore for PostgresStorage {
    fn acquire_or_renew(
        &self,
        holder: &str,
        url: &str,
        ttl: Duration,
    ) -> Result<Option<u64>, StorageError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let epoch = self.write(|tx| {
            // Renew when we hold it (epoch unchanged); take it over when it has
            // expired (epoch + 1). A lease held by a live node is left alone. The
            // UPDATE waits for any batch holding the row lock, so a takeover is
            // ordered after the old leader's last commit. The new expiry counts
            // from the clock when the row is written, not from the start of the
            // transaction (`now()`), so a renewal that waited on that lock is not
            // born expired.
            let row = tx
                .query_opt(
                    "INSERT INTO lease (name, holder, epoch, url, expires_at)
                     VALUES ('sequencer', $1, 1, $2,
                             clock_timestamp() + $3::float8 * interval '1 millisecond')
                     ON CONFLICT (name) DO UPDATE SET
                        epoch = CASE WHEN lease.holder = EXCLUDED.holder
                                     THEN lease.epoch ELSE lease.epoch + 1 END,
                        holder = EXCLUDED.holder,
                        url = EXCLUDED.url,
                        expires_at = EXCLUDED.expires_at
                     WHERE lease.holder = EXCLUDED.holder OR lease.expires_at < now()
                     RETURNING epoch",
                    &[&holder, &url, &(ttl_ms as f64)],
                )
                .map_err(db)?;
            Ok(row.map(|r| r.get::<_, i64>(0)))
        })?;
        if let Some(epoch) = epoch {
            let mut fence = self
                .fence
                .lock()
                .map_err(|_| StorageError::fatal("fence poisoned"))?;
            *fence = Some(Fence {
                holder: holder.to_string(),
                epoch,
            });
        }
        epoch
            .map(|e| u64::try_from(e).map_err(|_| StorageError::Corrupt("negative epoch".into())))
            .transpose()
    }

    fn current_lease(&self) -> Result<Option<Lease>, StorageError> {
        self.write(|tx| {
            let row = tx
                .query_opt(
                    "SELECT holder, epoch, url, expires_at > now() FROM lease WHERE name = 'sequencer'",
                    &[],
                )
                .map_err(db)?;
            Ok(row.map(|r| Lease {
                holder: r.get(0),
                epoch: r.get::<_, i64>(1).max(0) as u64,
                url: r.get(2),
                live: r.get(3),
            }))
        })
    }

    fn release(&self, holder: &str) -> Result<(), StorageError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE lease SET expires_at = now() - interval '1 second'
                 WHERE name = 'sequencer' AND holder = $1",
                &[&holder],
            )
            .map_err(db)?;
            Ok(())
        })
    }
}
