//! The conformance suite that every storage backend must pass, and the crash
//! tests for the durable ones.
//!
//! The suite is written once in [`cases`] against `&dyn KvStore`;
//! `conformance_suite!` instantiates every case for every backend as its own
//! `#[test]` (`memory_store::key_ordering`, `redb_store::key_ordering`, …).
//!
//! PostgreSQL tests need a real server: `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) must name a role that may
//! create databases. Each test creates its own database and drops it
//! afterwards. An unreachable server fails the tests; they never skip.
//!
//! The crash tests re-execute this test binary as a child writer
//! (`crash_child_writer`, which does nothing unless the crash environment
//! variables are set), SIGKILL it at random points, and check what survived.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use omnistore_storage::{
    DEFERRED_DURABILITY, Durability, Entry, KeyRange, KvStore, MAX_CONFLICT_RETRIES, MAX_KEY_LEN, MemoryStore, ReadTxn,
    RedbStore, StorageError, Txn, transact,
};

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// A store plus whatever must outlive it (a temporary directory, a test
/// database). Fields drop in order: the store first, then the cleanup.
struct Fixture {
    store: Arc<dyn KvStore>,
    _cleanup: Box<dyn std::any::Any>,
}

fn memory_fixture() -> Fixture {
    Fixture { store: Arc::new(MemoryStore::new()), _cleanup: Box::new(()) }
}

fn redb_fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    // A nested path also checks that `open` creates missing directories.
    let store = RedbStore::open(&dir.path().join("nested/dir/store.redb")).expect("open redb");
    Fixture { store: Arc::new(store), _cleanup: Box::new(dir) }
}

fn postgres_fixture() -> Fixture {
    let database = TestDatabase::create();
    let store = omnistore_storage::PostgresStore::connect(&database.url)
        .unwrap_or_else(|err| panic!("connect to test database {}: {err}", database.name));
    Fixture { store: Arc::new(store), _cleanup: Box::new(database) }
}

#[cfg(feature = "sled")]
fn sled_fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = omnistore_storage::SledStore::open(&dir.path().join("sled")).expect("open sled");
    Fixture { store: Arc::new(store), _cleanup: Box::new(dir) }
}

const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

/// `url` with its password hidden, for messages.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_owned() };
    let Some(at) = url[scheme_end..].find('@').map(|i| scheme_end + i) else {
        return url.to_owned();
    };
    match url[scheme_end..at].find(':') {
        Some(colon) => format!("{}:***{}", &url[..scheme_end + colon], &url[at..]),
        None => url.to_owned(),
    }
}

/// `url` pointing at database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base
        .find("://")
        .map(|i| i + 3)
        .unwrap_or_else(|| panic!("DATABASE_URL must be a postgres:// URL, got {}", redact(url)));
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

fn admin_client() -> postgres::Client {
    let url = admin_url();
    postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|err| {
        panic!(
            "cannot reach PostgreSQL at {} ({err}). The PostgreSQL tests need a real server: \
             start PostgreSQL, or set DATABASE_URL to a server and a role that may create \
             databases. These tests fail rather than skip.",
            redact(&url)
        )
    })
}

