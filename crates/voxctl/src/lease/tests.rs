//! Table tests of the pure lease decisions, with injected clocks, and of the file store
//! within one process.

use super::*;

fn rec(boot: &str, expires_boot_ms: u64, released: bool) -> LeaseRecord {
    LeaseRecord {
        name: "L".into(),
        token: Token(5),
        holder: "h".into(),
        pid: 1,
        host: "x".into(),
        boot_id: boot.into(),
        ttl_ms: 1000,
        acquired_boot_ms: expires_boot_ms - 1000,
        expires_boot_ms,
        acquired_wall_ms: 1_700_000_000_000,
        released,
        owner: None,
    }
}

fn now(boot: &str, boot_ms: u64, wall_us: u64) -> Now {
    Now {
        boot_ms,
        wall_us,
        boot_id: boot.into(),
    }
}

#[test]
fn standing_depends_on_boot_clock_and_boot_id_only() {
    const WALL: u64 = 1_700_000_000_000_000;
    let hour_us = 3_600_000_000;
    let table = [
        // (record boot, expires, released, now boot, now boot_ms, now wall, expected)
        (
            "a",
            5000,
            false,
            "a",
            4000,
            WALL,
            Standing::Held { left_ms: 1000 },
        ),
        (
            "a",
            5000,
            false,
            "a",
            5000,
            WALL,
            Standing::Expired { ago_ms: 0 },
        ),
        (
            "a",
            5000,
            false,
            "a",
            7000,
            WALL,
            Standing::Expired { ago_ms: 2000 },
        ),
        // The wall clock jumps an hour forward or back: nothing changes.
        (
            "a",
            5000,
            false,
            "a",
            4000,
            WALL + hour_us,
            Standing::Held { left_ms: 1000 },
        ),
        (
            "a",
            5000,
            false,
            "a",
            4000,
            WALL - hour_us,
            Standing::Held { left_ms: 1000 },
        ),
        (
            "a",
            5000,
            false,
            "a",
            7000,
            WALL - hour_us,
            Standing::Expired { ago_ms: 2000 },
        ),
        (
            "a",
            5000,
            false,
            "a",
            4000,
            0,
            Standing::Held { left_ms: 1000 },
        ),
        // Another boot: expired, whatever the boot-time clock says.
        ("a", 5000, false, "b", 10, WALL, Standing::PreviousBoot),
        ("a", 5000, true, "a", 4000, WALL, Standing::Released),
    ];
    for (rb, exp, released, nb, nms, nwall, want) in table {
        let got = standing(&rec(rb, exp, released), &now(nb, nms, nwall));
        assert_eq!(
            got, want,
            "record ({rb}, {exp}, {released}) at ({nb}, {nms}, {nwall})"
        );
    }
}

#[test]
fn tokens_grow_with_or_without_the_previous_record() {
    let t0 = 1_700_000_000_000_000u64;
    let table = [
        (None, t0, t0),
        (Some(Token(t0)), t0, t0 + 1), // two acquires in the same microsecond
        (Some(Token(t0 + 9)), t0, t0 + 10), // wall clock set back: still grows
        (Some(Token(5)), t0, t0),      // record far behind the clock
        (None, 0, 1),                  // a clock at the epoch still gives a positive token
        (Some(Token(u64::MAX - 1)), t0, u64::MAX),
        (Some(Token(u64::MAX - 1)), u64::MAX, u64::MAX),
    ];
    for (prev, wall, want) in table {
        assert_eq!(
            next_token(prev, wall),
            Some(Token(want)),
            "{prev:?} at {wall}"
        );
    }
    // Saturated: no larger token exists, whatever the clock says: the acquire fails
    // rather than issue a token twice.
    assert_eq!(next_token(Some(Token(u64::MAX)), t0), None);
    assert_eq!(next_token(Some(Token(u64::MAX)), u64::MAX), None);
    // Record lost: a fresh token is still larger than any issued a moment before.
    let issued = next_token(Some(Token(t0)), t0).unwrap();
    assert!(next_token(None, t0 + 2).unwrap() > issued);
}

#[test]
fn parses_arguments() {
    assert_eq!("17".parse::<Token>().unwrap(), Token(17));
    for bad in [
        "",
        "0",
        "-1",
        "+1",
        " 1",
        "1x",
        "0x10",
        "99999999999999999999999",
    ] {
        assert!(
            matches!(bad.parse::<Token>(), Err(Error::Usage(_))),
            "{bad:?}"
        );
    }
    assert_eq!(
        parse_positive_duration("500ms").unwrap(),
        Duration::from_millis(500)
    );
    assert_eq!(
        parse_positive_duration("5m").unwrap(),
        Duration::from_secs(300)
    );
    for bad in ["0", "0s", "-1s", "-5m", "abc", "", "1us", "2years"] {
        assert!(parse_positive_duration(bad).is_err(), "{bad:?}");
    }
    assert!("a/b".parse::<LeaseName>().is_err());
    assert!("..".parse::<LeaseName>().is_err());
    assert!("release-upload".parse::<LeaseName>().is_ok());
    assert!(parse_holder("ci job 7").is_ok());
    assert!(parse_holder("a\nb").is_err());
}

