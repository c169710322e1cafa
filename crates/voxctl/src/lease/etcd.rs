//! The etcd lease store: leases shared by every machine that reaches one etcd
//! cluster, with the same operations, output and exit codes as [`super::file::FileStore`].
//!
//! Layout under the URL's prefix `P` (default `voxctl`), for lease `NAME`:
//!
//! - `P/held/NAME`: exists while the lease is held. It is attached to an etcd lease with the
//!   (granted) TTL, so etcd deletes it when the TTL runs out without a keepalive. Its
//!   `create_revision` plus its etcd lease id identify one holding.
//! - `P/record/NAME`: no etcd lease attached; the latest token, holder, TTL and state (`held`
//!   or `released`). It is what keeps tokens growing and what `status` shows after a release
//!   or an expiry.
//!
//! Both values are the JSON of [`Entry`]. Every decision is one etcd transaction, judged by
//! etcd, never by a client clock:
//!
//! - acquire: `held` absent (`create_revision == 0`) *and* `record` unchanged since read
//!   (`mod_revision`, compare-and-swap) -> put `held` (etcd lease attached) and `record` with
//!   token [`super::next_token`]`(record's token, wall-clock µs)`. The CAS makes two
//!   acquirers that read the same record unable to both write a token derived from it; the
//!   wall-clock term keeps tokens growing after an etcd snapshot restore and when a name moves
//!   between stores. A retried transaction that had been applied shows up as `held` carrying
//!   our own etcd lease id, and is recognised as ours.
//! - renew: keepalive of the etcd lease, then a read checking `held` still has the same
//!   `create_revision` and lease id. With a different TTL, one transaction moves `held` to a
//!   new etcd lease (compare `create_revision` and old lease id); the old one is revoked.
//!   An expired lease cannot be renewed: etcd deleted `held` (exit 6).
//! - release: one transaction deletes `held` and marks `record` released if `held`'s
//!   `create_revision` is still ours; then the etcd lease is revoked.
//! - `--wait`: a watch on `held` wakes waiters when it is deleted (release or expiry).
//! - status/list: read both keys; time left is the etcd lease's `timetolive`.
//!
//! Test checkpoints (`crate::testhook`, with the `testhook` feature only), each between the read a
//! transaction is derived from and that transaction, where a concurrent expiry or takeover
//! must make the transaction's compares fail: `lease:etcd:acquire:txn`,
//! `lease:etcd:release:txn` (releasing a held key) and `lease:etcd:release-expired:txn`
//! (marking an expired record released).
//!
//! TTLs: etcd grants whole seconds, at least its minimum (1.5 x election timeout rounded up:
//! 2 s on defaults); the TTL asked for is rounded up to whole seconds and the granted TTL is
//! what is reported and recorded.

pub(crate) mod gateway;
pub(crate) mod watch;

pub use gateway::{Auth, Tls};
pub use watch::RECHECK;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use self::gateway::{b64, Gateway, KeyValue, LeaseResponse, TxnResponse};
use super::{clock, next_token, Attempt, Lease, LeaseInfo, LeaseName, LeaseStore, Standing, Token};
use crate::testhook::checkpoint;
use crate::Error;

/// The key prefix used when the store URL names none.
pub const DEFAULT_PREFIX: &str = "voxctl";

/// What both keys of a lease hold (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The lease's name.
    pub name: String,
    /// The fencing token of the latest acquire.
    pub token: Token,
    /// The holder description.
    pub holder: String,
    /// The pid of the voxctl that acquired it.
    pub pid: i32,
    /// The host it was acquired on.
    pub host: String,
    /// The granted TTL, in milliseconds (whole seconds).
    #[serde(with = "crate::timestamp::bounded_millis")]
    pub ttl_ms: u64,
    /// When it was acquired, wall clock of the acquiring host, ms since the epoch.
    #[serde(with = "crate::timestamp::bounded_millis")]
    pub acquired_wall_ms: u64,
    /// `held` or `released` (`record` key only; an expired lease still says `held` there).
    pub state: String,
}

/// One key as read: its metadata and decoded entry.
#[derive(Debug, Clone)]
struct Key {
    kv: KeyValue,
    entry: Entry,
}

/// What this process knows about a holding it made (saves a read on renew and release).
#[derive(Debug, Clone)]
struct Holding {
    token: Token,
    create_revision: i64,
    lease: i64,
    entry: Entry,
}

/// Leases in etcd, through its v3 JSON gateway (the `gateway` module).
#[derive(Debug)]
pub struct EtcdStore {
    rt: Arc<tokio::runtime::Runtime>,
    gw: Arc<Gateway>,
    prefix: String,
    held: Mutex<Option<(String, Holding)>>,
}

