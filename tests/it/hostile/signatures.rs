//! Hostile-input cases: key sources and signatures that would switch signature checking off
//! or let an older signed release replace a newer one.

use predicates::prelude::*;
use voxctl::manifest::sha256_name;

use crate::support::{
    self,
    fetch::{self as f, Fixture, ASSET},
};

const MB: usize = 1 << 20;

/// A `VOXCTL_PUBKEY` made only of separators (what `"$K1,$K2"` gives with both unset) and a
/// `--pubkey` of only separators name no key: exit 2 naming the source, for fetch (even with
/// `-q`) and for `verify -c`, and nothing installed. Were they read as "no key", the unsigned
/// release would install and the garbage `.minisig` would be ignored.
#[test]
fn a_key_source_that_names_no_key_is_a_usage_error() {
    let fx = Fixture::new();
    f::whole_release(&fx.rel(), ASSET, &f::data(MB, 40));
    let sums = sha256_name(ASSET);
    std::fs::write(fx.rel().join(format!("{sums}.minisig")), b"garbage\n").unwrap();
    for value in [",", " ", " , ", "\t,\n"] {
        fx.fetch(fx.rel().to_str().unwrap())
            .arg("-q")
            .env("VOXCTL_PUBKEY", value)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("VOXCTL_PUBKEY"))
            .stderr(predicate::str::contains("names no key"));
        assert!(!fx.installed().exists(), "{value:?}: installed");
        support::voxctl(&fx.state())
            .current_dir(fx.rel())
            .args(["verify", "-c", &sums])
            .env("VOXCTL_PUBKEY", value)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("VOXCTL_PUBKEY"));
        fx.fetch(fx.rel().to_str().unwrap())
            .args(["-q", "--pubkey", value])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--pubkey"));
        assert!(!fx.installed().exists(), "{value:?}: installed");
    }
    // Empty is unset, as for other variables: the release installs unauthenticated.
    fx.fetch(fx.rel().to_str().unwrap())
        .env("VOXCTL_PUBKEY", "")
        .assert()
        .success()
        .stderr(predicate::str::contains("not authenticated"));
}
