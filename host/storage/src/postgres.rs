//! The shared backend: one PostgreSQL table that several omnistore hosts use
//! at once.
//!
//! Every key lives in `omnistore_kv(key bytea primary key, value bytea not
//! null)`, created on [`PostgresStore::connect`] when missing. `bytea`
//! compares bytewise, so scans come back in the same order as on the embedded
//! backends.
//!
//! Each [`Txn`] is one SQL transaction at `ISOLATION LEVEL SERIALIZABLE`.
//! PostgreSQL detects conflicts optimistically and may report one on any
//! statement, not only on `COMMIT`; SQLSTATE `40001` (serialization failure)
//! and `40P01` (deadlock) become [`StorageError::Conflict`], and so does
//! `23505` (unique violation), which on this table only arises when two
//! transactions race to insert the same new key. After a conflict the
//! transaction is doomed: every later call returns `Conflict` again and
//! [`Txn::is_conflicted`] says so, which lets [`crate::transact`] retry it.
//!
//! Connections are kept in a pool: made on demand, returned after commit or
//! drop, discarded when broken. At most `pool_max_size` (a parameter of the
//! URL, default [`DEFAULT_POOL_MAX_SIZE`]) are open at once; a transaction
//! that finds them all in use waits up to [`POOL_WAIT`] for one, then fails,
//! so a burst of requests cannot exhaust the server's `max_connections`.
//!
//! TLS follows libpq's `sslmode` (`disable`, `prefer` — the default —,
//! `require`, `verify-ca`, `verify-full`); the verifying modes take the
//! authority's certificate from `sslrootcert=<PEM file>`. See
//! `postgres_tls` for what each mode checks.
//!
//! A [`ReadTxn`] is a `REPEATABLE READ READ ONLY` transaction: one snapshot
//! for all its statements, no predicate locks, and it can neither conflict
//! nor make a writer conflict.
//!
//! **Never call this backend from a thread that runs a tokio runtime.** The
//! sync `postgres` client drives its own runtime internally and panics when
//! nested inside another; async callers go through
//! `tokio::task::spawn_blocking`.
//!
//! A commit whose connection breaks before the server answers has an unknown
//! outcome: the transaction may or may not have committed. That case is
//! reported as [`StorageError::Backend`] (not `Conflict`, since retrying could
//! apply it twice).

