//! The library crate is what an app embeds: its dependency tree holds none of the command
//! line's crates nor a signal-handler registry, and test hooks reach only a test build of the command.

use std::path::Path;
use std::process::Command;

/// `cargo tree` over the workspace, one line per crate (or crate feature), for the host target.
fn tree(args: &[&str]) -> Vec<String> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--prefix", "none", "--color", "never"])
        .args(args)
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines.dedup();
    lines
}

#[test]
fn the_library_depends_on_no_command_line_crate() {
    let deps = tree(&["-p", "voxctl", "-e", "normal"]);
    assert!(
        deps.iter().any(|l| l.starts_with("reqwest ")),
        "not the library's tree: {deps:?}"
    );
    let cli_only = [
        "clap",
        "clap_complete",
        "clap_mangen",
        "indicatif",
        "dialoguer",
        "rpassword",
        "tracing-subscriber",
        "terminal_size",
        // Signal handling is the caller's (the command's src/signals.rs): the library has no
        // crate that registers handlers (tokio's "signal" feature brings the registry).
        "signal-hook",
        "signal-hook-registry",
    ];
    let found: Vec<&String> = deps
        .iter()
        .filter(|l| cli_only.iter().any(|c| l.starts_with(&format!("{c} "))))
        .collect();
    assert!(found.is_empty(), "the library depends on {found:?}");
}

#[test]
fn only_a_test_build_of_the_command_has_the_test_hooks() {
    let features = |edges: &str| -> Vec<String> {
        tree(&["-p", "voxctl-cli", "-e", edges, "-i", "voxctl"])
            .into_iter()
            .filter_map(|l| {
                let rest = l.strip_prefix("voxctl feature \"")?;
                Some(rest.split('"').next().unwrap().to_string())
            })
            .collect()
    };
    let shipped = features("normal,features");
    assert!(
        shipped.contains(&"sign".to_string()),
        "the command signs releases: {shipped:?}"
    );
    assert!(
        !shipped.contains(&"testhook".to_string()),
        "a shipped build would honour VOXCTL_TEST_*: {shipped:?}"
    );
    assert!(
        features("normal,dev,features").contains(&"testhook".to_string()),
        "the integration tests need the crash checkpoints"
    );
    assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/voxctl/Cargo.toml")
        .is_file());
}