/// A database of its own for one test, dropped when the test ends.
struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    fn create() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!("omnistore_t_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut admin = admin_client();
        // A leftover from an earlier run whose process id was reused.
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).expect("drop stale test database");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap_or_else(|err| {
            panic!("cannot create test database {name} (does the DATABASE_URL role have CREATEDB?): {err}")
        });
        let url = with_database(&admin_url(), &name);
        TestDatabase { name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // FORCE ends connections still open (a killed child's, a pool's).
        let dropped = postgres::Client::connect(&admin_url(), postgres::NoTls)
            .and_then(|mut admin| admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)));
        if let Err(err) = dropped {
            eprintln!("warning: could not drop test database {}: {err}", self.name);
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// splitmix64: deterministic test data without a dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn time_seed() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}

fn put_committed(store: &dyn KvStore, entries: &[(&[u8], &[u8])]) {
    let mut txn = store.begin().expect("begin");
    for (key, value) in entries {
        txn.put(key, value).expect("put");
    }
    txn.commit().expect("commit");
}

fn get_committed(store: &dyn KvStore, key: &[u8]) -> Option<Vec<u8>> {
    let mut txn = store.begin().expect("begin");
    txn.get(key).expect("get")
}

fn scan_committed(store: &dyn KvStore, range: &KeyRange, limit: usize) -> Vec<Entry> {
    let mut txn = store.begin().expect("begin");
    txn.scan(range, limit).expect("scan")
}

fn keys(entries: &[Entry]) -> Vec<Vec<u8>> {
    entries.iter().map(|(k, _)| k.clone()).collect()
}

fn read_u64(txn: &mut dyn Txn, key: &[u8]) -> Result<u64, StorageError> {
    Ok(match txn.get(key)? {
        Some(bytes) => u64::from_be_bytes(bytes.try_into().expect("8-byte counter")),
        None => 0,
    })
}

fn range(start: Bound<&[u8]>, end: Bound<&[u8]>) -> KeyRange {
    KeyRange { start: start.map(<[u8]>::to_vec), end: end.map(<[u8]>::to_vec) }
}

// ---------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------

mod cases {
    use super::*;

    /// Keys come back in plain byte order: shorter prefix first, 0x00 low,
    /// 0xff high, the empty key before everything.
    pub fn key_ordering(store: &dyn KvStore) {
        let mut expected: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x00],
            vec![0x00, 0x00],
            vec![0x00, 0xff],
            vec![0x01],
            b"A".to_vec(),
            b"a".to_vec(),
            b"a\x00".to_vec(),
            b"a\x00\x00".to_vec(),
            b"a\x01".to_vec(),
            b"aa".to_vec(),
            b"ab".to_vec(),
            b"b".to_vec(),
            vec![0x7f],
            vec![0x80],
            vec![0xfe, 0xff, 0xff],
            vec![0xff],
            vec![0xff, 0x00],
            vec![0xff, 0xff],
            vec![0xff, 0xff, 0xff],
        ];
        // Insert in a scrambled order so no backend can pass by insertion order.
        let mut scrambled = expected.clone();
        let mut rng = Rng::new(7);
        for i in (1..scrambled.len()).rev() {
            scrambled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let mut txn = store.begin().unwrap();
        for key in &scrambled {
            txn.put(key, &[key.len() as u8]).unwrap();
        }
        txn.commit().unwrap();
        expected.sort();
        let all = scan_committed(store, &KeyRange::all(), usize::MAX);
        assert_eq!(keys(&all), expected);
        for (key, value) in &all {
            assert_eq!(value, &[key.len() as u8]);
        }
        // Limits take from the low end.
        assert_eq!(keys(&scan_committed(store, &KeyRange::all(), 3)), expected[..3].to_vec());
    }

    /// Every single-byte key, the empty key, and random binary keys behave
    /// like any other key.
    pub fn binary_keys(store: &dyn KvStore) {
        let mut model = BTreeMap::new();
        let mut rng = Rng::new(11);
        for _ in 0..200 {
            let len = rng.below(40) as usize;
            let key = rng.bytes(len);
            let value_len = rng.below(100) as usize;
            let value = rng.bytes(value_len);
            model.insert(key, value);
        }
        // After the random keys, so that a random key cannot replace these.
        model.insert(Vec::new(), b"empty key".to_vec());
        for byte in 0..=255u8 {
            model.insert(vec![byte], vec![byte, byte]);
        }
        let mut txn = store.begin().unwrap();
        for (key, value) in &model {
            txn.put(key, value).unwrap();
        }
        txn.commit().unwrap();

        let all = scan_committed(store, &KeyRange::all(), usize::MAX);
        let expected: Vec<Entry> = model.clone().into_iter().collect();
        assert_eq!(all, expected);
        let mut txn = store.begin().unwrap();
        assert_eq!(txn.get(b"").unwrap(), Some(b"empty key".to_vec()));
        assert_eq!(txn.get(&[0x00]).unwrap(), Some(vec![0x00, 0x00]));
        assert_eq!(txn.get(&[0xff]).unwrap(), Some(vec![0xff, 0xff]));
        // A key that merely shares a prefix is a different key.
        let missing: &[u8] = &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02];
        if !model.contains_key(missing) {
            assert_eq!(txn.get(missing).unwrap(), None);
        }
        // An empty value is a value, not an absence.
        txn.put(b"empty value", b"").unwrap();
        assert_eq!(txn.get(b"empty value").unwrap(), Some(Vec::new()));
        txn.commit().unwrap();
        assert_eq!(get_committed(store, b"empty value"), Some(Vec::new()));
    }

    pub fn prefix_scan(store: &dyn KvStore) {
        put_committed(
            store,
            &[
                (b"order/", b"bare prefix"),
                (b"order/1", b"1"),
                (b"order/2", b"2"),
                (b"order/2/line/1", b"2.1"),
                (b"order/3", b"3"),
                (b"order0", b"after the prefix"),
                (b"order.", b"before the prefix"),
                (b"orde", b"shorter"),
                (b"plugin/x/order/1", b"elsewhere"),
            ],
        );
        let got = scan_committed(store, &KeyRange::prefix(b"order/"), usize::MAX);
        assert_eq!(
            keys(&got),
            [&b"order/"[..], b"order/1", b"order/2", b"order/2/line/1", b"order/3"].map(<[u8]>::to_vec).to_vec()
        );
        assert_eq!(got[3].1, b"2.1");
        let first_two = scan_committed(store, &KeyRange::prefix(b"order/"), 2);
        assert_eq!(keys(&first_two), vec![b"order/".to_vec(), b"order/1".to_vec()]);
        // Pagination: continue after the last key seen.
        let next = scan_committed(
            store,
            &KeyRange { start: Bound::Excluded(b"order/1".to_vec()), end: KeyRange::prefix(b"order/").end },
            2,
        );
        assert_eq!(keys(&next), vec![b"order/2".to_vec(), b"order/2/line/1".to_vec()]);
        assert!(scan_committed(store, &KeyRange::prefix(b"nothing/"), 10).is_empty());

        // A prefix of 0xff bytes has no successor: the range is unbounded above.
        put_committed(store, &[(&[0xff, 0xff], b"x"), (&[0xff, 0xff, 0x00], b"y"), (&[0xfe], b"z")]);
        let got = scan_committed(store, &KeyRange::prefix(&[0xff, 0xff]), usize::MAX);
        assert_eq!(keys(&got), vec![vec![0xff, 0xff], vec![0xff, 0xff, 0x00]]);
        // The empty prefix is everything.
        assert_eq!(scan_committed(store, &KeyRange::prefix(b""), usize::MAX).len(), 12);
    }

    pub fn bounded_scan(store: &dyn KvStore) {
        let all: Vec<Vec<u8>> = (0u8..10).map(|i| vec![b'k', b'0' + i]).collect();
        let mut txn = store.begin().unwrap();
        for key in &all {
            txn.put(key, key).unwrap();
        }
        txn.commit().unwrap();
        let k = |i: u8| vec![b'k', b'0' + i];
        let bounds =
            |i: u8| -> [Bound<Vec<u8>>; 3] { [Bound::Included(k(i)), Bound::Excluded(k(i)), Bound::Unbounded] };
        // Every combination of bound kinds, checked against the definition.
        for (lo, hi) in [(2u8, 7u8), (0, 9), (4, 4), (7, 2)] {
            for start in bounds(lo) {
                for end in bounds(hi) {
                    let range = KeyRange { start: start.clone(), end: end.clone() };
                    let expected: Vec<Vec<u8>> = all.iter().filter(|key| range.contains(key)).cloned().collect();
                    for limit in [0, 1, 3, usize::MAX] {
                        let got = scan_committed(store, &range, limit);
                        let want: Vec<Vec<u8>> = expected.iter().take(limit).cloned().collect();
                        assert_eq!(keys(&got), want, "range {range:?} limit {limit}");
                        assert!(got.iter().all(|(k, v)| k == v));
                    }
                }
            }
        }
        // Bounds that are not stored keys.
        let got = scan_committed(store, &range(Bound::Included(b"k3\x00"), Bound::Excluded(b"k6\x00")), usize::MAX);
        assert_eq!(keys(&got), vec![k(4), k(5), k(6)]);
        let got = scan_committed(store, &range(Bound::Excluded(b"a"), Bound::Included(b"k1")), 10);
        assert_eq!(keys(&got), vec![k(0), k(1)]);
    }

    pub fn read_own_writes(store: &dyn KvStore) {
        put_committed(store, &[(b"a", b"old a"), (b"b", b"old b"), (b"c", b"old c")]);
        let mut txn = store.begin().unwrap();
        assert_eq!(txn.get(b"a").unwrap(), Some(b"old a".to_vec()));
        txn.put(b"a", b"new a").unwrap();
        txn.put(b"a2", b"inserted").unwrap();
        txn.delete(b"b").unwrap();
        assert_eq!(txn.get(b"a").unwrap(), Some(b"new a".to_vec()));
        assert_eq!(txn.get(b"a2").unwrap(), Some(b"inserted".to_vec()));
        assert_eq!(txn.get(b"b").unwrap(), None);
        let seen = txn.scan(&KeyRange::all(), usize::MAX).unwrap();
        assert_eq!(
            seen,
            vec![
                (b"a".to_vec(), b"new a".to_vec()),
                (b"a2".to_vec(), b"inserted".to_vec()),
                (b"c".to_vec(), b"old c".to_vec()),
            ]
        );
        // A limit counts what the transaction sees, not what is committed.
        assert_eq!(keys(&txn.scan(&KeyRange::all(), 2).unwrap()), vec![b"a".to_vec(), b"a2".to_vec()]);
        // Put after delete, delete after put.
        txn.put(b"b", b"again").unwrap();
        txn.delete(b"a2").unwrap();
        assert_eq!(txn.get(b"b").unwrap(), Some(b"again".to_vec()));
        assert_eq!(txn.get(b"a2").unwrap(), None);
        txn.commit().unwrap();
        let after = scan_committed(store, &KeyRange::all(), usize::MAX);
        assert_eq!(
            after,
            vec![
                (b"a".to_vec(), b"new a".to_vec()),
                (b"b".to_vec(), b"again".to_vec()),
                (b"c".to_vec(), b"old c".to_vec()),
            ]
        );
    }

    pub fn delete(store: &dyn KvStore) {
        put_committed(store, &[(b"d/1", b"1"), (b"d/2", b"2"), (b"d/3", b"3")]);
        let mut txn = store.begin().unwrap();
        txn.delete(b"d/2").unwrap();
        // Deleting a key that does not exist is fine.
        txn.delete(b"d/never").unwrap();
        txn.commit().unwrap();
        assert_eq!(get_committed(store, b"d/2"), None);
        assert_eq!(keys(&scan_committed(store, &KeyRange::prefix(b"d/"), 10)), vec![b"d/1".to_vec(), b"d/3".to_vec()]);
        // Deletes in the way of a limited scan do not shorten it.
        let mut txn = store.begin().unwrap();
        txn.delete(b"d/1").unwrap();
        assert_eq!(keys(&txn.scan(&KeyRange::prefix(b"d/"), 1).unwrap()), vec![b"d/3".to_vec()]);
        txn.commit().unwrap();
        assert_eq!(keys(&scan_committed(store, &KeyRange::all(), 10)), vec![b"d/3".to_vec()]);
    }

    pub fn abort_on_drop(store: &dyn KvStore) {
        put_committed(store, &[(b"kept", b"v1")]);
        {
            let mut txn = store.begin().unwrap();
            txn.put(b"kept", b"v2").unwrap();
            txn.put(b"never", b"x").unwrap();
            txn.delete(b"kept").unwrap();
            // Dropped without commit.
        }
        {
            // A transaction that fails part way and is dropped aborts too.
            let mut txn = store.begin().unwrap();
            txn.put(b"never2", b"x").unwrap();
            assert!(matches!(txn.put(&vec![1; MAX_KEY_LEN + 1], b"x"), Err(StorageError::Invalid(_))));
        }
        assert_eq!(get_committed(store, b"kept"), Some(b"v1".to_vec()));
        assert_eq!(get_committed(store, b"never"), None);
        assert_eq!(scan_committed(store, &KeyRange::all(), 10).len(), 1);
    }

    pub fn abort_on_panic(store: &dyn KvStore) {
        put_committed(store, &[(b"balance", b"100")]);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut txn = store.begin().unwrap();
            txn.put(b"balance", b"0").unwrap();
            txn.put(b"half-done", b"x").unwrap();
            panic!("deliberate panic inside a transaction");
        }));
        assert!(outcome.is_err());
        // The store is still usable and shows none of the panicked writes.
        assert_eq!(get_committed(store, b"balance"), Some(b"100".to_vec()));
        assert_eq!(get_committed(store, b"half-done"), None);
        put_committed(store, &[(b"after", b"ok")]);
        assert_eq!(get_committed(store, b"after"), Some(b"ok".to_vec()));
    }

    pub fn large_values(store: &dyn KvStore) {
        let mut rng = Rng::new(5);
        let big = rng.bytes(5 * 1024 * 1024 + 7);
        let other = rng.bytes(4 * 1024 * 1024);
        let mut txn = store.begin().unwrap();
        txn.put(b"big", &big).unwrap();
        txn.put(b"big2", &other).unwrap();
        assert!(txn.get(b"big").unwrap().as_deref() == Some(&big[..]));
        txn.commit().unwrap();
        assert!(get_committed(store, b"big").as_deref() == Some(&big[..]));
        let scanned = scan_committed(store, &KeyRange::all(), 10);
        assert_eq!(keys(&scanned), vec![b"big".to_vec(), b"big2".to_vec()]);
        assert!(scanned[0].1 == big && scanned[1].1 == other, "large values differ after scan");
        // Replace one with a small value, delete the other.
        let mut txn = store.begin().unwrap();
        txn.put(b"big", b"small").unwrap();
        txn.delete(b"big2").unwrap();
        txn.commit().unwrap();
        assert_eq!(scan_committed(store, &KeyRange::all(), 10), vec![(b"big".to_vec(), b"small".to_vec())]);
    }

    pub fn key_length_limit(store: &dyn KvStore) {
        let longest = vec![0xab; MAX_KEY_LEN];
        let too_long = vec![0xab; MAX_KEY_LEN + 1];
        put_committed(store, &[(&longest, b"fits")]);
        assert_eq!(get_committed(store, &longest), Some(b"fits".to_vec()));
        let mut txn = store.begin().unwrap();
        assert!(matches!(txn.put(&too_long, b"x"), Err(StorageError::Invalid(_))));
        assert!(matches!(txn.get(&too_long), Err(StorageError::Invalid(_))));
        assert!(matches!(txn.delete(&too_long), Err(StorageError::Invalid(_))));
    }

    /// Random operations against an in-memory model, some transactions
    /// committed and some dropped.
    pub fn matches_model(store: &dyn KvStore) {
        let alphabet: [&[u8]; 6] = [b"", b"\x00", b"a", b"ab", b"\x7f", b"\xff"];
        let mut rng = Rng::new(42);
        let random_key = |rng: &mut Rng| -> Vec<u8> {
            let parts = rng.below(3);
            (0..parts).flat_map(|_| alphabet[rng.below(6) as usize].to_vec()).collect()
        };
        let mut committed: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for round in 0..30 {
            let mut txn = store.begin().unwrap();
            let mut pending = committed.clone();
            for step in 0..12 {
                let key = random_key(&mut rng);
                match rng.below(5) {
                    0 | 1 => {
                        let value = format!("{round}.{step}").into_bytes();
                        txn.put(&key, &value).unwrap();
                        pending.insert(key, value);
                    }
                    2 => {
                        txn.delete(&key).unwrap();
                        pending.remove(&key);
                    }
                    3 => assert_eq!(txn.get(&key).unwrap(), pending.get(&key).cloned(), "get {key:?}"),
                    _ => {
                        let bound = |rng: &mut Rng, key: Vec<u8>| match rng.below(3) {
                            0 => Bound::Included(key),
                            1 => Bound::Excluded(key),
                            _ => Bound::Unbounded,
                        };
                        let start = bound(&mut rng, key);
                        let end_key = random_key(&mut rng);
                        let range = KeyRange { start, end: bound(&mut rng, end_key) };
                        let limit = [0, 1, 2, 5, usize::MAX][rng.below(5) as usize];
                        let want: Vec<Entry> = pending
                            .iter()
                            .filter(|(k, _)| range.contains(k))
                            .take(limit)
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        assert_eq!(txn.scan(&range, limit).unwrap(), want, "scan {range:?} limit {limit}");
                    }
                }
            }
            if rng.below(10) < 7 {
                txn.commit().unwrap();
                committed = pending;
            }
        }
        let all: Vec<Entry> = committed.into_iter().collect();
        assert_eq!(scan_committed(store, &KeyRange::all(), usize::MAX), all);
    }

    /// Concurrent read-modify-write of one counter loses no increment.
    pub fn concurrent_counter(store: &dyn KvStore) {
        const THREADS: usize = 8;
        const INCREMENTS: usize = 20;
        std::thread::scope(|scope| {
            for _ in 0..THREADS {
                scope.spawn(|| {
                    for _ in 0..INCREMENTS {
                        transact(store, |txn| {
                            let n = read_u64(txn, b"counter")?;
                            txn.put(b"counter", &(n + 1).to_be_bytes())
                        })
                        .expect("increment");
                    }
                });
            }
        });
        let mut txn = store.begin().unwrap();
        assert_eq!(read_u64(&mut *txn, b"counter").unwrap(), (THREADS * INCREMENTS) as u64);
    }

    /// Concurrent transfers between accounts keep the total, and every
    /// transaction sees a consistent total while they run.
    pub fn bank_transfers(store: &dyn KvStore) {
        const ACCOUNTS: u64 = 5;
        const INITIAL: u64 = 100;
        const THREADS: u64 = 4;
        const TRANSFERS: u64 = 25;
        let account = |i: u64| format!("account/{i}").into_bytes();
        let mut txn = store.begin().unwrap();
        for i in 0..ACCOUNTS {
            txn.put(&account(i), &INITIAL.to_be_bytes()).unwrap();
        }
        txn.commit().unwrap();
        let total = |txn: &mut dyn Txn| -> Result<u64, StorageError> {
            let entries = txn.scan(&KeyRange::prefix(b"account/"), usize::MAX)?;
            assert_eq!(entries.len() as u64, ACCOUNTS);
            Ok(entries.iter().map(|(_, v)| u64::from_be_bytes(v.as_slice().try_into().unwrap())).sum())
        };
        std::thread::scope(|scope| {
            let transfers: Vec<_> = (0..THREADS)
                .map(|t| {
                    scope.spawn(move || {
                        let mut rng = Rng::new(100 + t);
                        for _ in 0..TRANSFERS {
                            let from = rng.below(ACCOUNTS);
                            let to = (from + 1 + rng.below(ACCOUNTS - 1)) % ACCOUNTS;
                            let amount = 1 + rng.below(30);
                            transact(store, |txn| {
                                let a = read_u64(txn, &account(from))?;
                                let b = read_u64(txn, &account(to))?;
                                if a < amount {
                                    return Ok(());
                                }
                                txn.put(&account(from), &(a - amount).to_be_bytes())?;
                                txn.put(&account(to), &(b + amount).to_be_bytes())
                            })
                            .unwrap_or_else(|err| panic!("transfer failed: {err}"));
                        }
                    })
                })
                .collect();
            // Audit while transfers run: a non-serializable backend shows
            // money in flight here. Stops when every transfer thread has
            // ended, however it ended; the scope then re-raises their panics.
            let mut audits = 0;
            while audits < 3 || !transfers.iter().all(|t| t.is_finished()) {
                let seen = transact(store, |txn| total(txn)).unwrap_or_else(|err| panic!("audit failed: {err}"));
                assert_eq!(seen, ACCOUNTS * INITIAL, "an audit saw an inconsistent total");
                audits += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let mut txn = store.begin().unwrap();
        assert_eq!(total(&mut *txn).unwrap(), ACCOUNTS * INITIAL);
    }

    /// A transaction that read a value another transaction then changed
    /// must not overwrite it blindly: either the backend serializes them
    /// (locking) or it reports a conflict and `transact` runs the closure
    /// again on fresh data.
    pub fn conflict_retry(store: &dyn KvStore) {
        put_committed(store, &[(b"x", &0u64.to_be_bytes())]);
        let attempts = AtomicUsize::new(0);
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                go_rx.recv().unwrap();
                transact(store, |txn| {
                    let n = read_u64(txn, b"x")?;
                    txn.put(b"x", &(n + 1).to_be_bytes())
                })
                .expect("competing increment");
                done_tx.send(()).unwrap();
            });
            transact(store, |txn| {
                let n = read_u64(txn, b"x")?;
                if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                    go_tx.send(()).unwrap();
                    // A locking backend blocks the competitor until this
                    // transaction ends, so the wait is bounded.
                    let _ = done_rx.recv_timeout(Duration::from_millis(300));
                }
                txn.put(b"x", &(n + 1).to_be_bytes())
            })
            .expect("first increment");
        });
        let mut txn = store.begin().unwrap();
        assert_eq!(read_u64(&mut *txn, b"x").unwrap(), 2, "an increment was lost");
        if store.backend() == "postgres" {
            assert!(
                attempts.load(Ordering::SeqCst) >= 2,
                "PostgreSQL must have reported the conflict and the closure must have run again"
            );
        }
    }

    /// A read transaction answers from committed data, obeys limits and
    /// ranges like a scan in a read-write one, and refuses over-long keys.
    pub fn read_txn_basics(store: &dyn KvStore) {
        put_committed(store, &[(b"a", b"1"), (b"b", b"2"), (b"c", b""), (b"d", b"4")]);
        let mut read = store.begin_read().unwrap();
        assert_eq!(read.get(b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(read.get(b"c").unwrap(), Some(Vec::new()), "an empty value is a value");
        assert_eq!(read.get(b"zz").unwrap(), None);
        let scanned = read.scan(&range(Bound::Excluded(b"a"), Bound::Included(b"c")), usize::MAX).unwrap();
        assert_eq!(keys(&scanned), vec![b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(keys(&read.scan(&KeyRange::all(), 2).unwrap()), vec![b"a".to_vec(), b"b".to_vec()]);
        assert!(read.scan(&KeyRange::all(), 0).unwrap().is_empty());
        assert!(read.scan(&range(Bound::Included(b"d"), Bound::Excluded(b"a")), 10).unwrap().is_empty());
        let long = vec![b'k'; MAX_KEY_LEN + 1];
        assert!(matches!(read.get(&long), Err(StorageError::Invalid(_))));
        // The failed call did not break the transaction.
        assert_eq!(read.get(b"d").unwrap(), Some(b"4".to_vec()));
    }

    /// A writer on another thread commits while a reader is open: the
    /// writer is not blocked, and the reader keeps seeing the data as it was
    /// when it began, for gets and scans alike.
    pub fn read_txn_does_not_block_writer(store: &dyn KvStore) {
        put_committed(store, &[(b"a", b"1"), (b"b", b"1"), (b"c", b"1")]);
        let mut read = store.begin_read().unwrap();
        assert_eq!(read.get(b"a").unwrap(), Some(b"1".to_vec()));
        let (done_tx, done_rx) = mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let outcome = transact(store, |txn| {
                    txn.put(b"a", b"2")?;
                    txn.put(b"b", b"2")?;
                    txn.delete(b"c")?;
                    txn.put(b"d", b"2")
                });
                done_tx.send(outcome).unwrap();
            });
            let committed = done_rx
                .recv_timeout(Duration::from_secs(20))
                .expect("the writer was blocked by an open read transaction");
            committed.expect("the writer's commit failed");
        });
        assert_eq!(read.get(b"b").unwrap(), Some(b"1".to_vec()), "the reader saw a later commit");
        assert_eq!(read.get(b"d").unwrap(), None, "the reader saw a later insert");
        let seen = read.scan(&KeyRange::all(), usize::MAX).unwrap();
        let expected: Vec<Entry> = [b"a", b"b", b"c"].iter().map(|k| (k.to_vec(), b"1".to_vec())).collect();
        assert_eq!(seen, expected, "the reader's scan mixed snapshots");
        drop(read);
        let mut fresh = store.begin_read().unwrap();
        assert_eq!(
            keys(&fresh.scan(&KeyRange::all(), usize::MAX).unwrap()),
            vec![b"a".to_vec(), b"b".to_vec(), b"d".to_vec()]
        );
    }

    /// A reader on another thread is not blocked by a write transaction that
    /// is open (and has written) but not committed, and does not see its
    /// writes.
    pub fn read_txn_not_blocked_by_writer(store: &dyn KvStore) {
        put_committed(store, &[(b"x", b"old")]);
        let mut writer = store.begin().unwrap();
        writer.put(b"x", b"new").unwrap();
        writer.put(b"y", b"new").unwrap();
        let (seen_tx, seen_rx) = mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let seen = store.begin_read().and_then(|mut read| {
                    let x = read.get(b"x")?;
                    let all = read.scan(&KeyRange::all(), usize::MAX)?;
                    Ok((x, all))
                });
                seen_tx.send(seen).unwrap();
            });
            let (x, all) = seen_rx
                .recv_timeout(Duration::from_secs(20))
                .expect("the reader was blocked by an open write transaction")
                .expect("the read failed");
            assert_eq!(x, Some(b"old".to_vec()));
            assert_eq!(all, vec![(b"x".to_vec(), b"old".to_vec())]);
        });
        writer.commit().unwrap();
        assert_eq!(store.begin_read().unwrap().get(b"y").unwrap(), Some(b"new".to_vec()));
    }

    /// What the store should hold: every key and its value.
    type Model = BTreeMap<Vec<u8>, Vec<u8>>;

    /// Readers opened between random commits each keep their own snapshot,
    /// checked against a model after all the commits.
    pub fn read_snapshots_match_model(store: &dyn KvStore) {
        let mut rng = Rng::new(23);
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut readers: Vec<(Box<dyn ReadTxn + '_>, Model)> = Vec::new();
        for round in 0..12 {
            let mut txn = store.begin().unwrap();
            for _ in 0..6 {
                let key = vec![b'k', rng.below(16) as u8];
                if rng.below(4) == 0 {
                    txn.delete(&key).unwrap();
                    model.remove(&key);
                } else {
                    let len = 1 + rng.below(8) as usize;
                    let value = rng.bytes(len);
                    txn.put(&key, &value).unwrap();
                    model.insert(key, value);
                }
            }
            txn.commit().unwrap();
            if round % 3 == 0 {
                readers.push((store.begin_read().unwrap(), model.clone()));
            }
        }
        for (read, snapshot) in &mut readers {
            let expected: Vec<Entry> = snapshot.clone().into_iter().collect();
            assert_eq!(read.scan(&KeyRange::all(), usize::MAX).unwrap(), expected);
            assert_eq!(read.scan(&KeyRange::all(), 3).unwrap(), expected[..expected.len().min(3)].to_vec());
            for probe in 0..16u8 {
                let key = vec![b'k', probe];
                assert_eq!(read.get(&key).unwrap(), snapshot.get(&key).cloned());
            }
        }
    }
}