use std::ops::Bound;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use ::postgres::error::SqlState;
use ::postgres::types::ToSql;
use ::postgres::{Client, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::postgres_tls::{self, SslMode};
use crate::{Durability, Entry, KeyRange, KvStore, ReadTxn, StorageError, Txn, check_key};

const BACKEND: &str = "postgres";

/// How many idle connections the pool keeps; more are made when needed and
/// closed when returned to a full pool.
const MAX_IDLE_CONNECTIONS: usize = 8;

/// Connections open at once unless the URL says `pool_max_size=N`.
pub const DEFAULT_POOL_MAX_SIZE: usize = 16;

/// How long a transaction waits for a connection when all are in use.
pub const POOL_WAIT: Duration = Duration::from_secs(10);

/// The URL parameter of the pool size; taken out before the URL reaches the
/// PostgreSQL client, which would refuse an option it does not know.
const POOL_MAX_SIZE_PARAM: &str = "pool_max_size";

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS omnistore_kv \
                            (key bytea PRIMARY KEY, value bytea NOT NULL)";

/// A store in a PostgreSQL database.
pub struct PostgresStore {
    url: String,
    tls: MakeRustlsConnect,
    idle: Mutex<Vec<Connection>>,
    gate: Arc<Gate>,
}

/// Counts open connections against the pool's cap.
struct Gate {
    open: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

/// One open connection's place under the cap; given back when dropped.
struct Permit(Arc<Gate>);

impl Gate {
    /// A place under the cap if one is free or frees within `wait`.
    fn try_acquire(self: &Arc<Self>, wait: Duration) -> Option<Permit> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let (mut open, _) =
            self.freed.wait_timeout_while(open, wait, |open| *open >= self.max).unwrap_or_else(|p| p.into_inner());
        (*open < self.max).then(|| {
            *open += 1;
            Permit(self.clone())
        })
    }

    fn exhausted(&self) -> StorageError {
        backend_error(format_args!(
            "all {} PostgreSQL connections stayed busy for {} s; raise `{POOL_MAX_SIZE_PARAM}` in the store URL \
             if the database allows more connections",
            self.max,
            POOL_WAIT.as_secs()
        ))
    }

    /// Wake a waiter: a place or an idle connection may be free now.
    fn wake(&self) {
        let _open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        self.freed.notify_all();
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.0.open.lock().unwrap_or_else(|p| p.into_inner());
        *open = open.saturating_sub(1);
        self.0.freed.notify_one();
    }
}

/// The URL parameter naming the PEM file of the authority that signs the
/// server's certificate; read here, not by the PostgreSQL client.
const SSL_ROOT_CERT_PARAM: &str = "sslrootcert";

/// What the store URL says: the URL for the client (without the parameters
/// only this module understands), the pool size and the TLS connector.
struct ParsedUrl {
    client_url: String,
    pool_max_size: usize,
    tls: MakeRustlsConnect,
}

fn parse_url(url: &str) -> Result<ParsedUrl, StorageError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pool_max_size = DEFAULT_POOL_MAX_SIZE;
    let mut mode = SslMode::Prefer;
    let mut root_cert = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            POOL_MAX_SIZE_PARAM => {
                pool_max_size = value.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    StorageError::Invalid(format!("`{POOL_MAX_SIZE_PARAM}` must be a whole number of at least 1"))
                })?;
            }
            "sslmode" => mode = SslMode::parse(value)?,
            SSL_ROOT_CERT_PARAM => root_cert = Some(percent_decode(value)),
            _ => kept.push(pair.to_owned()),
        }
    }
    kept.push(format!("sslmode={}", mode.client_value()));
    let tls = postgres_tls::connector(&mode, root_cert.as_deref())?;
    Ok(ParsedUrl { client_url: format!("{base}?{}", kept.join("&")), pool_max_size, tls })
}

/// `%XX` escapes of a URL parameter value (a file path may hold spaces).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| value.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password, so it is left out.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

/// A client with the statements every transaction uses, prepared once per
/// connection.
struct Connection {
    client: Client,
    get: Statement,
    put: Statement,
    delete: Statement,
    /// Scan statements by bound kinds (`start * 3 + end`), prepared on first use.
    scans: [Option<Statement>; 9],
    _permit: Permit,
}

impl Connection {
    fn open(url: &str, tls: &MakeRustlsConnect, permit: Permit) -> Result<Self, StorageError> {
        Self::prepare(connect_client(url, tls)?, permit)
    }