#[test]
fn file_store_acquire_renew_release() {
    let dir = tempfile::tempdir().unwrap();
    let store = file::FileStore::in_dir(dir.path());
    let name: LeaseName = "L".parse().unwrap();
    let ttl = Duration::from_secs(30);
    let Attempt::Acquired(first) = store.try_acquire(&name, ttl, "one").unwrap() else {
        panic!("a fresh lease is free")
    };
    let Attempt::Held(info) = store.try_acquire(&name, ttl, "two").unwrap() else {
        panic!("a held lease is not acquired twice")
    };
    assert_eq!((info.token, info.holder.as_str()), (first.token, "one"));
    assert!(store.renew(&name, first.token, None).is_ok());
    let stale = Token(first.token.0 - 1);
    let made_up = Token(first.token.0 + 1);
    for t in [stale, made_up] {
        let err = store.renew(&name, t, None).unwrap_err();
        assert!(matches!(Error::find(&err), Some(Error::Lost(_))), "{err:#}");
        let err = store.release(&name, t).unwrap_err();
        assert!(matches!(Error::find(&err), Some(Error::Lost(_))), "{err:#}");
    }
    store.release(&name, first.token).unwrap();
    store.release(&name, first.token).unwrap(); // twice is fine
    let err = store.renew(&name, first.token, None).unwrap_err();
    assert!(format!("{err:#}").contains("released"), "{err:#}");
    let Attempt::Acquired(second) = store.try_acquire(&name, ttl, "two").unwrap() else {
        panic!("a released lease is free")
    };
    assert!(second.token > first.token);
    let listed = store.list().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].is_held());
}

#[test]
fn file_store_expiry_and_takeover() {
    let dir = tempfile::tempdir().unwrap();
    let store = file::FileStore::in_dir(dir.path());
    let name: LeaseName = "L".parse().unwrap();
    let Attempt::Acquired(a) = store
        .try_acquire(&name, Duration::from_millis(30), "a")
        .unwrap()
    else {
        panic!("free")
    };
    std::thread::sleep(Duration::from_millis(40));
    // Expired, nobody took over: still renewable with its token.
    assert!(store.renew(&name, a.token, None).is_ok());
    std::thread::sleep(Duration::from_millis(40));
    let Attempt::Acquired(b) = store
        .try_acquire(&name, Duration::from_secs(30), "b")
        .unwrap()
    else {
        panic!("expired leases can be taken over")
    };
    assert!(b.token > a.token);
    let err = store.renew(&name, a.token, None).unwrap_err();
    assert!(format!("{err:#}").contains("stale"), "{err:#}");
}

#[test]
fn standing_names_its_state_and_time_left() {
    // `lease status`/`list` print `state` and `left_ms`; `acquire --wait` naps at most
    // `left_ms` and waits only while `is_held`.
    let table = [
        (
            Standing::Held { left_ms: 1234 },
            true,
            LeaseState::Held,
            1234,
        ),
        (
            Standing::Expired { ago_ms: 99 },
            false,
            LeaseState::Expired,
            0,
        ),
        (Standing::PreviousBoot, false, LeaseState::Expired, 0),
        (Standing::Released, false, LeaseState::Released, 0),
        (Standing::Abandoned, false, LeaseState::Abandoned, 0),
    ];
    for (s, held, state, left) in table {
        assert_eq!(
            (s.is_held(), s.state(), s.left_ms()),
            (held, state, left),
            "{s:?}"
        );
    }
    let info = LeaseInfo::from_record(&rec("a", 5000, false), &now("a", 3766, 0));
    assert_eq!((info.state, info.left_ms), (LeaseState::Held, 1234));
}

/// The record of lease `name` in the file store at `dir`, as written.
fn record_in(dir: &std::path::Path, name: &str) -> LeaseRecord {
    serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap()).unwrap()
}