macro_rules! conformance_suite {
    ($module:ident, $fixture:path) => {
        mod $module {
            use super::*;
            conformance_suite!(@cases $fixture;
                key_ordering, binary_keys, prefix_scan, bounded_scan, read_own_writes, delete,
                abort_on_drop, abort_on_panic, large_values, key_length_limit, matches_model,
                concurrent_counter, bank_transfers, conflict_retry, read_txn_basics,
                read_txn_does_not_block_writer, read_txn_not_blocked_by_writer, read_snapshots_match_model);
        }
    };
    (@cases $fixture:path; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let fixture = $fixture();
                cases::$case(&*fixture.store);
            }
        )*
    };
}

conformance_suite!(memory_store, memory_fixture);
conformance_suite!(redb_store, redb_fixture);
conformance_suite!(postgres_store, postgres_fixture);
#[cfg(feature = "sled")]
conformance_suite!(sled_store, sled_fixture);

// ---------------------------------------------------------------------------
// Backend-specific behaviour
// ---------------------------------------------------------------------------

#[test]
fn postgres_reports_conflict_on_statement_or_commit() {
    let fixture = postgres_fixture();
    let store = &*fixture.store;
    put_committed(store, &[(b"k", b"0")]);
    let mut loser = store.begin().unwrap();
    assert_eq!(loser.get(b"k").unwrap(), Some(b"0".to_vec()));
    let mut winner = store.begin().unwrap();
    assert_eq!(winner.get(b"k").unwrap(), Some(b"0".to_vec()));
    winner.put(b"k", b"winner").unwrap();
    winner.commit().unwrap();
    match loser.put(b"k", b"loser") {
        Err(StorageError::Conflict) => {
            assert!(loser.is_conflicted());
            // The doomed transaction keeps saying so, and cannot commit.
            assert!(matches!(loser.get(b"k"), Err(StorageError::Conflict)));
            assert!(matches!(loser.commit(), Err(StorageError::Conflict)));
        }
        Ok(()) => assert!(matches!(loser.commit(), Err(StorageError::Conflict))),
        Err(other) => panic!("expected a conflict, got {other}"),
    }
    assert_eq!(get_committed(store, b"k"), Some(b"winner".to_vec()));
    // The connection went back to the pool in a usable state.
    put_committed(store, &[(b"k", b"later")]);
    assert_eq!(get_committed(store, b"k"), Some(b"later".to_vec()));
}

