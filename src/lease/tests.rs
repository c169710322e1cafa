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
    // Saturated: no larger token exists, whatever the clock says (issue 10 item 6).
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
    assert_eq!(parse_wait("0").unwrap(), Duration::ZERO);
    assert!(parse_wait("-1s").is_err());
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