impl EtcdStore {
    /// A store on `endpoints` (base URLs such as `http://10.0.0.1:2379/`) with keys under
    /// `prefix`. Nothing is contacted until the first operation.
    pub fn new(gw: Gateway, prefix: &str) -> Result<EtcdStore> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the runtime for etcd requests")?;
        Ok(EtcdStore {
            rt: Arc::new(rt),
            gw: Arc::new(gw),
            prefix: prefix.trim_matches('/').to_string(),
            held: Mutex::new(None),
        })
    }

    /// The endpoints, comma-separated (for messages).
    pub fn endpoints(&self) -> String {
        let eps: Vec<&str> = self.gw.endpoints().iter().map(|u| u.as_str()).collect();
        eps.join(", ")
    }

    fn held_key(&self, name: &LeaseName) -> String {
        format!("{}/held/{name}", self.prefix)
    }

    fn record_key(&self, name: &LeaseName) -> String {
        format!("{}/record/{name}", self.prefix)
    }

    fn remember(&self, name: &LeaseName, h: Option<Holding>) {
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = h.map(|h| (name.to_string(), h));
    }

    fn remembered(&self, name: &LeaseName, token: Token) -> Option<Holding> {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.as_ref()
            .filter(|(n, h)| n == name.as_str() && h.token == token)
            .map(|(_, h)| h.clone())
    }

    async fn txn(&self, body: Value) -> Result<TxnResponse> {
        self.gw.call("/v3/kv/txn", &body).await
    }

    /// Reads `held` and `record` of `name` at one revision.
    async fn read(&self, name: &LeaseName) -> Result<(Option<Key>, Option<Key>)> {
        let resp = self
            .txn(json!({"success": [range(&self.held_key(name)), range(&self.record_key(name))]}))
            .await?;
        Ok((decode(resp.kv(0))?, decode(resp.kv(1))?))
    }

    async fn grant(&self, ttl: Duration) -> Result<LeaseResponse> {
        let secs = ttl_secs(ttl);
        let g: LeaseResponse = self
            .gw
            .call("/v3/lease/grant", &json!({"TTL": secs.to_string()}))
            .await?;
        if g.id == 0 || g.ttl <= 0 {
            anyhow::bail!("etcd granted no usable lease for a {secs}s TTL: {g:?}");
        }
        if g.ttl > secs.max(MAX_MIN_TTL_SECS) {
            // Nothing uses the lease yet: revoke it, so no key is ever attached to it.
            let _ = self.revoke(g.id).await;
            anyhow::bail!(
                "etcd granted a TTL of {}s for a {secs}s request; refusing it (etcd grants \
                 what is asked, or its minimum TTL, at most {MAX_MIN_TTL_SECS}s)",
                g.ttl
            );
        }
        Ok(g)
    }

    /// Revokes an etcd lease; one that is already gone is fine.
    async fn revoke(&self, id: i64) -> Result<()> {
        match self
            .gw
            .call::<Value>("/v3/lease/revoke", &json!({"ID": id.to_string()}))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Seconds left on etcd lease `id` (-1 if it is gone).
    async fn time_to_live(&self, id: i64) -> Result<i64> {
        let t: LeaseResponse = self
            .gw
            .call("/v3/lease/timetolive", &json!({"ID": id.to_string()}))
            .await?;
        Ok(t.ttl)
    }

    fn info(&self, held: Option<&Key>, ttl_left: i64, record: Option<&Key>) -> LeaseInfo {
        let (entry, standing) = match (held, record) {
            (Some(h), _) if ttl_left >= 0 => {
                // timetolive truncates to whole seconds: round up, within the TTL.
                let left_ms = secs_to_ms(ttl_left.saturating_add(1)).min(h.entry.ttl_ms);
                (&h.entry, Standing::Held { left_ms })
            }
            (Some(h), None) => (&h.entry, Standing::Expired { ago_ms: 0 }),
            (_, Some(r)) if r.entry.state == "released" => (&r.entry, Standing::Released),
            (_, Some(r)) => (&r.entry, Standing::Expired { ago_ms: 0 }),
            (None, None) => unreachable!("info is built only for a lease with a key"),
        };
        let wall_ms = clock::now().map_or(0, |n| n.wall_us / 1000);
        LeaseInfo {
            name: entry.name.clone(),
            state: standing.state(),
            left_ms: standing.left_ms(),
            token: entry.token,
            holder: entry.holder.clone(),
            pid: entry.pid,
            host: entry.host.clone(),
            ttl_ms: entry.ttl_ms,
            age_ms: wall_ms.saturating_sub(entry.acquired_wall_ms),
            acquired_at: clock::rfc3339_ms(entry.acquired_wall_ms),
        }
    }

    async fn held_info(&self, held: &Key, record: Option<&Key>) -> Result<LeaseInfo> {
        let left = self.time_to_live(held.kv.lease).await?;
        Ok(self.info(Some(held), left, record))
    }

    async fn try_acquire_async(
        &self,
        name: &LeaseName,
        ttl: Duration,
        holder: &str,
    ) -> Result<Attempt> {
        let (grant, read) = futures_util::join!(self.grant(ttl), self.read(name));
        let (mut held, mut record) = read?;
        let grant = grant?;
        let granted_ms = secs_to_ms(grant.ttl);
        let (held_key, record_key) = (self.held_key(name), self.record_key(name));
        for _ in 0..1000 {
            if let Some(h) = &held {
                if h.kv.lease == grant.id {
                    // Our own transaction, applied although its answer was lost.
                    return Ok(self.acquired(name, h.clone(), granted_ms));
                }
                let _ = self.revoke(grant.id).await;
                return Ok(Attempt::Held(self.held_info(h, record.as_ref()).await?));
            }
            let now = clock::now()?;
            let previous = record.as_ref().map(|r| r.entry.token);
            let Some(token) = next_token(previous, now.wall_us) else {
                let _ = self.revoke(grant.id).await;
                anyhow::bail!(
                    "lease {name}: cannot issue a fencing token larger than {} (the largest \
                     possible) recorded in etcd key {record_key}; refusing to issue it again",
                    previous.map_or(0, |t| t.0)
                );
            };
            let entry = Entry {
                name: name.to_string(),
                token,
                holder: holder.to_string(),
                pid: std::process::id() as i32,
                host: crate::process::hostname().unwrap_or_default(),
                ttl_ms: granted_ms,
                acquired_wall_ms: now.wall_us / 1000,
                state: "held".into(),
            };
            let value = encode(&entry)?;
            let record_rev = record.as_ref().map_or(0, |r| r.kv.mod_revision);
            // Between the read and the transaction that the compares guard.
            checkpoint("lease:etcd:acquire:txn");
            let resp = self
                .txn(json!({
                    "compare": [
                        {"key": b64(held_key.as_bytes()), "target": "CREATE", "result": "EQUAL",
                         "create_revision": "0"},
                        {"key": b64(record_key.as_bytes()), "target": "MOD", "result": "EQUAL",
                         "mod_revision": record_rev.to_string()},
                    ],
                    "success": [
                        {"request_put": {"key": b64(held_key.as_bytes()), "value": value,
                                         "lease": grant.id.to_string()}},
                        {"request_put": {"key": b64(record_key.as_bytes()), "value": value}},
                    ],
                    "failure": [range(&held_key), range(&record_key)],
                }))
                .await?;
            if resp.succeeded {
                let kv = KeyValue {
                    key: held_key.clone().into_bytes(),
                    create_revision: resp.header.revision,
                    mod_revision: resp.header.revision,
                    value: Vec::new(),
                    lease: grant.id,
                };
                return Ok(self.acquired(name, Key { kv, entry }, granted_ms));
            }
            held = decode(resp.kv(0))?;
            record = decode(resp.kv(1))?;
        }
        let _ = self.revoke(grant.id).await;
        anyhow::bail!("lease {name}: the record key {record_key} kept changing under 1000 attempts")
    }

    fn acquired(&self, name: &LeaseName, h: Key, granted_ms: u64) -> Attempt {
        let lease = lease_view(&h.entry, granted_ms);
        self.remember(
            name,
            Some(Holding {
                token: h.entry.token,
                create_revision: h.kv.create_revision,
                lease: h.kv.lease,
                entry: h.entry,
            }),
        );
        Attempt::Acquired(lease)
    }

    /// The holding of `token` on `name`: from memory, else read; otherwise the exit-6 error
    /// saying why the token is not the current holder's.
    async fn holding(&self, name: &LeaseName, token: Token) -> Result<Holding> {
        if let Some(h) = self.remembered(name, token) {
            return Ok(h);
        }
        match self.read(name).await? {
            (Some(h), _) if h.entry.token == token => Ok(Holding {
                token,
                create_revision: h.kv.create_revision,
                lease: h.kv.lease,
                entry: h.entry,
            }),
            (held, record) => Err(not_current(name, token, held, record).into()),
        }
    }

    async fn renew_async(
        &self,
        name: &LeaseName,
        token: Token,
        ttl: Option<Duration>,
    ) -> Result<Lease> {
        let h = self.holding(name, token).await?;
        match ttl {
            Some(ttl) if secs_to_ms(ttl_secs(ttl)) != h.entry.ttl_ms => {
                self.move_to_new_lease(name, h, ttl).await
            }
            _ => self.keepalive(name, h).await,
        }
    }

    async fn keepalive(&self, name: &LeaseName, h: Holding) -> Result<Lease> {
        let ka: LeaseResponse = self
            .gw
            .call("/v3/lease/keepalive", &json!({"ID": h.lease.to_string()}))
            .await?;
        let still_ours = |k: &Option<Key>| {
            k.as_ref()
                .is_some_and(|k| k.kv.create_revision == h.create_revision && k.kv.lease == h.lease)
        };
        let (held, record) = self.read(name).await?;
        if ka.ttl <= 0 || !still_ours(&held) {
            self.remember(name, None);
            return Err(not_current(name, h.token, held, record).into());
        }
        // A keepalive restores the TTL granted; more than that is not etcd's answer.
        let ttl_ms = secs_to_ms(ka.ttl).min(h.entry.ttl_ms);
        Ok(lease_view(&h.entry, ttl_ms))
    }

    async fn move_to_new_lease(
        &self,
        name: &LeaseName,
        h: Holding,
        ttl: Duration,
    ) -> Result<Lease> {
        let grant = self.grant(ttl).await?;
        let mut entry = h.entry.clone();
        entry.ttl_ms = secs_to_ms(grant.ttl);
        let value = encode(&entry)?;
        let (held_key, record_key) = (self.held_key(name), self.record_key(name));
        let resp = self
            .txn(json!({
                "compare": [
                    {"key": b64(held_key.as_bytes()), "target": "CREATE", "result": "EQUAL",
                     "create_revision": h.create_revision.to_string()},
                    {"key": b64(held_key.as_bytes()), "target": "LEASE", "result": "EQUAL",
                     "lease": h.lease.to_string()},
                ],
                "success": [
                    {"request_put": {"key": b64(held_key.as_bytes()), "value": value,
                                     "lease": grant.id.to_string()}},
                    {"request_put": {"key": b64(record_key.as_bytes()), "value": value}},
                ],
                "failure": [range(&held_key), range(&record_key)],
            }))
            .await?;
        let moved = resp.succeeded || resp.kv(0).is_some_and(|kv| kv.lease == grant.id);
        if !moved {
            let _ = self.revoke(grant.id).await;
            self.remember(name, None);
            let (held, record) = (decode(resp.kv(0))?, decode(resp.kv(1))?);
            return Err(not_current(name, h.token, held, record).into());
        }
        let _ = self.revoke(h.lease).await;
        let lease = lease_view(&entry, entry.ttl_ms);
        self.remember(
            name,
            Some(Holding {
                lease: grant.id,
                entry,
                ..h
            }),
        );
        Ok(lease)
    }

    async fn release_async(&self, name: &LeaseName, token: Token) -> Result<()> {
        let (held_key, record_key) = (self.held_key(name), self.record_key(name));
        let mut known = self.remembered(name, token);
        // The etcd lease of a release transaction already sent. Its answer may have been lost
        // (a leader killed mid-request) and the gateway's retry then fails its compare; if
        // meanwhile another host took the free key, the lease looks lost although our delete
        // was applied. A key is freed only by its holder's delete or by its etcd lease
        // expiring, so while that etcd lease is still alive the delete was ours.
        let mut sent: Option<i64> = None;
        for _ in 0..100 {
            let h = match known.take() {
                Some(h) => h,
                None => match self.read(name).await? {
                    (Some(h), _) if h.entry.token == token => Holding {
                        token,
                        create_revision: h.kv.create_revision,
                        lease: h.kv.lease,
                        entry: h.entry,
                    },
                    (None, Some(r)) if r.entry.token == token => {
                        if r.entry.state == "released" {
                            return Ok(()); // released twice, or our retried release
                        }
                        // Expired, and nobody took it over: mark it released.
                        let mut entry = r.entry.clone();
                        entry.state = "released".into();
                        checkpoint("lease:etcd:release-expired:txn");
                        let resp = self
                            .txn(json!({
                                "compare": [
                                    {"key": b64(held_key.as_bytes()), "target": "CREATE",
                                     "result": "EQUAL", "create_revision": "0"},
                                    {"key": b64(record_key.as_bytes()), "target": "MOD",
                                     "result": "EQUAL",
                                     "mod_revision": r.kv.mod_revision.to_string()},
                                ],
                                "success": [{"request_put": {"key": b64(record_key.as_bytes()),
                                                             "value": encode(&entry)?}}],
                            }))
                            .await?;
                        if resp.succeeded {
                            return Ok(());
                        }
                        continue;
                    }
                    (held, record) => {
                        if let Some(id) = sent {
                            if self.time_to_live(id).await.is_ok_and(|ttl| ttl > 0) {
                                self.remember(name, None);
                                if let Err(e) = self.revoke(id).await {
                                    tracing::warn!(
                                        "lease {name} released, but revoking etcd lease {id:x}: {e:#}"
                                    );
                                }
                                return Ok(());
                            }
                        }
                        return Err(not_current(name, token, held, record).into());
                    }
                },
            };
            let mut entry = h.entry.clone();
            entry.state = "released".into();
            checkpoint("lease:etcd:release:txn");
            sent = Some(h.lease);
            let resp = self
                .txn(json!({
                    "compare": [
                        {"key": b64(held_key.as_bytes()), "target": "CREATE", "result": "EQUAL",
                         "create_revision": h.create_revision.to_string()},
                    ],
                    "success": [
                        {"request_delete_range": {"key": b64(held_key.as_bytes())}},
                        {"request_put": {"key": b64(record_key.as_bytes()),
                                         "value": encode(&entry)?}},
                    ],
                }))
                .await?;
            if resp.succeeded {
                self.remember(name, None);
                // The key is gone already; the etcd lease would expire by itself.
                if let Err(e) = self.revoke(h.lease).await {
                    tracing::warn!(
                        "lease {name} released, but revoking etcd lease {:x}: {e:#}",
                        h.lease
                    );
                }
                return Ok(());
            }
        }
        anyhow::bail!("lease {name}: {held_key} kept changing under 100 release attempts")
    }

    async fn status_async(&self, name: &LeaseName) -> Result<Option<LeaseInfo>> {
        match self.read(name).await? {
            (Some(h), record) => Ok(Some(self.held_info(&h, record.as_ref()).await?)),
            (None, Some(r)) => Ok(Some(self.info(None, -1, Some(&r)))),
            (None, None) => Ok(None),
        }
    }

    async fn list_async(&self) -> Result<Vec<LeaseInfo>> {
        let under = |what: &str| {
            let from = format!("{}/{what}/", self.prefix);
            let to = format!("{}/{what}0", self.prefix); // '0' follows '/'
            json!({"request_range": {"key": b64(from.as_bytes()), "range_end": b64(to.as_bytes())}})
        };
        let resp = self
            .txn(json!({"success": [under("held"), under("record")]}))
            .await?;
        let mut records = std::collections::BTreeMap::new();
        for kv in resp.kvs(1) {
            if let Some(k) = decode(Some(kv))? {
                records.insert(k.entry.name.clone(), k);
            }
        }
        let mut helds = Vec::new();
        for kv in resp.kvs(0) {
            if let Some(k) = decode(Some(kv))? {
                helds.push(k);
            }
        }
        let lefts =
            futures_util::future::join_all(helds.iter().map(|h| self.time_to_live(h.kv.lease)))
                .await;
        let mut out = std::collections::BTreeMap::new();
        for (h, left) in helds.iter().zip(lefts) {
            let info = self.info(Some(h), left?, records.get(&h.entry.name));
            out.insert(info.name.clone(), info);
        }
        for (name, r) in &records {
            if !out.contains_key(name) {
                out.insert(name.clone(), self.info(None, -1, Some(r)));
            }
        }
        Ok(out.into_values().collect())
    }
}