#[test]
fn postgres_unreachable_server_is_a_backend_error() {
    // Port 1 on loopback: nothing listens there, so the refusal is immediate.
    match omnistore_storage::PostgresStore::connect("postgres://nobody@127.0.0.1:1/none") {
        Err(StorageError::Backend { backend: "postgres", message }) => {
            assert!(message.contains("connect"), "unhelpful message: {message}");
        }
        other => panic!("expected a backend error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn redb_keeps_committed_data_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    {
        let store = RedbStore::open(&path).unwrap();
        put_committed(&store, &[(b"a", b"1"), (b"b", b"2")]);
        let mut txn = store.begin().unwrap();
        txn.put(b"uncommitted", b"x").unwrap();
    }
    let store = RedbStore::open(&path).unwrap();
    assert_eq!(
        scan_committed(&store, &KeyRange::all(), 10),
        vec![(b"a".to_vec(), b"1".to_vec()), (b"b".to_vec(), b"2".to_vec())]
    );
}

#[cfg(feature = "sled")]
#[test]
fn sled_keeps_committed_data_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sled");
    {
        let store = omnistore_storage::SledStore::open(&path).unwrap();
        put_committed(&store, &[(b"a", b"1"), (b"b", b"2")]);
        let mut txn = store.begin().unwrap();
        txn.put(b"uncommitted", b"x").unwrap();
    }
    let store = omnistore_storage::SledStore::open(&path).unwrap();
    assert_eq!(
        scan_committed(&store, &KeyRange::all(), 10),
        vec![(b"a".to_vec(), b"1".to_vec()), (b"b".to_vec(), b"2".to_vec())]
    );
}