    fn prepare(mut client: Client, permit: Permit) -> Result<Self, StorageError> {
        let mut prepare = |sql: &str| client.prepare(sql).map_err(|err| pg_error(&err));
        let get = prepare("SELECT value FROM omnistore_kv WHERE key = $1")?;
        let put = prepare(
            "INSERT INTO omnistore_kv (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        )?;
        let delete = prepare("DELETE FROM omnistore_kv WHERE key = $1")?;
        Ok(Connection { client, get, put, delete, scans: Default::default(), _permit: permit })
    }

    fn scan_statement(&mut self, range: &KeyRange) -> Result<Statement, ::postgres::Error> {
        let kind = |bound: &Bound<Vec<u8>>| match bound {
            Bound::Included(_) => 0,
            Bound::Excluded(_) => 1,
            Bound::Unbounded => 2,
        };
        let slot = kind(&range.start) * 3 + kind(&range.end);
        if let Some(statement) = &self.scans[slot] {
            return Ok(statement.clone());
        }
        let mut conditions = Vec::new();
        let mut next_param = 1;
        for (bound, inclusive, exclusive) in [(&range.start, ">=", ">"), (&range.end, "<=", "<")] {
            let operator = match bound {
                Bound::Included(_) => inclusive,
                Bound::Excluded(_) => exclusive,
                Bound::Unbounded => continue,
            };
            conditions.push(format!("key {operator} ${next_param}"));
            next_param += 1;
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!("SELECT key, value FROM omnistore_kv {filter} ORDER BY key LIMIT ${next_param}");
        let statement = self.client.prepare(&sql)?;
        self.scans[slot] = Some(statement.clone());
        Ok(statement)
    }
}

fn connect_client(url: &str, tls: &MakeRustlsConnect) -> Result<Client, StorageError> {
    Client::connect(url, tls.clone())
        .map_err(|err| backend_error(format_args!("cannot connect to PostgreSQL: {}", Describe(&err))))
}

fn backend_error(cause: impl std::fmt::Display) -> StorageError {
    StorageError::backend(BACKEND, cause)
}

/// A `postgres::Error` with its cause: its own `Display` says only "db error"
/// or "error connecting to server" and keeps the useful part in `source`.
struct Describe<'a>(&'a ::postgres::Error);

impl std::fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(db) = self.0.as_db_error() {
            write!(f, "{} {}: {}", db.severity(), db.code().code(), db.message())?;
            if let Some(detail) = db.detail() {
                write!(f, " ({detail})")?;
            }
            return Ok(());
        }
        write!(f, "{}", self.0)?;
        let mut source = std::error::Error::source(self.0);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

fn pg_error(err: &::postgres::Error) -> StorageError {
    backend_error(Describe(err))
}

/// Whether PostgreSQL said the transaction lost a race with another one.
fn is_conflict(err: &::postgres::Error) -> bool {
    err.code().is_some_and(|code| {
        *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::UNIQUE_VIOLATION
    })
}

impl PostgresStore {
    /// Connect to the database at `url` (for example
    /// `postgres://user:password@host:5432/dbname?pool_max_size=16&sslmode=verify-full&sslrootcert=ca.pem`;
    /// TLS as in the module docs) and create the `omnistore_kv` table
    /// if it is missing.
    ///
    /// Must not be called on a tokio runtime thread; see the module docs.
    pub fn connect(url: &str) -> Result<Self, StorageError> {
        let ParsedUrl { client_url: url, pool_max_size: max, tls } = parse_url(url)?;
        let gate = Arc::new(Gate { open: Mutex::new(0), freed: Condvar::new(), max });
        let permit = gate.try_acquire(Duration::ZERO).ok_or_else(|| gate.exhausted())?;
        let mut client = connect_client(&url, &tls)?;
        if let Err(err) = client.batch_execute(CREATE_TABLE) {
            // Two hosts creating the table at the same moment can make one of
            // them fail on the catalog's unique index; the table exists then.
            let exists = client
                .query_one("SELECT to_regclass('omnistore_kv') IS NOT NULL", &[])
                .map(|row| row.get::<_, bool>(0))
                .unwrap_or(false);
            if !exists {
                return Err(backend_error(format_args!("cannot create table omnistore_kv: {}", Describe(&err))));
            }
        }
        // Statements are prepared only now: PostgreSQL checks that the table
        // they name exists.
        let connection = Connection::prepare(client, permit)?;
        Ok(PostgresStore { url, tls, idle: Mutex::new(vec![connection]), gate })
    }

    fn take_idle(&self) -> Option<Connection> {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop()
    }

    fn give_back(&self, connection: Connection) {
        if connection.client.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < MAX_IDLE_CONNECTIONS {
            idle.push(connection);
        }
        drop(idle);
        self.gate.wake();
    }