impl LeaseStore for EtcdStore {
    fn try_acquire(&self, name: &LeaseName, ttl: Duration, holder: &str) -> Result<Attempt> {
        self.rt.block_on(self.try_acquire_async(name, ttl, holder))
    }

    /// Unlike the file store, an expired lease cannot be renewed: etcd deleted its key.
    fn renew(&self, name: &LeaseName, token: Token, ttl: Option<Duration>) -> Result<Lease> {
        self.rt.block_on(self.renew_async(name, token, ttl))
    }

    fn renew_within(
        &self,
        name: &LeaseName,
        token: Token,
        ttl: Option<Duration>,
        within: Duration,
    ) -> Result<Lease> {
        let renew =
            async { tokio::time::timeout(within, self.renew_async(name, token, ttl)).await };
        match self.rt.block_on(renew) {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!(
                "etcd ({}) did not answer the renewal of lease {name} within {}",
                self.endpoints(),
                humantime::format_duration(Duration::from_millis(within.as_millis() as u64))
            )),
        }
    }

    fn release(&self, name: &LeaseName, token: Token) -> Result<()> {
        self.rt.block_on(self.release_async(name, token))
    }

    fn status(&self, name: &LeaseName) -> Result<Option<LeaseInfo>> {
        self.rt.block_on(self.status_async(name))
    }

    fn list(&self) -> Result<Vec<LeaseInfo>> {
        self.rt.block_on(self.list_async())
    }

    /// A watch on `P/held/NAME` that wakes on its deletion (the `watch` module); `None` (poll)
    /// if the watch cannot be set up.
    fn watch(&self, name: &LeaseName) -> Option<Box<dyn super::ChangeWait>> {
        let key = self.held_key(name);
        match self
            .rt
            .block_on(watch::DeleteWatch::open(self.gw.clone(), key, None))
        {
            Ok(w) => Some(Box::new(watch::Blocking::new(self.rt.clone(), w))),
            Err(e) => {
                tracing::debug!("cannot watch lease {name}, polling instead: {e:#}");
                None
            }
        }
    }
}