// ---------------------------------------------------------------------------
// `open` and `transact`
// ---------------------------------------------------------------------------

#[test]
fn open_parses_specs() {
    let memory = omnistore_storage::open("memory:").unwrap();
    assert_eq!(memory.backend(), "memory");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("made/by/open.redb");
    let redb = omnistore_storage::open(&format!("redb:{}", path.display())).unwrap();
    assert_eq!(redb.backend(), "redb");
    put_committed(&*redb, &[(b"k", b"v")]);
    drop(redb);
    assert!(path.is_file());

    let database = TestDatabase::create();
    let pg = omnistore_storage::open(&database.url).unwrap();
    assert_eq!(pg.backend(), "postgres");
    put_committed(&*pg, &[(b"k", b"v")]);
    let alias = database.url.replacen("postgres://", "postgresql://", 1);
    let pg2 = omnistore_storage::open(&alias).unwrap();
    assert_eq!(get_committed(&*pg2, b"k"), Some(b"v".to_vec()));
    drop((pg, pg2));

    let sled_spec = format!("sled:{}", dir.path().join("sled").display());
    #[cfg(feature = "sled")]
    assert_eq!(omnistore_storage::open(&sled_spec).unwrap().backend(), "sled");
    #[cfg(not(feature = "sled"))]
    match omnistore_storage::open(&sled_spec) {
        Err(StorageError::Invalid(message)) => {
            assert!(message.contains("`sled` feature"), "{message}")
        }
        other => panic!("expected a missing-feature error, got {:?}", other.map(|s| s.backend())),
    }

    for bad in ["", "redb:", "sled:", "mysql://localhost/db", "/var/lib/data.redb", "REDB:x"] {
        match omnistore_storage::open(bad) {
            Err(StorageError::Invalid(message)) => assert!(!message.is_empty()),
            other => panic!("{bad:?} should be invalid, got {:?}", other.map(|s| s.backend())),
        }
    }
}

