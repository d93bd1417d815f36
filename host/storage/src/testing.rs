//! Support for tests that need a real PostgreSQL: a throwaway database,
//! created on a server named by `DATABASE_URL` (default: the local server on
//! 127.0.0.1:5432) and dropped when the value is dropped. An unreachable
//! server panics with what to do: tests that need PostgreSQL never skip.

use std::sync::atomic::{AtomicU32, Ordering};

/// A database that exists while this value lives.
#[derive(Debug)]
pub struct TestDatabase {
    /// Connection URL of the new database.
    pub url: String,
    /// Its name.
    pub name: String,
    admin_url: String,
}

impl TestDatabase {
    /// Create a database with a unique name. Panics (with the reason and the
    /// fix) when the server cannot be reached or refuses.
    pub fn create() -> TestDatabase {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin_url =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut client = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is unreachable at {admin_url}: {e}. Start PostgreSQL or set DATABASE_URL to a server \
                 where this user may CREATE DATABASE; these tests are never skipped."
            )
        });
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let name = format!("omnistore_test_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        TestDatabase { url: with_database(&admin_url, &name), name, admin_url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// The same URL pointing at another database.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}
