//! `voxctl lease` on etcd, against a real etcd started by the tests
//! (`support::etcd`): two "hosts" hammering one counter, a SIGSTOPped holder, the leader of a
//! 3-member cluster killed during a hammer, etcd down, and the same commands, `--json` shapes
//! and exit codes as the file store.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use support::etcd::Etcd;
use support::lease::{exists, field, kill_group, signal, wait_for_line, Spawned};
use support::voxctl_std;
use voxctl::lease::{Lease, LeaseInfo, LeaseList, LeaseState, LeaseStatus, Released};

/// A `voxctl` for "host" `state` using `store`.
fn vox(state: &Path, store: &str) -> std::process::Command {
    let mut cmd = voxctl_std(state);
    cmd.env("VOXCTL_LEASE_STORE", store);
    cmd
}

fn out(cmd: &mut std::process::Command) -> std::process::Output {
    cmd.output().expect("run voxctl")
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The `--json` document of a successful command, decoded into the library's type.
fn json<T: serde::de::DeserializeOwned + serde::Serialize>(o: &std::process::Output) -> T {
    assert!(o.status.success(), "{o:?}");
    support::json_doc(&o.stdout)
}

/// `lease status --json` of a lease that has a record.
fn recorded(o: &std::process::Output) -> LeaseInfo {
    match json(o) {
        LeaseStatus::Recorded(info) => info,
        free => panic!("no record: {free:?}"),
    }
}

/// Runs `workers` threads x `runs` `lease run L` of a critical section that increments a
/// counter file and logs `start end token` (µs). Thread `i` is "host" `i % 2`: its own state
/// dir and holder id. Returns the log, sorted by start.
fn hammer(
    store: &str,
    tmp: &Path,
    workers: usize,
    runs: usize,
    progress: Option<Arc<AtomicBool>>,
) -> Vec<(u64, u64, u64)> {
    let work = tmp.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("counter"), "0\n").unwrap();
    let script = r#"s=$EPOCHREALTIME; read c < "$W/counter"; sleep 0.002;
        echo $((c+1)) > "$W/counter"; e=$EPOCHREALTIME;
        echo "$s $e $VOXCTL_LEASE_TOKEN" >> "$W/log""#;
    let threads: Vec<_> = (0..workers)
        .map(|i| {
            let host = ["host-a", "host-b"][i % 2];
            let state: PathBuf = tmp.join(host);
            let (work, store) = (work.clone(), store.to_string());
            let progress = progress.clone();
            std::thread::spawn(move || {
                for r in 0..runs {
                    let o = vox(&state, &store)
                        .args(["lease", "run", "L", "--ttl", "15s", "--wait", "300s"])
                        .args(["--holder", &format!("{host}/worker-{i}/run-{r}")])
                        .args(["--", "bash", "-c", script])
                        .env("W", &work)
                        .env("LC_ALL", "C")
                        .output()
                        .unwrap();
                    assert!(o.status.success(), "lease run failed: {o:?}");
                    if let Some(p) = &progress {
                        p.store(true, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let counter = std::fs::read_to_string(work.join("counter")).unwrap();
    assert_eq!(counter.trim(), (workers * runs).to_string());
    let log = std::fs::read_to_string(work.join("log")).unwrap();
    let us = |s: &str| -> u64 { s.replace(['.', ','], "").parse().unwrap() };
    let mut entries: Vec<(u64, u64, u64)> = log
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (us(f[0]), us(f[1]), f[2].parse().unwrap())
        })
        .collect();
    assert_eq!(entries.len(), workers * runs);
    entries.sort();
    entries
}

/// No two critical sections overlap, and tokens strictly increase in order of start (so no
/// token repeats).
fn assert_serialized(entries: &[(u64, u64, u64)]) {
    for w in entries.windows(2) {
        let ((_, end, tok), (start, _, next_tok)) = (w[0], w[1]);
        assert!(
            start >= end,
            "critical sections overlap: {:?} and {:?}",
            w[0],
            w[1]
        );
        assert!(
            next_tok > tok,
            "tokens not strictly increasing: {:?} then {:?}",
            w[0],
            w[1]
        );
    }
}

/// Two hosts (two state dirs, holder ids) share one etcd: 8 x 25 `lease run`.
#[test]
fn two_hosts_hammer_one_counter_through_etcd() {
    let etcd = Etcd::start();
    let tmp = tempfile::tempdir().unwrap();
    let entries = hammer(&etcd.store_url("hammer"), tmp.path(), 8, 25, None);
    assert_serialized(&entries);
}

/// SIGSTOP the voxctl of a `lease run` past its TTL: another host acquires; on
/// SIGCONT the first one's keepalive finds the etcd lease gone, its command gets SIGTERM and
/// it exits 6; the new holder is undisturbed.
#[test]
fn sigstopped_holder_loses_the_etcd_lease_and_kills_its_command() {
    let etcd = Etcd::start();
    let store = etcd.store_url("stop");
    let tmp = tempfile::tempdir().unwrap();
    let (a_info, a_term) = (tmp.path().join("a"), tmp.path().join("a.term"));
    let mut cmd = vox(&tmp.path().join("host-a"), &store);
    cmd.args([
        "lease",
        "run",
        "L",
        "--ttl",
        "2s",
        "--kill-grace",
        "5s",
        "--",
    ])
    .args([
        "sh",
        "-c",
        r#"trap 'echo term > "$2"; exit 0' TERM; echo "$$ $VOXCTL_LEASE_TOKEN" > "$1";
               while :; do sleep 0.05; done"#,
        "sh",
    ])
    .arg(&a_info)
    .arg(&a_term);
    let mut a = Spawned::spawn(cmd);
    let line = wait_for_line(&a_info, Duration::from_secs(30));
    let (a_child, a_token): (i32, u64) = (field(&line, 0), field(&line, 1));
    signal(a.pid(), Signal::SIGSTOP);

    let (b_info, b_done) = (tmp.path().join("b"), tmp.path().join("b.done"));
    let mut cmd = vox(&tmp.path().join("host-b"), &store);
    cmd.args(["lease", "run", "L", "--ttl", "10s", "--wait", "30s", "--"])
        .args([
            "sh",
            "-c",
            r#"echo "$VOXCTL_LEASE_TOKEN" > "$1"; sleep 2; echo done > "$2""#,
            "sh",
        ])
        .arg(&b_info)
        .arg(&b_done);
    let mut b = Spawned::spawn(cmd);
    let b_token: u64 = field(&wait_for_line(&b_info, Duration::from_secs(30)), 0);
    assert!(b_token > a_token, "{b_token} > {a_token}");
    signal(a.pid(), Signal::SIGCONT);

    let a_status = a.wait_timeout(Duration::from_secs(30)).expect("A exits");
    assert_eq!(a_status.code(), Some(6), "the stopped holder exits 6");
    assert!(a_term.exists(), "A's command got SIGTERM");
    assert!(!exists(a_child), "A's command is gone");
    kill_group(a_child);
    let b_status = b.wait_timeout(Duration::from_secs(30)).expect("B exits");
    assert!(b_status.success(), "B undisturbed: {b_status:?}");
    assert!(b_done.exists(), "B's command ran to its end");
    let st = recorded(&out(
        vox(tmp.path(), &store).args(["--json", "lease", "status", "L"])
    ));
    assert_eq!((st.token.0, st.state), (b_token, LeaseState::Released));
}

/// SIGKILL the leader of a 3-member cluster in the middle of a hammer: every run
/// still succeeds, no two critical sections overlap, no token repeats, and runs go on after
/// the kill.
#[test]
fn leader_killed_during_a_hammer() {
    let mut etcd = Etcd::cluster(3);
    let store = etcd.store_url("failover");
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("work").join("log");
    let started = Arc::new(AtomicBool::new(false));
    let hammer_thread = {
        let (store, dir, started) = (store.clone(), tmp.path().to_path_buf(), started.clone());
        std::thread::spawn(move || hammer(&store, &dir, 4, 25, Some(started)))
    };
    // Kill the leader once a third of the runs are done.
    let deadline = Instant::now() + Duration::from_secs(300);
    let lines = || std::fs::read_to_string(&log).map_or(0, |s| s.lines().count());
    while lines() < 33 {
        assert!(Instant::now() < deadline, "the hammer made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    let leader = etcd.leader().expect("a leader");
    let before = lines();
    etcd.kill(leader);
    let entries = hammer_thread.join().expect("every run succeeded");
    assert!(
        entries.len() > before,
        "runs resumed after the leader was killed"
    );
    assert_serialized(&entries);
    let new_leader = etcd.leader().expect("a new leader");
    assert_ne!(new_leader, leader);
}

/// etcd down: exit 1 naming every endpoint tried, with a hint, in bounded time;
/// both for a port nobody listens on and for a listener that never answers.
#[test]
fn etcd_down_exits_1_naming_the_endpoints() {
    let tmp = tempfile::tempdir().unwrap();
    // A member that was running and was killed: connection refused.
    let mut etcd = Etcd::start();
    let store = etcd.store_url("down");
    etcd.kill(0);
    let port = etcd.members[0].client_port;
    // A listener that accepts connections (the kernel does) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    for (store, bound) in [
        (store, Duration::from_secs(10)),
        (
            format!("etcd://127.0.0.1:{port},127.0.0.1:{silent_port}"),
            Duration::from_secs(40),
        ),
    ] {
        let refused = !store.contains(&silent_port.to_string());
        let ops = [
            &["lease", "acquire", "L"][..],
            &["lease", "status", "L"],
            &["lease", "release", "L", "--token", "5"],
        ];
        // A silent endpoint costs the whole bound: try one operation there.
        for args in &ops[..if refused { 3 } else { 1 }] {
            let t = Instant::now();
            let o = out(vox(tmp.path(), &store).args(*args));
            let took = t.elapsed();
            assert_eq!(o.status.code(), Some(1), "{args:?} on {store}: {o:?}");
            let err = stderr(&o);
            assert!(
                err.contains("etcd is unreachable")
                    && err.contains(&format!("http://127.0.0.1:{port}/"))
                    && err.contains("hint:"),
                "{err}"
            );
            if !refused {
                assert!(err.contains(&format!("127.0.0.1:{silent_port}")), "{err}");
            }
            assert!(took < bound, "{args:?} took {took:?} (bound {bound:?})");
        }
    }
    drop(silent);
}

/// The same commands, `--json` shapes and exit codes as the file store, plus etcd's own
/// rules: the granted TTL (whole seconds, server minimum) is printed and recorded, `renew
/// --ttl` moves the key to a new etcd lease keeping the token, an expired lease cannot be
/// renewed (exit 6), `--wait` is woken by the release.
#[test]
fn same_commands_shapes_and_exit_codes_as_the_file_store() {
    let etcd = Etcd::start();
    let store = etcd.store_url("shapes");
    let tmp = tempfile::tempdir().unwrap();
    let st = tmp.path();
    // Both stores print exactly what the library's types serialize to (`json` checks it).
    let acq_out = out(vox(st, &store).args([
        "--json", "lease", "acquire", "L", "--ttl", "30s", "--holder", "me",
    ]));
    let file_acq_out = out(voxctl_std(st).args([
        "--json", "lease", "--store", "file", "acquire", "F", "--ttl", "30s", "--holder", "me",
    ]));
    let (acq, file_acq): (Lease, Lease) = (json(&acq_out), json(&file_acq_out));
    assert_eq!(keys(&acq_out), keys(&file_acq_out));
    assert_eq!(
        (
            file_acq.holder.as_str(),
            file_acq.ttl_ms,
            file_acq.name.as_str()
        ),
        ("me", 30_000, "F")
    );
    assert_eq!((acq.holder.as_str(), acq.ttl_ms), ("me", 30_000));
    // Both say when the lease runs out by the wall clock: the acquire's time plus the TTL.
    let now = std::time::SystemTime::now();
    for lease in [&acq, &file_acq] {
        let ends = humantime::parse_rfc3339(&lease.expires_at).unwrap();
        let left = ends.duration_since(now).unwrap_or_default();
        assert!(
            left > Duration::from_secs(20) && left <= Duration::from_secs(31),
            "{lease:?}"
        );
    }
    let token = acq.token.0;
    let status = recorded(&out(
        vox(st, &store).args(["--json", "lease", "status", "L"])
    ));
    let status_out = out(vox(st, &store).args(["--json", "lease", "status", "L"]));
    let file_status_out = out(voxctl_std(st).args(["--json", "lease", "status", "F"]));
    let file_status = recorded(&file_status_out);
    assert_eq!(keys(&status_out), keys(&file_status_out));
    assert_eq!(
        (
            file_status.state,
            file_status.token,
            file_status.holder.as_str()
        ),
        (LeaseState::Held, file_acq.token, "me")
    );
    assert_eq!(status.state, LeaseState::Held);
    assert!(status.left_ms > 20_000, "{status:?}");
    // Both say when the lease was acquired by the wall clock: just before `now`.
    for info in [&status, &file_status] {
        let at = humantime::parse_rfc3339(&info.acquired_at).unwrap();
        let ago = now.duration_since(at).unwrap_or_default();
        assert!(ago < Duration::from_secs(10), "{info:?}");
    }
    let list: LeaseList = json(&out(vox(st, &store).args(["--json", "lease", "list"])));
    assert_eq!(list.leases.len(), 1);
    assert_eq!(list.leases[0].token, acq.token);
    // Listed as its held key says (not as its record would, expired).
    assert_eq!(list.leases[0].state, LeaseState::Held, "{list:?}");

    // Busy (4), stale (6), never issued (6), bad store URL (2).
    let busy = out(vox(st, &store).args(["lease", "acquire", "L"]));
    assert_eq!(busy.status.code(), Some(4), "{busy:?}");
    assert!(stderr(&busy).contains("held by me"), "{busy:?}");
    let never =
        out(vox(st, &store).args(["lease", "renew", "L", "--token", &(token + 1).to_string()]));
    assert_eq!(never.status.code(), Some(6), "{never:?}");
    let bad = out(vox(st, "etcd://user:pw@127.0.0.1:1").args(["lease", "list"]));
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");

    // renew --ttl: a new etcd lease, same token and holding.
    let lease_id = |etcd: &Etcd| {
        let body = format!(r#"{{"key":"{}"}}"#, b64("shapes/held/L"));
        let r = support::etcd::http(etcd.members[0].client_port, "POST", "/v3/kv/range", &body)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&r).unwrap();
        (
            v["kvs"][0]["lease"].as_str().unwrap().to_string(),
            v["kvs"][0]["create_revision"].as_str().unwrap().to_string(),
        )
    };
    let (old_lease, created) = lease_id(&etcd);
    let renew_ttl = |ttl: &str| -> Lease {
        json(&out(vox(st, &store).args([
            "--json",
            "lease",
            "renew",
            "L",
            "--token",
            &token.to_string(),
            "--ttl",
            ttl,
        ])))
    };
    // renew --ttl of the TTL it has: a keepalive of the same etcd lease.
    let same: Lease = renew_ttl("30s");
    assert_eq!((same.token, same.ttl_ms), (acq.token, 30_000));
    assert_eq!(lease_id(&etcd), (old_lease.clone(), created.clone()));
    let renewed: Lease = renew_ttl("3s");
    assert_eq!((renewed.token, renewed.ttl_ms), (acq.token, 3000));
    let (new_lease, created_again) = lease_id(&etcd);
    assert_ne!(
        new_lease, old_lease,
        "renew --ttl moved the key to a new etcd lease"
    );
    assert_eq!(created_again, created, "in place: the same create_revision");

    // --wait is woken by the watch when the lease is released (TTL 3s now; the waiter waits
    // up to 30s). The waiter is frozen just before its first wait on the watch, the lease
    // released, the waiter resumed: the watch has the deletion queued, so it wakes at once,
    // long before its 1 s recheck (RECHECK) and the 3 s TTL would have let it look again.
    let waiter = crate::lease_etcd_races::frozen_at(
        st,
        &store,
        "lease:acquire:wait",
        &["acquire", "L", "--wait", "30s", "--ttl", "500ms"],
    );
    let rel: Released = json(&out(vox(st, &store).args([
        "--json",
        "lease",
        "release",
        "L",
        "--token",
        &token.to_string(),
    ])));
    assert_eq!(
        (rel.name.as_str(), rel.released, rel.token),
        ("L", true, acq.token)
    );
    let resumed = Instant::now();
    let (w, stops) = crate::lease_etcd_races::resume(waiter);
    let woke = resumed.elapsed();
    assert!(w.status.success(), "{w:?}");
    assert_eq!(stops, 0, "it waited once");
    assert!(
        woke < voxctl::lease::etcd::RECHECK * 7 / 10,
        "woken {woke:?} after the release: not by the watch"
    );
    let t2 = support::json_doc::<Lease>(&w.stdout).token.0;
    assert!(t2 > token);
    // Asked 500ms: granted etcd's minimum (2s on defaults), said on stderr, recorded.
    assert!(stderr(&w).contains("granted a TTL of 2s"), "{w:?}");
    let s = recorded(&out(
        vox(st, &store).args(["--json", "lease", "status", "L"])
    ));
    assert_eq!(s.ttl_ms, 2000);

    // Let it expire: etcd deletes the key, and renew is refused (exit 6) where the file
    // store would allow it.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = recorded(&out(
            vox(st, &store).args(["--json", "lease", "status", "L"])
        ));
        if s.state == LeaseState::Expired {
            break;
        }
        assert!(Instant::now() < deadline, "never expired: {s:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = out(vox(st, &store).args(["lease", "renew", "L", "--token", &t2.to_string()]));
    assert_eq!(r.status.code(), Some(6), "{r:?}");
    assert!(stderr(&r).contains("expired"), "{r:?}");
    // Releasing an expired lease nobody took over is fine (as on the file store).
    let r = out(vox(st, &store).args(["lease", "release", "L", "--token", &t2.to_string()]));
    assert!(r.status.success(), "{r:?}");
    let s = recorded(&out(
        vox(st, &store).args(["--json", "lease", "status", "L"])
    ));
    assert_eq!(s.state, LeaseState::Released);
}

/// The field names of a `--json` document, sorted (nested objects by path).
fn keys(o: &std::process::Output) -> Vec<String> {
    fn walk(v: &serde_json::Value, path: &str, out: &mut Vec<String>) {
        if let Some(m) = v.as_object() {
            for (k, v) in m {
                let p = format!("{path}/{k}");
                walk(v, &p, out);
                out.push(p);
            }
        }
    }
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut out = Vec::new();
    walk(&v, "", &mut out);
    out.sort();
    out
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// CLOCK_BOOTTIME in seconds, as the shell sees it (`/proc/uptime`, 10 ms resolution).
fn uptime() -> f64 {
    let s = std::fs::read_to_string("/proc/uptime").unwrap();
    s.split_whitespace().next().unwrap().parse().unwrap()
}

/// The deadline rule: etcd stops answering (SIGSTOP) while `lease run` holds a
/// 5 s lease; the command, which ignores SIGTERM, gets SIGTERM and then SIGKILL, and is gone
/// before the granted TTL after the acquire has passed, so no other holder can overlap it.
/// voxctl exits 6 saying what happened.
#[test]
fn unreachable_etcd_stops_the_command_before_the_lease_can_run_out() {
    let etcd = Etcd::start();
    let store = etcd.store_url("deadline");
    let tmp = tempfile::tempdir().unwrap();
    let (info, term) = (tmp.path().join("info"), tmp.path().join("term"));
    let mut cmd = vox(tmp.path(), &store);
    cmd.args([
        "lease",
        "run",
        "L",
        "--ttl",
        "5s",
        "--kill-grace",
        "10s",
        "--",
    ])
    .args([
        "bash",
        "-c",
        r#"trap 'read up _ < /proc/uptime; echo "$up" > "$2"' TERM;
               read up _ < /proc/uptime; echo "$up $$" > "$1";
               while :; do sleep 0.05; done"#,
        "bash",
    ])
    .arg(&info)
    .arg(&term);
    let mut run = Spawned::spawn(cmd);
    let line = wait_for_line(&info, Duration::from_secs(30));
    let (started, child): (f64, i32) = (field(&line, 0), field(&line, 1));
    signal(etcd.pid(0), Signal::SIGSTOP);
    let status = run
        .wait_timeout(Duration::from_secs(60))
        .expect("voxctl exits");
    let ended = uptime();
    signal(etcd.pid(0), Signal::SIGCONT);
    assert_eq!(
        status.code(),
        Some(6),
        "exit 6 when the lease cannot be kept"
    );
    assert!(!exists(child), "the command is gone");
    kill_group(child);
    let termed: f64 = field(&wait_for_line(&term, Duration::from_secs(1)), 0);
    // The lease was acquired before the command started: it can run out no earlier than
    // 5 s after that. The command was gone (voxctl waits for it) before then.
    assert!(
        ended < started + 5.0,
        "the command outlived the lease: started {started}, gone after {ended}"
    );
    assert!(
        termed < ended,
        "SIGTERM ({termed}) came before the end ({ended})"
    );
}

/// `etcds://`: the CA and the client certificate come from `VOXCTL_ETCD_CACERT`,
/// `VOXCTL_ETCD_CERT` and `VOXCTL_ETCD_KEY`; without the CA the server is not trusted, and
/// without the client certificate etcd refuses: exit 1 both times.
#[test]
fn etcds_with_ca_and_client_certificate_from_the_environment() {
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = support::etcd::Pki::create(pki_dir.path());
    let etcd = Etcd::start_tls(&pki);
    let port = etcd.members[0].client_port;
    let store = format!("etcds://127.0.0.1:{port}/tls");
    let tmp = tempfile::tempdir().unwrap();
    let with = |ca: bool, client: bool| {
        let mut cmd = vox(tmp.path(), &store);
        if ca {
            cmd.env("VOXCTL_ETCD_CACERT", &pki.ca_cert);
        }
        if client {
            cmd.env("VOXCTL_ETCD_CERT", &pki.client_cert);
            cmd.env("VOXCTL_ETCD_KEY", &pki.client_key);
        }
        cmd
    };
    let acq: Lease = json(&out(
        with(true, true).args(["--json", "lease", "acquire", "L"])
    ));
    let token = acq.token;
    let list: LeaseList = json(&out(with(true, true).args(["--json", "lease", "list"])));
    assert_eq!(list.leases[0].token, token);
    for (ca, client) in [(false, true), (true, false)] {
        let o = out(with(ca, client).args(["lease", "list"]));
        assert_eq!(o.status.code(), Some(1), "ca {ca} client {client}: {o:?}");
        assert!(
            stderr(&o).contains(&format!("https://127.0.0.1:{port}/")),
            "{o:?}"
        );
    }
    let o = out(with(true, true).args(["lease", "release", "L", "--token", &token.to_string()]));
    assert!(o.status.success(), "{o:?}");
}

/// etcd authentication: `VOXCTL_ETCD_USER` with `VOXCTL_ETCD_PASSWORD` or
/// `VOXCTL_ETCD_PASSWORD_FILE`; a wrong password or none is refused (exit 1), naming the user.
#[test]
fn etcd_user_and_password_from_the_environment() {
    let etcd = Etcd::start();
    for args in [
        &["user", "add", "root:s3cret", "--interactive=false"][..],
        &["auth", "enable"],
    ] {
        let o = etcd.etcdctl(None).args(args).output().unwrap();
        assert!(o.status.success(), "etcdctl {args:?}: {o:?}");
    }
    let store = etcd.store_url("auth");
    let tmp = tempfile::tempdir().unwrap();
    let pw_file = tmp.path().join("pw");
    std::fs::write(&pw_file, "s3cret\n").unwrap();
    let acq: Lease = json(&out(vox(tmp.path(), &store)
        .env("VOXCTL_ETCD_USER", "root")
        .env("VOXCTL_ETCD_PASSWORD_FILE", &pw_file)
        .args(["--json", "lease", "acquire", "L"])));
    let token = acq.token;
    let o = out(vox(tmp.path(), &store)
        .env("VOXCTL_ETCD_USER", "root")
        .env("VOXCTL_ETCD_PASSWORD", "s3cret")
        .args(["lease", "release", "L", "--token", &token.to_string()]));
    assert!(o.status.success(), "{o:?}");
    let o = out(vox(tmp.path(), &store)
        .env("VOXCTL_ETCD_USER", "root")
        .env("VOXCTL_ETCD_PASSWORD", "wrong")
        .args(["lease", "list"]));
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(stderr(&o).contains("refused user \"root\""), "{o:?}");
    let o = out(vox(tmp.path(), &store).args(["lease", "list"]));
    assert_eq!(o.status.code(), Some(1), "no credentials: {o:?}");
}

/// `lease run` keeps an etcd lease past its TTL by keepalives (2 s granted, renewed every
/// 0.67 s, each checked to be still ours), and the command's token stays the one acquired.
#[test]
fn run_keeps_the_etcd_lease_alive_past_its_ttl() {
    let etcd = Etcd::start();
    let store = etcd.store_url("keepalive");
    let tmp = tempfile::tempdir().unwrap();
    let o = out(vox(tmp.path(), &store)
        .args(["lease", "run", "L", "--ttl", "2s", "--"])
        .args([
            "sh",
            "-c",
            "echo $VOXCTL_LEASE_TOKEN; sleep 5; echo $VOXCTL_LEASE_TOKEN",
        ]));
    assert!(o.status.success(), "{o:?}");
    let s = String::from_utf8_lossy(&o.stdout);
    let tokens: Vec<&str> = s.lines().collect();
    assert_eq!(tokens.len(), 2);
    let st = recorded(&out(
        vox(tmp.path(), &store).args(["--json", "lease", "status", "L"])
    ));
    assert_eq!(Some(st.token.0), tokens[0].parse().ok());
    assert_eq!(
        st.state,
        LeaseState::Released,
        "released by its holder, not expired: {st:?}"
    );
}

/// An acquire that etcd answers late (as under load; here etcd is stopped for 2.5 s of a 3 s
/// TTL) must not start the command only for the deadline rule to kill it at once, before the
/// first renewal is due: the lease is renewed before the command starts, and the command runs
/// to its end.
#[test]
fn a_slow_acquire_is_confirmed_before_the_command_starts() {
    let etcd = Etcd::start();
    let store = etcd.store_url("slow");
    let tmp = tempfile::tempdir().unwrap();
    let done = tmp.path().join("done");
    signal(etcd.pid(0), Signal::SIGSTOP);
    let mut cmd = vox(tmp.path(), &store);
    cmd.args(["lease", "run", "L", "--ttl", "3s", "--"])
        .args(["sh", "-c", r#"sleep 4; echo done > "$1""#, "sh"])
        .arg(&done);
    let mut run = Spawned::spawn(cmd);
    // The acquire's request is in etcd's socket, unanswered; etcd answers it 2.5 s later.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !unread_request_to(etcd.members[0].client_port) {
        assert!(Instant::now() < deadline, "voxctl never sent its acquire");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(2500));
    signal(etcd.pid(0), Signal::SIGCONT);
    let status = run
        .wait_timeout(Duration::from_secs(60))
        .expect("voxctl exits");
    assert!(status.success(), "{status:?}");
    assert!(done.exists(), "the command ran to its end");
}

/// Whether a TCP connection to loopback `port` holds bytes its server has not read
/// (`/proc/net/tcp`: local port, ESTABLISHED, a non-zero receive queue): a request sent to a
/// stopped server.
fn unread_request_to(port: u16) -> bool {
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    tcp.lines().skip(1).any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let local_port = f[1]
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok());
        let rx = f[4]
            .split(':')
            .nth(1)
            .and_then(|q| u64::from_str_radix(q, 16).ok());
        local_port == Some(port) && f[3] == "01" && rx.is_some_and(|n| n > 0)
    })
}

/// A record at `u64::MAX` (as after a restore of a hostile snapshot): the acquire fails with
/// exit 1 naming the key instead of issuing a token twice, as on the file store.
#[test]
fn a_saturated_token_in_etcd_is_not_issued_twice() {
    let etcd = Etcd::start();
    let store = etcd.store_url("sat");
    let tmp = tempfile::tempdir().unwrap();
    let entry = serde_json::json!({
        "name": "L", "token": u64::MAX, "holder": "h", "pid": 1, "host": "x",
        "ttl_ms": 2000, "acquired_wall_ms": 0, "state": "released",
    });
    let body = format!(
        r#"{{"key":"{}","value":"{}"}}"#,
        b64("sat/record/L"),
        b64(&entry.to_string())
    );
    let port = etcd.members[0].client_port;
    support::etcd::http(port, "POST", "/v3/kv/put", &body).expect("put the record");
    let o = out(vox(tmp.path(), &store).args(["lease", "acquire", "L"]));
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(stderr(&o).contains("sat/record/L"), "{o:?}");
    let st = recorded(&out(
        vox(tmp.path(), &store).args(["--json", "lease", "status", "L"])
    ));
    assert_eq!(st.token.0, u64::MAX);
}
