//! Hostile-input cases: hostile releases: archives, manifests, sums files, part lists.

use crate::support::fetch::{self as f, Fixture, ASSET};
use voxctl::manifest::part_name;

/// Issue 10 item 11: a part of a local release (a directory or a `file://` URL) shorter than
/// its manifest declares is an integrity failure of the release, exit 3 at once, not a
/// network failure retried; nothing is installed and no partial data is kept.
#[test]
fn a_local_part_shorter_than_declared_is_an_integrity_failure() {
    for url in [false, true] {
        let fx = Fixture::new();
        f::json_release(&fx.rel(), ASSET, &f::data(3000, 111), 1000);
        let part = fx.rel().join(part_name(ASSET, 1));
        std::fs::write(&part, f::data(600, 112)).unwrap();
        let source = if url {
            format!("file://{}", fx.rel().display())
        } else {
            fx.rel().display().to_string()
        };
        let out = fx.fetch(&source).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains(&part.display().to_string()), "{stderr}");
        assert!(stderr.contains("declares 1000"), "{stderr}");
        assert!(!stderr.contains("retrying"), "no retry: {stderr}");
        assert!(!fx.installed().exists());
        assert!(
            !fx.data().join("backends/.partial").exists(),
            "no partial data kept"
        );
    }
}