#[test]
fn file_store_lease_view_dates_its_expiry_from_the_acquire() {
    // `lease acquire --json` shows `expires_at`: the wall clock of the acquire plus the TTL
    // (both taken from the one clock reading the record was written with).
    let dir = tempfile::tempdir().unwrap();
    let store = file::FileStore::in_dir(dir.path());
    let name: LeaseName = "L".parse().unwrap();
    let ttl = Duration::from_secs(30);
    let Attempt::Acquired(lease) = store.try_acquire(&name, ttl, "one").unwrap() else {
        panic!("a fresh lease is free")
    };
    let rec = record_in(dir.path(), "L");
    assert_eq!((lease.ttl_ms, lease.expires_in_ms), (30_000, 30_000));
    assert_eq!(
        lease.expires_at,
        clock::rfc3339_ms(rec.acquired_wall_ms + 30_000)
    );
    assert_eq!(rec.expires_boot_ms, rec.acquired_boot_ms + 30_000);
}

#[test]
fn file_store_writes_leave_only_the_record_and_its_lock() {
    // Each write replaces the record (by exchange on Linux, then deleting the old one under
    // the temporary name; else by rename): no temporary file outlives its operation.
    let dir = tempfile::tempdir().unwrap();
    let store = file::FileStore::in_dir(dir.path());
    let name: LeaseName = "L".parse().unwrap();
    let ttl = Duration::from_secs(600);
    for _ in 0..2 {
        let Attempt::Acquired(lease) = store.try_acquire(&name, ttl, "one").unwrap() else {
            panic!("the lease is free")
        };
        store.renew(&name, lease.token, None).unwrap();
        store.release(&name, lease.token).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["L.json", "L.lock"]);
        assert_eq!(record_in(dir.path(), "L").token, lease.token);
    }
}

#[test]
fn file_store_watch_wakes_on_a_release_and_not_on_a_renewal() {
    // `acquire --wait` sleeps in this watch: a renewal (or an acquire) must not wake it, a
    // release must. Events queue in the inotify descriptor, so no timing is involved
    // beyond the lower bound of a wait that nothing ends early.
    let dir = tempfile::tempdir().unwrap();
    let store = file::FileStore::in_dir(dir.path());
    let name: LeaseName = "L".parse().unwrap();
    let other: LeaseName = "M".parse().unwrap();
    let ttl = Duration::from_secs(600);
    let Attempt::Acquired(lease) = store.try_acquire(&name, ttl, "one").unwrap() else {
        panic!("a fresh lease is free")
    };
    let Attempt::Acquired(other_lease) = store.try_acquire(&other, ttl, "one").unwrap() else {
        panic!("a fresh lease is free")
    };
    let mut watch = store.watch(&name).expect("the file store watches on Linux");
    store.renew(&name, lease.token, None).unwrap();
    store.release(&other, other_lease.token).unwrap(); // another lease's release
    let t = std::time::Instant::now();
    watch.wait(Duration::from_millis(300));
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    store.release(&name, lease.token).unwrap();
    // Returns on the queued release event (an hour would fail the run by its timeout).
    watch.wait(Duration::from_secs(3600));
}