    /// A connection inside a fresh transaction opened by `BEGIN`.
    fn start(&self, begin: &str) -> Result<Connection, StorageError> {
        // An idle connection may have died since it was returned (server
        // restart, idle timeout); such a one is dropped and a new one made.
        let deadline = std::time::Instant::now() + POOL_WAIT;
        loop {
            while let Some(mut connection) = self.take_idle() {
                match connection.client.batch_execute(begin) {
                    Ok(()) => return Ok(connection),
                    Err(err) => {
                        tracing::debug!(error = %Describe(&err), "discarding a broken pooled connection");
                    }
                }
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            // Short waits: a connection given back to the idle list keeps its
            // place, so the loop must look at the list again.
            if let Some(permit) = self.gate.try_acquire(left.min(Duration::from_millis(50))) {
                let mut connection = Connection::open(&self.url, &self.tls, permit)?;
                connection.client.batch_execute(begin).map_err(|err| pg_error(&err))?;
                return Ok(connection);
            }
            if left.is_zero() {
                return Err(self.gate.exhausted());
            }
        }
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()));
        if idle.is_empty() {
            return;
        }
        // A blocking client shuts its own runtime down when dropped, which
        // panics on an async worker thread (where a host that is shutting
        // down drops its store): close the connections on a plain thread.
        let closer = std::thread::Builder::new().name("omnistore-pg-close".into()).spawn(move || drop(idle));
        if let Ok(closer) = closer {
            let _ = closer.join();
        }
    }
}

impl KvStore for PostgresStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn begin(&self) -> Result<Box<dyn Txn + '_>, StorageError> {
        let connection = self.start("BEGIN ISOLATION LEVEL SERIALIZABLE")?;
        Ok(Box::new(PostgresTxn { store: self, connection: Some(connection), failure: None }))
    }

    fn begin_read(&self) -> Result<Box<dyn ReadTxn + '_>, StorageError> {
        // PostgreSQL takes the snapshot at the first statement, not at BEGIN;
        // `SELECT 1` pins it to now, as the trait promises.
        let connection = self.start("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1")?;
        Ok(Box::new(PostgresReadTxn { store: self, connection: Some(connection) }))
    }
}

fn select(c: &mut Connection, key: &[u8]) -> Result<Option<Vec<u8>>, ::postgres::Error> {
    let row = c.client.query_opt(&c.get, &[&key])?;
    Ok(row.map(|row| row.get::<_, Vec<u8>>(0)))
}

fn select_range(c: &mut Connection, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, ::postgres::Error> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let statement = c.scan_statement(range)?;
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(3);
    for bound in [&range.start, &range.end] {
        if let Bound::Included(key) | Bound::Excluded(key) = bound {
            params.push(key);
        }
    }
    params.push(&limit);
    let rows = c.client.query(&statement, &params)?;
    Ok(rows.into_iter().map(|row| (row.get(0), row.get(1))).collect())
}

struct PostgresReadTxn<'a> {
    store: &'a PostgresStore,
    /// `None` once a statement failed: the transaction is aborted then and
    /// its connection is closed rather than returned to the pool.
    connection: Option<Connection>,
}

impl PostgresReadTxn<'_> {
    fn run<T>(
        &mut self,
        statement: impl FnOnce(&mut Connection) -> Result<T, ::postgres::Error>,
    ) -> Result<T, StorageError> {
        let connection = self
            .connection
            .as_mut()
            .ok_or_else(|| backend_error("read transaction already failed and must be dropped"))?;
        statement(connection).map_err(|err| {
            self.connection = None;
            pg_error(&err)
        })
    }
}

impl ReadTxn for PostgresReadTxn<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        self.run(|c| select(c, key))
    }

    fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError> {
        if range.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        self.run(|c| select_range(c, range, limit))
    }
}

impl Drop for PostgresReadTxn<'_> {
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else { return };
        match connection.client.batch_execute("ROLLBACK") {
            Ok(()) => self.store.give_back(connection),
            Err(err) => {
                tracing::debug!(error = %Describe(&err), "discarding a connection that failed to end a read");
            }
        }
    }
}

/// Why a transaction can no longer commit.
enum Failure {
    Conflict,
    Error(String),
}

struct PostgresTxn<'a> {
    store: &'a PostgresStore,
    /// `None` once the transaction has ended (commit) or the connection broke.
    connection: Option<Connection>,
    /// Set by the first failing statement: PostgreSQL refuses every later
    /// statement of the transaction, and would turn `COMMIT` into a silent
    /// rollback.
    failure: Option<Failure>,
}

