//! A fresh PostgreSQL schema per test in the database named by
//! GLASSBOX_TEST_POSTGRES (`source .ci/postgres`), dropped afterwards.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

pub const ENV: &str = "GLASSBOX_TEST_POSTGRES";

/// The test database URL, or `None` after printing that the test is skipped.
pub fn url() -> Option<String> {
    match std::env::var(ENV) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!("SKIPPED: {ENV} not set");
            None
        }
    }
}

/// One schema of the test database, private to a test.
pub struct TestDatabase {
    pub url: String,
    pub schema: String,
}

impl TestDatabase {
    pub fn create() -> Option<TestDatabase> {
        static N: AtomicU32 = AtomicU32::new(0);
        let url = url()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let schema = format!(
            "t{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut c =
            postgres::Client::connect(&url, postgres::NoTls).expect("connect to test PostgreSQL");
        c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
        Some(TestDatabase { url, schema })
    }

    /// A client configuration using only this schema.
    pub fn config(&self) -> postgres::Config {
        let mut cfg: postgres::Config = self.url.parse().unwrap();
        cfg.options(&format!("-c search_path={}", self.schema));
        cfg
    }

    /// The URL with this schema selected (for server processes).
    pub fn schema_url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.url, self.schema
        )
    }

    pub fn client(&self) -> postgres::Client {
        self.config().connect(postgres::NoTls).unwrap()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema));
        }
    }
}