#[test]
fn file_store_judges_an_owner_gone_only_when_certain() {
    let dir = tempfile::tempdir().unwrap();
    let store = file::FileStore::in_dir(dir.path());
    let name: LeaseName = "L".parse().unwrap();
    let hour = Duration::from_secs(3600);
    let state = |rec: &LeaseRecord| store.standing_of(rec, &clock::now().unwrap());

    // `lease run`: the liveness file's lock, held here, decides.
    let (Attempt::Acquired(lease), Some(alive)) = store
        .try_acquire_owned(&name, hour, "run", file::OwnerSpec::Liveness)
        .unwrap()
    else {
        panic!("a fresh lease is free, and gets a liveness file")
    };
    let rec = record_in(dir.path(), "L");
    let Some(Owner::Flock { file, .. }) = rec.owner.clone() else {
        panic!("{rec:?}")
    };
    let alive_path = dir.path().join(&file);
    assert!(state(&rec).is_held(), "its liveness file is locked");
    // The command `lease run` starts inherits it (and the lock with it).
    #[cfg(unix)]
    {
        let flags = rustix::io::fcntl_getfd(&alive).unwrap();
        assert!(!flags.contains(rustix::io::FdFlags::CLOEXEC), "{flags:?}");
    }
    drop(alive);
    assert_eq!(state(&rec), Standing::Abandoned, "nobody holds the lock");
    assert_eq!(
        store.status(&name).unwrap().unwrap().state,
        LeaseState::Abandoned
    );
    // Only a liveness file in the store, on this host, counts.
    let elsewhere = LeaseRecord {
        host: "another-host".into(),
        ..rec.clone()
    };
    assert!(state(&elsewhere).is_held());
    let outside = LeaseRecord {
        owner: Some(Owner::Flock {
            file: alive_path.display().to_string(),
            dev: None,
            ino: None,
        }),
        ..rec.clone()
    };
    assert!(state(&outside).is_held(), "a path is not a liveness file");
    // While the original is open (as a live holder keeps it), its inode cannot be reused.
    let original = std::fs::File::open(&alive_path).unwrap();
    std::fs::remove_file(&alive_path).unwrap();
    assert!(
        state(&rec).is_held(),
        "a missing liveness file fails closed: held until the TTL"
    );
    std::fs::write(&alive_path, "").unwrap();
    assert!(
        state(&rec).is_held(),
        "an unlocked file of another inode is not the holder's"
    );
    drop(original);
    std::fs::remove_file(&alive_path).unwrap();
    let expired = LeaseRecord {
        expires_boot_ms: 0,
        ..rec.clone()
    };
    std::fs::write(
        dir.path().join("L.json"),
        serde_json::to_vec(&expired).unwrap(),
    )
    .unwrap();

    // A release keeps the kept liveness file, for the next holder.
    let (Attempt::Acquired(second), Some(_alive)) = store
        .try_acquire_owned(&name, hour, "run", file::OwnerSpec::Liveness)
        .unwrap()
    else {
        panic!("an expired lease is taken over")
    };
    assert!(second.token > lease.token);
    let Some(Owner::Flock { file, .. }) = record_in(dir.path(), "L").owner else {
        panic!("a liveness owner")
    };
    assert_eq!(file, "L.held.alive");
    store.release(&name, second.token).unwrap();
    assert!(dir.path().join(&file).exists(), "released: {file} kept");

    // `--owner-pid`: that process, on this host and boot.
    let mut owner = std::process::Command::new("sleep")
        .arg("1000")
        .spawn()
        .unwrap();
    let (Attempt::Acquired(_), None) = store
        .try_acquire_owned(&name, hour, "pid", file::OwnerSpec::Pid(owner.id() as i32))
        .unwrap()
    else {
        panic!("a released lease is free")
    };
    let rec = record_in(dir.path(), "L");
    assert!(state(&rec).is_held(), "its owner runs");
    owner.kill().unwrap();
    owner.wait().unwrap();
    assert_eq!(state(&rec), Standing::Abandoned, "its owner is gone");
    let Some(Owner::Process {
        pid,
        start_time,
        pid_ns,
        boot_id,
        host,
    }) = rec.owner.clone()
    else {
        panic!("{rec:?}")
    };
    for (host, boot_id) in [
        ("another-host".to_string(), boot_id),
        (host, "another-boot".to_string()),
    ] {
        let elsewhere = LeaseRecord {
            owner: Some(Owner::Process {
                pid,
                start_time,
                pid_ns: pid_ns.clone(),
                boot_id,
                host,
            }),
            ..rec.clone()
        };
        assert!(state(&elsewhere).is_held(), "{elsewhere:?}");
    }
}

#[test]
fn file_store_never_makes_a_liveness_file_through_a_planted_link() {
    // After a record holding the next-to-largest token, the next token is the largest one,
    // so both liveness file names are known in advance (the kept one, then the token's):
    // links planted there are not followed (the acquire fails) and their target is neither
    // created nor locked.
    let dir = tempfile::tempdir().unwrap();
    let store = file::FileStore::in_dir(dir.path());
    let name: LeaseName = "L".parse().unwrap();
    let mut old = rec("gone-boot", 1000, true);
    old.token = Token(u64::MAX - 1);
    std::fs::write(dir.path().join("L.json"), serde_json::to_vec(&old).unwrap()).unwrap();
    let canary = dir.path().join("canary");
    for link in [format!("L.{}.alive", u64::MAX), "L.held.alive".to_string()] {
        let link = dir.path().join(link);
        #[cfg(unix)]
        std::os::unix::fs::symlink(&canary, &link).unwrap();
        #[cfg(windows)]
        std::os::windows::fs::symlink_file(&canary, &link).unwrap();
    }
    let hour = Duration::from_secs(3600);
    let err = store
        .try_acquire_owned(&name, hour, "run", file::OwnerSpec::Liveness)
        .unwrap_err();
    assert!(format!("{err:#}").contains("liveness file"), "{err:#}");
    assert!(!canary.exists());
}