#[test]
fn key_range_emptiness() {
    let r = |start: Bound<&[u8]>, end: Bound<&[u8]>| range(start, end);
    assert!(!KeyRange::all().is_empty());
    assert!(!r(Bound::Included(b"a"), Bound::Included(b"a")).is_empty());
    assert!(r(Bound::Included(b"a"), Bound::Excluded(b"a")).is_empty());
    assert!(r(Bound::Excluded(b"a"), Bound::Included(b"a")).is_empty());
    assert!(r(Bound::Included(b"b"), Bound::Included(b"a")).is_empty());
    assert!(!r(Bound::Excluded(b"a"), Bound::Excluded(b"a\x00")).is_empty());
    assert!(!KeyRange::prefix(&[0xff]).is_empty());
}

/// A fake store whose transactions conflict on demand, to test `transact`.
#[derive(Default)]
struct FlakyStore {
    begins: AtomicUsize,
    commit_conflicts: AtomicUsize,
    statement_conflicts: AtomicUsize,
}

struct FlakyTxn<'a> {
    store: &'a FlakyStore,
    conflicted: bool,
}

fn take_one(counter: &AtomicUsize) -> bool {
    counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

impl KvStore for FlakyStore {
    fn backend(&self) -> &'static str {
        "flaky"
    }

    fn begin(&self) -> Result<Box<dyn Txn + '_>, StorageError> {
        self.begins.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(FlakyTxn { store: self, conflicted: false }))
    }

    fn begin_read(&self) -> Result<Box<dyn ReadTxn + '_>, StorageError> {
        Err(StorageError::Invalid("the flaky store only tests transact".into()))
    }
}

impl Txn for FlakyTxn<'_> {
    fn get(&mut self, _key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        if take_one(&self.store.statement_conflicts) {
            self.conflicted = true;
            return Err(StorageError::Conflict);
        }
        Ok(None)
    }
    fn put(&mut self, _key: &[u8], _value: &[u8]) -> Result<(), StorageError> {
        Ok(())
    }
    fn delete(&mut self, _key: &[u8]) -> Result<(), StorageError> {
        Ok(())
    }
    fn scan(&mut self, _range: &KeyRange, _limit: usize) -> Result<Vec<Entry>, StorageError> {
        Ok(Vec::new())
    }
    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        if self.conflicted || take_one(&self.store.commit_conflicts) {
            return Err(StorageError::Conflict);
        }
        Ok(())
    }
    fn is_conflicted(&self) -> bool {
        self.conflicted
    }
}

#[test]
fn transact_retries_commit_conflicts() {
    let store = FlakyStore { commit_conflicts: AtomicUsize::new(3), ..Default::default() };
    let runs = AtomicUsize::new(0);
    let value = transact(&store, |_txn| {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok::<_, StorageError>(42)
    })
    .unwrap();
    assert_eq!(value, 42);
    assert_eq!(runs.load(Ordering::SeqCst), 4);
    assert_eq!(store.begins.load(Ordering::SeqCst), 4);
}

#[test]
fn transact_retries_statement_conflicts_behind_caller_errors() {
    /// A caller's own error type that hides which storage error happened.
    #[derive(Debug)]
    struct AppError;
    impl From<StorageError> for AppError {
        fn from(_: StorageError) -> Self {
            AppError
        }
    }
    let store = FlakyStore { statement_conflicts: AtomicUsize::new(2), ..Default::default() };
    let value = transact(&store, |txn| {
        txn.get(b"k").map_err(|_| AppError)?;
        Ok::<_, AppError>("done")
    })
    .unwrap();
    assert_eq!(value, "done");
    assert_eq!(store.begins.load(Ordering::SeqCst), 3);
}

#[test]
fn transact_gives_up_after_max_retries() {
    let store = FlakyStore { commit_conflicts: AtomicUsize::new(usize::MAX), ..Default::default() };
    let outcome = transact(&store, |_txn| Ok::<_, StorageError>(()));
    assert!(matches!(outcome, Err(StorageError::Conflict)));
    assert_eq!(store.begins.load(Ordering::SeqCst), MAX_CONFLICT_RETRIES + 1);
}