/// The largest minimum TTL etcd can impose, in seconds: 1.5 x its election timeout, which
/// etcd caps at 50 s. A grant above both this and the TTL asked for is refused.
pub const MAX_MIN_TTL_SECS: i64 = 75;

/// `secs` seconds in milliseconds, saturating (negative: 0).
fn secs_to_ms(secs: i64) -> u64 {
    u64::try_from(secs).unwrap_or(0).saturating_mul(1000)
}

/// The TTL to ask etcd for: whole seconds, rounded up, at least 1.
pub fn ttl_secs(ttl: Duration) -> i64 {
    let ms = ttl.as_millis().max(1);
    ms.div_ceil(1000).min(i64::MAX as u128) as i64
}

fn lease_view(entry: &Entry, expires_in_ms: u64) -> Lease {
    let wall_ms = clock::now().map_or(0, |n| n.wall_us / 1000);
    Lease {
        name: entry.name.clone(),
        token: entry.token,
        holder: entry.holder.clone(),
        ttl_ms: entry.ttl_ms,
        expires_in_ms,
        expires_at: clock::rfc3339_ms(wall_ms.saturating_add(expires_in_ms)),
    }
}

fn range(key: &str) -> Value {
    json!({"request_range": {"key": b64(key.as_bytes())}})
}