impl PostgresTxn<'_> {
    /// Run one statement, remembering a failure so the transaction cannot be
    /// committed after it.
    fn run<T>(
        &mut self,
        statement: impl FnOnce(&mut Connection) -> Result<T, ::postgres::Error>,
    ) -> Result<T, StorageError> {
        if let Some(failure) = &self.failure {
            return Err(match failure {
                Failure::Conflict => StorageError::Conflict,
                Failure::Error(message) => {
                    backend_error(format_args!("transaction already failed and must be dropped: {message}"))
                }
            });
        }
        let connection = self.connection.as_mut().expect("postgres transaction used after it ended");
        match statement(connection) {
            Ok(value) => Ok(value),
            Err(err) if is_conflict(&err) => {
                self.failure = Some(Failure::Conflict);
                Err(StorageError::Conflict)
            }
            Err(err) => {
                self.failure = Some(Failure::Error(Describe(&err).to_string()));
                Err(pg_error(&err))
            }
        }
    }
}

impl Txn for PostgresTxn<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        self.run(|c| select(c, key))
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        check_key(key)?;
        self.run(|c| c.client.execute(&c.put, &[&key, &value]).map(drop))
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        check_key(key)?;
        self.run(|c| c.client.execute(&c.delete, &[&key]).map(drop))
    }

    fn scan(&mut self, range: &KeyRange, limit: usize) -> Result<Vec<Entry>, StorageError> {
        if range.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        self.run(|c| select_range(c, range, limit))
    }

    /// Asynchronous commit for this transaction only: the server answers
    /// `COMMIT` before the WAL is flushed. A failure is remembered and
    /// reported by `commit`.
    fn set_durability(&mut self, durability: Durability) {
        let setting = match durability {
            Durability::Immediate => "SET LOCAL synchronous_commit TO DEFAULT",
            Durability::Deferred => "SET LOCAL synchronous_commit TO off",
        };
        let _ = self.run(|c| c.client.batch_execute(setting));
    }

    fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        if self.failure.is_some() {
            // Drop rolls back and returns the connection; the call reports
            // why the transaction could not commit.
            return self.run(|_| Ok(()));
        }
        let mut connection = self.connection.take().expect("postgres transaction committed twice");
        match connection.client.batch_execute("COMMIT") {
            Ok(()) => {
                self.store.give_back(connection);
                Ok(())
            }
            // The server answered, so the transaction is over (rolled back)
            // and the connection is fine.
            Err(err) if is_conflict(&err) => {
                self.store.give_back(connection);
                Err(StorageError::Conflict)
            }
            Err(err) if err.code().is_some() => {
                self.store.give_back(connection);
                Err(pg_error(&err))
            }
            // No answer: the connection is gone and nobody knows whether the
            // server committed.
            Err(err) => Err(backend_error(format_args!(
                "connection lost during COMMIT, the transaction may or may not have committed: {}",
                Describe(&err)
            ))),
        }
    }

    fn is_conflicted(&self) -> bool {
        matches!(self.failure, Some(Failure::Conflict))
    }
}