#[test]
fn transact_does_not_retry_other_errors() {
    let store = FlakyStore::default();
    let outcome =
        transact(&store, |_txn| -> Result<(), StorageError> { Err(StorageError::Invalid("caller's mistake".into())) });
    assert!(matches!(outcome, Err(StorageError::Invalid(_))));
    assert_eq!(store.begins.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------
// Crash tests
// ---------------------------------------------------------------------------

/// Set in the child: the store spec it writes to.
const CRASH_SPEC_ENV: &str = "OMNISTORE_CRASH_CHILD_SPEC";
/// Set in the child: which round it is, so its keys never collide with an
/// earlier round's.
const CRASH_ROUND_ENV: &str = "OMNISTORE_CRASH_CHILD_ROUND";
const CRASH_COUNT_KEY: &[u8] = b"meta/txns";
/// The part number that marks a transaction's head record.
const HEAD: u32 = u32::MAX;

fn head_key(round: u32, txn: u32) -> Vec<u8> {
    format!("t/{round:04}/{txn:08}").into_bytes()
}

fn part_key(round: u32, txn: u32, part: u32) -> Vec<u8> {
    format!("p/{round:04}/{txn:08}/{part:02}").into_bytes()
}

fn parse_numbers(key: &[u8]) -> Vec<u32> {
    std::str::from_utf8(&key[2..])
        .expect("ascii key")
        .split('/')
        .map(|n| n.parse().expect("numeric key part"))
        .collect()
}

/// How many extra keys transaction `txn` of `round` writes besides its head:
/// about a third of the transactions span several keys.
fn parts_of(round: u32, txn: u32) -> u32 {
    let mut rng = Rng::new(u64::from(round) << 32 | u64::from(txn));
    if rng.below(3) == 0 { 1 + rng.below(4) as u32 } else { 0 }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// The exact value a record must have: a header naming it, a payload of
/// varying size (now and then large, to widen the window for torn writes),
/// and a checksum over both.
fn record(round: u32, txn: u32, part: u32) -> Vec<u8> {
    let mut rng = Rng::new(fnv1a(format!("{round}/{txn}/{part}").as_bytes()));
    let len = if rng.below(16) == 0 { 256 * 1024 + rng.below(768 * 1024) } else { 64 + rng.below(8192) };
    let mut value = format!("{round}/{txn}/{part}|").into_bytes();
    value.extend(rng.bytes(len as usize));
    let checksum = fnv1a(&value);
    value.extend(checksum.to_be_bytes());
    value
}

fn check_record(key: &[u8], value: &[u8], round: u32, txn: u32, part: u32) {
    let (body, checksum) = value.split_at(value.len().saturating_sub(8));
    assert!(
        checksum.len() == 8 && fnv1a(body).to_be_bytes() == checksum,
        "torn value under {}: checksum mismatch ({} bytes)",
        String::from_utf8_lossy(key),
        value.len()
    );
    assert!(value == record(round, txn, part), "wrong value under {}", String::from_utf8_lossy(key));
}

/// The child side of the crash tests: commits transactions until killed and
/// acknowledges each on stdout only after its commit returned. Does nothing
/// in a normal test run.
#[test]
fn crash_child_writer() {
    let Ok(spec) = std::env::var(CRASH_SPEC_ENV) else { return };
    let round: u32 = std::env::var(CRASH_ROUND_ENV).expect("round").parse().expect("round number");
    let store = omnistore_storage::open(&spec).expect("child opens the store");
    // The parent kills the child long before this; it only keeps an orphaned
    // child from writing forever.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stdout = std::io::stdout().lock();
    for txn_id in 0.. {
        transact(&*store, |txn| {
            let count = read_u64(txn, CRASH_COUNT_KEY)?;
            txn.put(CRASH_COUNT_KEY, &(count + 1).to_be_bytes())?;
            txn.put(&head_key(round, txn_id), &record(round, txn_id, HEAD))?;
            for part in 0..parts_of(round, txn_id) {
                txn.put(&part_key(round, txn_id, part), &record(round, txn_id, part))?;
            }
            Ok::<_, StorageError>(())
        })
        .expect("child commit");
        writeln!(stdout, "ACK {round} {txn_id}").expect("stdout");
        stdout.flush().expect("stdout");
        if Instant::now() > deadline {
            break;
        }
    }
}

/// Check everything that survived: every record intact, every transaction
/// complete, the count consistent, each round's transactions a prefix of
/// what the child committed and covering everything acknowledged.
/// Returns how many transactions each round has.
fn verify_after_crash(store: &dyn KvStore, acked: &BTreeMap<u32, u32>) -> BTreeMap<u32, u32> {
    let mut txn = store.begin().expect("begin after crash");
    let heads = txn.scan(&KeyRange::prefix(b"t/"), usize::MAX).expect("scan heads");
    let parts = txn.scan(&KeyRange::prefix(b"p/"), usize::MAX).expect("scan parts");
    let count = read_u64(&mut *txn, CRASH_COUNT_KEY).expect("count");
    drop(txn);

    let mut present: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    for (key, value) in &heads {
        let [round, txn_id] = parse_numbers(key)[..] else { panic!("bad head key") };
        check_record(key, value, round, txn_id, HEAD);
        present.entry(round).or_default().insert(txn_id);
    }
    let mut parts_seen: BTreeMap<(u32, u32), u32> = BTreeMap::new();
    for (key, value) in &parts {
        let [round, txn_id, part] = parse_numbers(key)[..] else { panic!("bad part key") };
        check_record(key, value, round, txn_id, part);
        assert!(
            present.get(&round).is_some_and(|ids| ids.contains(&txn_id)),
            "half-applied transaction: part {} without its head",
            String::from_utf8_lossy(key)
        );
        *parts_seen.entry((round, txn_id)).or_default() += 1;
    }
    for (&round, ids) in &present {
        for &txn_id in ids {
            let seen = parts_seen.get(&(round, txn_id)).copied().unwrap_or(0);
            assert_eq!(seen, parts_of(round, txn_id), "half-applied transaction {round}/{txn_id}");
        }
    }
    assert_eq!(count, heads.len() as u64, "the count key disagrees with the transactions present");

    let mut per_round = BTreeMap::new();
    for (&round, ids) in &present {
        let n = ids.len() as u32;
        // The child commits in order, so what survives is 0..n with no gap.
        assert_eq!(ids.last().copied(), Some(n - 1), "round {round} has a gap in its transactions");
        per_round.insert(round, n);
    }
    for (&round, &acked_n) in acked {
        let n = per_round.get(&round).copied().unwrap_or(0);
        assert!(n >= acked_n, "round {round}: {acked_n} transactions acknowledged but only {n} survived");
    }
    per_round
}

/// Run `rounds` rounds of: start a child writing to `spec`, SIGKILL it at a
/// random moment, reopen with `reopen` and verify.
fn crash_test(spec: &str, rounds: u32, reopen: &dyn Fn() -> Box<dyn KvStore>) {
    let seed = time_seed();
    eprintln!("crash test on {} with seed {seed}", redact(spec));
    let mut rng = Rng::new(seed);
    let exe = std::env::current_exe().expect("test binary path");
    let mut acked: BTreeMap<u32, u32> = BTreeMap::new();
    let mut survived_before: BTreeMap<u32, u32> = BTreeMap::new();
    for round in 0..rounds {
        let mut child = std::process::Command::new(&exe)
            .args(["--exact", "crash_child_writer", "--nocapture", "--test-threads=1"])
            .env(CRASH_SPEC_ENV, spec)
            .env(CRASH_ROUND_ENV, round.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn child writer");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<u32>();
        let reader = std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout);
            let mut line = String::new();
            while lines.read_line(&mut line).unwrap_or(0) > 0 {
                // A line cut short by the kill has no newline and is no acknowledgement.
                if let Some(rest) = line.strip_suffix('\n').and_then(|l| l.strip_prefix("ACK "))
                    && let Some((r, id)) = rest.split_once(' ')
                {
                    assert_eq!(r.parse::<u32>().ok(), Some(round));
                    let _ = tx.send(id.parse().expect("acknowledged id"));
                }
                line.clear();
            }
        });
        let first = rx.recv_timeout(Duration::from_secs(20));
        if first.is_err() {
            let _ = child.kill();
            let status = child.wait();
            panic!("round {round}: the child writer acknowledged nothing (exit: {status:?})");
        }
        // Kill at a random point: sometimes almost at once, sometimes after
        // many commits, landing anywhere inside a commit.
        std::thread::sleep(Duration::from_micros(rng.below(300_000)));
        child.kill().expect("SIGKILL the child");
        let status = child.wait().expect("reap the child");
        assert!(!status.success(), "the child must have been killed, not finished: {status:?}");
        reader.join().expect("reader thread");
        let highest = rx.try_iter().chain(first.ok()).max().unwrap();
        acked.insert(round, highest + 1);

        let store = reopen();
        let survived = verify_after_crash(&*store, &acked);
        for (round, before) in &survived_before {
            let now = survived.get(round).copied().unwrap_or(0);
            assert!(now >= *before, "round {round}: {before} transactions survived earlier, {now} now");
        }
        eprintln!(
            "round {round}: {} acknowledged, {} present",
            acked[&round],
            survived.get(&round).copied().unwrap_or(0)
        );
        survived_before = survived;
    }
}

#[test]
fn crash_redb_keeps_acknowledged_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let spec = format!("redb:{}", path.display());
    crash_test(&spec, 5, &|| Box::new(RedbStore::open(&path).expect("reopen after crash")));
}