#[test]
fn file_store_reuses_the_kept_liveness_file_unless_its_lock_is_held() {
    // `lease run` after `lease run`: the kept file (`L.held.alive`), the same inode, and no
    // other liveness file left. While an earlier command still holds its lock, a holder gets
    // a file of its token's own, removed again at release, and the kept file, still locked,
    // is removed as a taken-over holder's is: the next holder makes it anew.
    let dir = tempfile::tempdir().unwrap();
    let store = file::FileStore::in_dir(dir.path());
    let name: LeaseName = "L".parse().unwrap();
    let hour = Duration::from_secs(3600);
    let names = || {
        let mut n: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        n.sort();
        n
    };
    let mut inodes = Vec::new();
    for _ in 0..2 {
        let (Attempt::Acquired(lease), Some(alive)) = store
            .try_acquire_owned(&name, hour, "run", file::OwnerSpec::Liveness)
            .unwrap()
        else {
            panic!("the lease is free")
        };
        let Some(Owner::Flock { file, ino, .. }) = record_in(dir.path(), "L").owner else {
            panic!("a liveness owner")
        };
        assert_eq!(file, "L.held.alive");
        inodes.push(ino);
        store.release(&name, lease.token).unwrap();
        drop(alive);
        assert_eq!(names(), ["L.held.alive", "L.json", "L.lock"]);
    }
    assert_eq!(
        inodes[0], inodes[1],
        "the kept file is reused, not made again"
    );

    let earlier = std::fs::File::open(dir.path().join("L.held.alive")).unwrap();
    earlier.lock().unwrap(); // an earlier command still running
    let (Attempt::Acquired(lease), Some(alive)) = store
        .try_acquire_owned(&name, hour, "run", file::OwnerSpec::Liveness)
        .unwrap()
    else {
        panic!("the lease is free")
    };
    let own = format!("L.{}.alive", lease.token.0);
    let Some(Owner::Flock { file, .. }) = record_in(dir.path(), "L").owner else {
        panic!("a liveness owner")
    };
    assert_eq!(file, own);
    // The holder's own file decides: it is held, so the lease is not abandoned.
    let now = clock::now().unwrap();
    assert!(store
        .standing_of(&record_in(dir.path(), "L"), &now)
        .is_held());
    store.release(&name, lease.token).unwrap();
    drop(alive);
    assert_eq!(names(), ["L.json", "L.lock"]);
    let (Attempt::Acquired(_), Some(_alive)) = store
        .try_acquire_owned(&name, hour, "run", file::OwnerSpec::Liveness)
        .unwrap()
    else {
        panic!("the lease is free")
    };
    assert_eq!(names(), ["L.held.alive", "L.json", "L.lock"]);
    drop(earlier);
}

#[test]
fn owned_store_passes_every_operation_through_and_keeps_the_liveness_file() {
    // Every `lease` command on the file store goes through `Owned`.
    let dir = tempfile::tempdir().unwrap();
    let store = file::FileStore::in_dir(dir.path());
    let owned = file::Owned {
        store: &store,
        owner: file::OwnerSpec::Liveness,
        alive: Default::default(),
    };
    let name: LeaseName = "L".parse().unwrap();
    let Attempt::Acquired(lease) = owned
        .try_acquire(&name, Duration::from_secs(3600), "run")
        .unwrap()
    else {
        panic!("a fresh lease is free")
    };
    assert!(
        owned.alive.lock().unwrap().is_some(),
        "the liveness file is kept"
    );
    let info = owned.status(&name).unwrap().expect("a record");
    assert_eq!((info.token, info.state), (lease.token, LeaseState::Held));
    let listed: Vec<_> = owned.list().unwrap().into_iter().map(|i| i.name).collect();
    assert_eq!(listed, ["L"]);
    let renewed = owned
        .renew(&name, lease.token, Some(Duration::from_secs(7200)))
        .unwrap();
    assert_eq!(renewed.ttl_ms, 7_200_000);
    assert_eq!(record_in(dir.path(), "L").ttl_ms, 7_200_000);
    assert!(
        owned.watch(&name).is_some(),
        "waiters are woken by releases"
    );
    owned.release(&name, lease.token).unwrap();
    assert_eq!(
        store.status(&name).unwrap().unwrap().state,
        LeaseState::Released
    );
}

#[test]
fn file_store_lists_nothing_without_a_directory_and_fails_on_a_bad_one() {
    // `lease list` on a state dir that has never held a lease shows nothing; a `leases`
    // that cannot be listed is an error, not an empty list.
    let dir = tempfile::tempdir().unwrap();
    let missing = file::FileStore::in_dir(dir.path().join("leases"));
    assert_eq!(missing.list().unwrap(), []);
    std::fs::write(dir.path().join("leases"), b"not a directory").unwrap();
    let err = file::FileStore::in_dir(dir.path().join("leases"))
        .list()
        .unwrap_err();
    assert!(format!("{err:#}").contains("cannot list"), "{err:#}");
}