fn encode(entry: &Entry) -> Result<String> {
    Ok(b64(
        &serde_json::to_vec(entry).context("cannot encode a lease entry")?
    ))
}

fn decode(kv: Option<&KeyValue>) -> Result<Option<Key>> {
    let Some(kv) = kv else { return Ok(None) };
    let entry = serde_json::from_slice(&kv.value).with_context(|| {
        format!(
            "etcd key {} does not hold a voxctl lease entry",
            String::from_utf8_lossy(&kv.key)
        )
    })?;
    Ok(Some(Key {
        kv: kv.clone(),
        entry,
    }))
}

fn is_not_found(e: &anyhow::Error) -> bool {
    e.downcast_ref::<gateway::Status>()
        .is_some_and(|s| s.code == gateway::NOT_FOUND)
}

/// Why `token` is not the current holding of `name` (exit 6), in the file store's words
/// plus the one etcd-only case: an expired lease, whose key etcd deleted.
fn not_current(name: &LeaseName, token: Token, held: Option<Key>, record: Option<Key>) -> Error {
    let current = held.as_ref().or(record.as_ref()).map(|k| &k.entry);
    match current {
        None => Error::Lost(format!("token {token} was never issued for lease {name}")),
        Some(e) if token < e.token => Error::Lost(format!(
            "token {token} of lease {name} is stale: the lease was taken over (current token {}, \
             holder {})",
            e.token, e.holder
        )),
        Some(e) if token > e.token => Error::Lost(format!(
            "token {token} was never issued for lease {name} (current token {})",
            e.token
        )),
        Some(e) if e.state == "released" => Error::Lost(format!("lease {name} was released")),
        Some(_) => Error::Lost(format!(
            "lease {name} expired: etcd deleted it when its TTL ran out, and an expired lease \
             cannot be renewed on etcd (acquire it again)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::LeaseState;

    fn key(token: u64, state: &str) -> Key {
        Key {
            kv: KeyValue {
                key: Vec::new(),
                create_revision: 1,
                mod_revision: 1,
                value: Vec::new(),
                lease: 1,
            },
            entry: Entry {
                name: "L".into(),
                token: Token(token),
                holder: "other".into(),
                pid: 7,
                host: "h".into(),
                ttl_ms: 30_000,
                acquired_wall_ms: 1_700_000_000_000,
                state: state.into(),
            },
        }
    }

    /// Why a token is not the current holding: stale (taken over), never issued (beyond
    /// the current one, or no lease at all), released, or expired; the held key decides
    /// over the record.
    #[test]
    fn a_token_that_is_not_current_is_named_stale_unissued_released_or_expired() {
        let name: LeaseName = "L".parse().unwrap();
        let why = |token, held: Option<Key>, record: Option<Key>| {
            let e = not_current(&name, Token(token), held, record);
            assert!(matches!(e, Error::Lost(_)), "{e:?}");
            e.to_string()
        };
        let stale = why(3, Some(key(5, "held")), None);
        assert!(
            stale.contains("is stale") && stale.contains("current token 5"),
            "{stale}"
        );
        let ahead = why(9, None, Some(key(5, "held")));
        assert!(
            ahead.contains("never issued") && ahead.contains("(current token 5)"),
            "{ahead}"
        );
        assert_eq!(why(1, None, None), "token 1 was never issued for lease L");
        assert_eq!(
            why(5, None, Some(key(5, "released"))),
            "lease L was released"
        );
        assert!(why(5, None, Some(key(5, "held"))).contains("expired"));
        // The held key (a newer holding) decides over the record.
        let over = why(5, Some(key(6, "held")), Some(key(5, "released")));
        assert!(over.contains("is stale"), "{over}");
    }

    /// A store (prefix `t`) whose etcd is a [`gateway::tests::fake_gateway`] answering
    /// with `reply`, and the log of what it was asked.
    fn fake_store(
        reply: impl Fn(&str, &str, usize) -> (u16, String) + Send + 'static,
    ) -> (EtcdStore, gateway::tests::Log) {
        let (url, log) = gateway::tests::fake_gateway(reply);
        let gw = Gateway::new(vec![url], &gateway::Tls::default(), None).unwrap();
        (EtcdStore::new(gw, "t").unwrap(), log)
    }

    /// Revoking an etcd lease that is gone already (gRPC NOT_FOUND: it expired, or another
    /// release revoked it) is fine; any other refusal is an error, which a release reports.
    #[test]
    fn revoking_a_lease_that_is_gone_is_fine_and_any_other_refusal_is_an_error() {
        let store = |answer: &'static str| fake_store(move |_, _, _| (400, answer.into()));
        let (gone, log) = store(r#"{"error":"etcdserver: requested lease not found","code":5}"#);
        gone.rt.block_on(gone.revoke(0x1f)).unwrap();
        assert_eq!(log.lock().unwrap()[0].0, "/v3/lease/revoke");
        let (denied, _) = store(r#"{"error":"etcdserver: permission denied","code":7}"#);
        let err = denied.rt.block_on(denied.revoke(0x1f)).unwrap_err();
        assert!(format!("{err:#}").contains("permission denied"), "{err:#}");
    }

    /// A granted TTL is taken up to the larger of the TTL asked and etcd's largest minimum
    /// ([`MAX_MIN_TTL_SECS`]), that bound included; one second more is refused, and that
    /// etcd lease revoked at once.
    #[test]
    fn a_granted_ttl_is_taken_up_to_the_ttl_asked_or_etcds_minimum_and_refused_past_it() {
        let grant = |asked: u64, granted: i64| {
            let (store, log) = fake_store(move |path, _, _| match path {
                "/v3/lease/grant" => (200, format!(r#"{{"ID":"31","TTL":"{granted}"}}"#)),
                _ => (200, "{}".into()),
            });
            let got = store.rt.block_on(store.grant(Duration::from_secs(asked)));
            let paths: Vec<String> = log.lock().unwrap().iter().map(|r| r.0.clone()).collect();
            (got.map(|g| (g.id, g.ttl)).map_err(|e| e.to_string()), paths)
        };
        let min = MAX_MIN_TTL_SECS;
        for (asked, granted) in [(5, min), (100, 100)] {
            let (got, paths) = grant(asked, granted);
            assert_eq!(got, Ok((31, granted)), "asked {asked}");
            assert_eq!(paths, ["/v3/lease/grant"]);
        }
        for (asked, granted) in [(5, min + 1), (100, 101)] {
            let (got, paths) = grant(asked, granted);
            let err = got.unwrap_err();
            assert!(
                err.contains(&format!(
                    "granted a TTL of {granted}s for a {asked}s request"
                )),
                "{err}"
            );
            assert_eq!(paths, ["/v3/lease/grant", "/v3/lease/revoke"]);
        }
    }

    /// A release whose transaction was applied but whose answer was lost (the gateway's
    /// retry then fails its compare), the freed key taken by another host since: while the
    /// released holding's etcd lease has time left, the delete was ours, and the release
    /// succeeds (revoking that etcd lease); with none left (0 s, or gone) it is refused.
    #[test]
    fn a_release_applied_but_unanswered_is_ours_while_its_etcd_lease_has_time_left() {
        fn read(token: u64, create: i64, lease: i64) -> String {
            let kv = json!({
                "key": b64(b"t/held/L"), "value": encode(&key(token, "held").entry).unwrap(),
                "create_revision": create.to_string(), "mod_revision": create.to_string(),
                "lease": lease.to_string(),
            });
            json!({"succeeded": true,
                   "responses": [{"response_range": {"kvs": [kv]}}, {"response_range": {}}]})
            .to_string()
        }
        let release = |ttl_left: i64| {
            let (store, log) = fake_store(move |path, _, before| {
                match (path, before) {
                    (_, 0) => (200, read(5, 10, 0x51)),               // ours
                    (_, 1) => (503, String::new()), // the release: applied, answer lost
                    (_, 2) => (200, r#"{"succeeded":false}"#.into()), // its retry
                    (_, 3) => (200, read(6, 12, 0x52)), // taken by another host since
                    ("/v3/lease/timetolive", _) => (200, format!(r#"{{"TTL":"{ttl_left}"}}"#)),
                    _ => (200, "{}".into()),
                }
            });
            let name: LeaseName = "L".parse().unwrap();
            let got = store.rt.block_on(store.release_async(&name, Token(5)));
            let paths: Vec<String> = log.lock().unwrap().iter().map(|r| r.0.clone()).collect();
            (got.map_err(|e| e.to_string()), paths)
        };
        let (got, paths) = release(3);
        assert_eq!(got, Ok(()));
        assert_eq!(paths[4..], ["/v3/lease/timetolive", "/v3/lease/revoke"]);
        for ttl_left in [0, -1] {
            let (got, paths) = release(ttl_left);
            let err = got.unwrap_err();
            assert!(err.contains("is stale"), "{err}");
            assert_eq!(paths.len(), 5, "nothing revoked: {paths:?}");
        }
    }

    /// `status` of a lease: held while its etcd lease has time left (rounded up to whole
    /// seconds, within the TTL), expired once it has none, released as the record says.
    #[test]
    fn a_lease_is_held_expired_or_released_by_its_keys_and_time_to_live() {
        let gw = Gateway::new(
            vec![reqwest::Url::parse("http://127.0.0.1:9").unwrap()],
            &gateway::Tls::default(),
            None,
        )
        .unwrap();
        let store = EtcdStore::new(gw, "t").unwrap();
        assert_eq!(store.endpoints(), "http://127.0.0.1:9/");
        let held = key(5, "held");
        let info = store.info(Some(&held), 9, None);
        assert_eq!((info.state, info.left_ms), (LeaseState::Held, 10_000));
        let info = store.info(Some(&held), 0, None);
        assert_eq!((info.state, info.left_ms), (LeaseState::Held, 1_000));
        let info = store.info(Some(&held), 40, None);
        assert_eq!(info.left_ms, 30_000, "never more than the TTL");
        let info = store.info(Some(&held), -1, None);
        assert_eq!((info.state, info.left_ms), (LeaseState::Expired, 0));
        let info = store.info(None, -1, Some(&key(5, "released")));
        assert_eq!(info.state, LeaseState::Released);
        let info = store.info(None, -1, Some(&held));
        assert_eq!(info.state, LeaseState::Expired);
        assert_eq!(
            (info.token, info.acquired_at.as_str()),
            (Token(5), "2023-11-14T22:13:20.000Z")
        );
        // Its age by the wall clock: acquired in November 2023, so more than a year.
        let year_ms = 365 * 86_400_000;
        assert!(
            info.age_ms > year_ms && info.age_ms < 100 * year_ms,
            "{}",
            info.age_ms
        );
    }

    #[test]
    fn ttls_round_up_to_whole_seconds() {
        let table = [
            (1, 1),
            (500, 1),
            (1000, 1),
            (1001, 2),
            (2500, 3),
            (30_000, 30),
        ];
        for (ms, secs) in table {
            assert_eq!(ttl_secs(Duration::from_millis(ms)), secs, "{ms} ms");
        }
    }
}