#[test]
fn crash_postgres_keeps_acknowledged_commits() {
    let database = TestDatabase::create();
    let url = database.url.clone();
    crash_test(&url, 5, &|| Box::new(omnistore_storage::PostgresStore::connect(&url).expect("reconnect after crash")));
}

/// sled is killed the same way. Passing shows that a commit survives the
/// death of the process; it says nothing about power loss, which sled does
/// not promise to survive (see the `sled` module docs).
#[cfg(feature = "sled")]
#[test]
fn crash_sled_keeps_acknowledged_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sled");
    let spec = format!("sled:{}", path.display());
    crash_test(&spec, 5, &|| Box::new(omnistore_storage::SledStore::open(&path).expect("reopen after crash")));
}

// ---------------------------------------------------------------------------
// Deferred durability
// ---------------------------------------------------------------------------

/// Set in the child of the deferred-durability tests: the store to write to.
const DEFERRED_SPEC_ENV: &str = "OMNISTORE_DEFERRED_CHILD_SPEC";
/// How many deferred transactions the child commits, one key each.
const DEFERRED_RECORDS: u32 = 50;

fn deferred_key(i: u32) -> Vec<u8> {
    format!("d/{i:04}").into_bytes()
}

/// The child side: commits deferred transactions, checks that each is
/// visible at once, says so, waits well past the deferral window and says
/// so again, then waits to be killed. Does nothing in a normal test run.
#[test]
fn deferred_child_writer() {
    let Ok(spec) = std::env::var(DEFERRED_SPEC_ENV) else { return };
    let store = omnistore_storage::open(&spec).expect("child opens the store");
    for i in 0..DEFERRED_RECORDS {
        transact(&*store, |txn| {
            txn.set_durability(Durability::Deferred);
            txn.put(&deferred_key(i), &i.to_be_bytes())
        })
        .expect("deferred commit");
        let seen = store.begin_read().expect("read").get(&deferred_key(i)).expect("get");
        assert_eq!(seen, Some(i.to_be_bytes().to_vec()), "a deferred commit is visible when commit returns");
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "COMMITTED").and_then(|()| stdout.flush()).expect("stdout");
    std::thread::sleep(DEFERRED_DURABILITY + Duration::from_secs(2));
    writeln!(stdout, "WAITED").and_then(|()| stdout.flush()).expect("stdout");
    std::thread::sleep(Duration::from_secs(30));
}

/// Deferred commits are visible at once and on disk once the window has
/// passed, with no later commit and no clean close: the child is SIGKILLed.
fn deferred_commits_survive_a_kill_after_the_window(spec: &str, reopen: &dyn Fn() -> Box<dyn KvStore>) {
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = std::process::Command::new(&exe)
        .args(["--exact", "deferred_child_writer", "--nocapture", "--test-threads=1"])
        .env(DEFERRED_SPEC_ENV, spec)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn child writer");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut said = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("child output");
        // The test harness may print its own words before the child's on a line.
        for word in ["COMMITTED", "WAITED"] {
            if line.ends_with(word) {
                said.push(word);
            }
        }
        if said.last() == Some(&"WAITED") {
            break;
        }
    }
    child.kill().expect("SIGKILL the child");
    let status = child.wait().expect("reap the child");
    assert_eq!(said, ["COMMITTED", "WAITED"], "the child did not finish its commits (exit: {status:?})");
    let store = reopen();
    let kept = store.begin_read().unwrap().scan(&KeyRange::prefix(b"d/"), usize::MAX).unwrap();
    let expected: Vec<Entry> = (0..DEFERRED_RECORDS).map(|i| (deferred_key(i), i.to_be_bytes().to_vec())).collect();
    assert_eq!(kept, expected, "deferred commits were lost after the window had passed");
}

#[test]
fn redb_deferred_commits_are_durable_after_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deferred.redb");
    let spec = format!("redb:{}", path.display());
    deferred_commits_survive_a_kill_after_the_window(&spec, &|| {
        Box::new(RedbStore::open(&path).expect("reopen after the kill"))
    });
}

#[test]
fn postgres_deferred_commits_are_durable_after_the_window() {
    let database = TestDatabase::create();
    let url = database.url.clone();
    deferred_commits_survive_a_kill_after_the_window(&url, &|| {
        Box::new(omnistore_storage::PostgresStore::connect(&url).expect("reconnect after the kill"))
    });
}

/// Closing the store makes its deferred commits durable at once.
#[test]
fn redb_deferred_commits_are_durable_when_the_store_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("closed.redb");
    {
        let store = RedbStore::open(&path).unwrap();
        let mut txn = store.begin().unwrap();
        txn.set_durability(Durability::Deferred);
        txn.put(b"k", b"deferred").unwrap();
        txn.commit().unwrap();
    }
    let store = RedbStore::open(&path).unwrap();
    assert_eq!(get_committed(&store, b"k"), Some(b"deferred".to_vec()));
}
