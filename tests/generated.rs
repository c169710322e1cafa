//! The committed completion scripts and man pages must match what the current clap definition
//! generates (issue 2 §5). On failure the message gives the command that regenerates them.

mod support;

use std::path::Path;

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn committed_completions_and_man_pages_are_fresh() {
    let tmp = tempfile::tempdir().unwrap();
    support::voxctl(tmp.path())
        .args(["-q", "generate"])
        .arg(tmp.path())
        .assert()
        .success();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let regen = "regenerate them with: cargo run -- generate .";
    for sub in ["completions", "man"] {
        let fresh = tmp.path().join(sub);
        let committed = repo.join(sub);
        assert_eq!(
            files(&fresh),
            files(&committed),
            "{sub}/ has stale or missing files; {regen}"
        );
        for name in files(&fresh) {
            let a = std::fs::read(fresh.join(&name)).unwrap();
            let b = std::fs::read(committed.join(&name)).unwrap();
            assert!(a == b, "{sub}/{name} is stale; {regen}");
        }
    }
}

#[test]
fn completions_subcommand_prints_each_shell() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = support::voxctl(tmp.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("voxctl"),
            "{shell}"
        );
    }
    support::voxctl(tmp.path())
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}