impl Drop for PostgresTxn<'_> {
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else { return };
        match connection.client.batch_execute("ROLLBACK") {
            Ok(()) => self.store.give_back(connection),
            Err(err) => {
                tracing::debug!(error = %Describe(&err), "discarding a connection that failed to roll back");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::postgres::NoTls;

    fn fixture(name: &str) -> String {
        format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn the_pool_size_and_tls_settings_come_out_of_the_url() {
        let parsed = parse_url("postgres://u@h/db?pool_max_size=3&application_name=x").unwrap();
        assert_eq!(parsed.client_url, "postgres://u@h/db?application_name=x&sslmode=prefer");
        assert_eq!(parsed.pool_max_size, 3);
        let parsed = parse_url("postgres://u@h/db").unwrap();
        assert_eq!((parsed.client_url.as_str(), parsed.pool_max_size), ("postgres://u@h/db?sslmode=prefer", 16));
        assert_eq!(
            parse_url("postgres://u@h/db?sslmode=disable").unwrap().client_url,
            "postgres://u@h/db?sslmode=disable"
        );
        let root = fixture("unrelated-ca.pem");
        let verifying = parse_url(&format!("postgres://u@h/db?sslmode=verify-full&sslrootcert={root}")).unwrap();
        assert_eq!(verifying.client_url, "postgres://u@h/db?sslmode=require", "the client knows no verify-*");
    }

    #[test]
    fn bad_store_urls_are_refused_with_the_reason_and_no_password() {
        for (bad, reason) in [
            ("pool_max_size=0", "pool_max_size"),
            ("pool_max_size=many", "pool_max_size"),
            ("sslmode=sometimes", "sslmode=sometimes"),
            ("sslmode=verify-full", "sslrootcert"),
            ("sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem", "cannot read sslrootcert"),
        ] {
            let err = parse_url(&format!("postgres://u:pw@h/db?{bad}")).err().expect(bad);
            assert!(matches!(err, StorageError::Invalid(_)), "{bad}: {err}");
            assert!(err.to_string().contains(reason), "{bad}: {err}");
            assert!(!err.to_string().contains("pw@"), "no password in: {err}");
        }
        let not_pem = fixture("../conformance.rs");
        let err = parse_url(&format!("postgres://u@h/db?sslmode=verify-full&sslrootcert={not_pem}")).err().unwrap();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }

    /// Whether the session of `store`'s pooled connection is encrypted.
    fn session_is_encrypted(store: &PostgresStore) -> bool {
        let mut connection = store.take_idle().expect("connect leaves one idle connection");
        connection.client.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).unwrap().get(0)
    }

    #[test]
    fn sslmode_require_encrypts_the_session_and_disable_does_not() {
        let db = TempDb::new();
        let required = PostgresStore::connect(&format!("{}?sslmode=require", db.url())).unwrap();
        assert!(session_is_encrypted(&required));
        let plain = PostgresStore::connect(&format!("{}?sslmode=disable", db.url())).unwrap();
        assert!(!session_is_encrypted(&plain));
    }

    #[test]
    fn a_server_certificate_from_an_untrusted_authority_is_refused() {
        let db = TempDb::new();
        let root = fixture("unrelated-ca.pem");
        for mode in ["verify-ca", "verify-full"] {
            let err = PostgresStore::connect(&format!("{}?sslmode={mode}&sslrootcert={root}", db.url())).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("cannot connect to PostgreSQL") && text.contains("certificate"), "{mode}: {text}");
        }
    }

    /// A database of its own on the server of `DATABASE_URL`, dropped after.
    struct TempDb {
        admin: String,
        name: String,
    }

    impl TempDb {
        fn new() -> TempDb {
            let admin = std::env::var("DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let name = format!("omnistore_pool_{}_{n}", std::process::id());
            let mut client = Client::connect(&admin, NoTls).expect("PostgreSQL at DATABASE_URL");
            client.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
            client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
            TempDb { admin, name }
        }

        fn url(&self) -> String {
            let base = self.admin.rsplit_once('/').map_or(self.admin.as_str(), |(b, _)| b);
            format!("{base}/{}", self.name)
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            if let Ok(mut client) = Client::connect(&self.admin, NoTls) {
                let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
            }
        }
    }

    fn server_connections(db: &TempDb) -> i64 {
        let mut client = Client::connect(&db.admin, NoTls).unwrap();
        client.query_one("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", &[&db.name]).unwrap().get(0)
    }

    #[test]
    fn no_more_connections_are_opened_than_the_pool_allows() {
        let db = TempDb::new();
        let store = Arc::new(PostgresStore::connect(&format!("{}?pool_max_size=2", db.url())).unwrap());
        let first = store.begin().unwrap();
        let second = store.begin().unwrap();
        // A third transaction waits for a connection instead of opening one.
        let (tx, rx) = std::sync::mpsc::channel();
        let waiting = {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut third = store.begin().unwrap();
                third.put(b"k", b"v").unwrap();
                third.commit().unwrap();
                tx.send(()).unwrap();
            })
        };
        assert!(rx.recv_timeout(Duration::from_millis(500)).is_err(), "the third waited");
        assert_eq!(server_connections(&db), 2);
        drop(first);
        rx.recv_timeout(Duration::from_secs(5)).expect("the third ran once a connection was free");
        waiting.join().unwrap();
        drop(second);
        assert!(server_connections(&db) <= 2);
    }
}
