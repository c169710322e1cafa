//! The committed completion scripts and man pages must match what the current clap definition
//! generates. On failure the message gives the command that regenerates them.

use crate::support;

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

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// Every committed man page renders at 80 columns without a groff warning,
/// no line is wider than 80 columns, the conventional sections are there (EXIT STATUS as a
/// tbl table), the synopsis shows option values, and SEE ALSO names only pages that exist.
#[test]
fn man_pages_render_at_80_columns_with_the_conventional_sections() {
    let man = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let pages = files(&man);
    assert!(pages.len() >= 10, "{pages:?}");
    for page in &pages {
        let path = man.join(page);
        let out = std::process::Command::new("groff")
            .args(["-t", "-man", "-Tutf8", "-ww", "-rLL=80n", "-P-cbou"])
            .arg(&path)
            .output()
            .expect("groff is installed (groff-base; .ci/run installs it)");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "{page}: {stderr}"
        );
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{page}: a line of {} columns: {line:?}",
                line.chars().count()
            );
        }
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "EXAMPLES",
            "SEE ALSO",
        ] {
            assert!(
                text.lines().any(|l| l == section),
                "{page} has no {section} section"
            );
        }
        let source = std::fs::read_to_string(&path).unwrap();
        assert!(source.starts_with("'\\\" t\n"), "{page}: tbl is asked for");
        assert!(
            source.contains(".TS\n") && source.contains("130@"),
            "{page}"
        );
        // Exit status rows render as rows: the code, then its meaning on the same line.
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with("3   integrity")),
            "{page}: the EXIT STATUS table renders"
        );
        // SEE ALSO: voxctl pages that exist, never voxctl-help(1).
        let see_also = text.split("\nSEE ALSO\n").nth(1).unwrap();
        let refs = see_also.split(|c: char| c == ',' || c.is_whitespace());
        for r in refs.filter(|r| r.starts_with("voxctl")) {
            let name = r.trim_end_matches("(1)");
            assert!(
                pages.contains(&format!("{name}.1")),
                "{page}: SEE ALSO names {r}, which does not exist"
            );
        }
        assert!(
            !source.contains("voxctl\\-help"),
            "{page} names voxctl-help"
        );
    }
    // Option values are in the synopsis.
    let verify = read("man/voxctl-verify.1");
    let synopsis = verify.split(".SH SYNOPSIS").nth(1).unwrap();
    let synopsis = synopsis.split(".SH").next().unwrap();
    assert!(
        synopsis.contains("\\fB\\-\\-sha256\\fR \\fIHEX\\fR"),
        "{synopsis}"
    );
    let fetch = read("man/voxctl-fetch.1");
    assert!(fetch.contains("\\fB\\-\\-variant\\fR {auto|cpu|cuda|rocm}"));
}

/// The long options (without `--`) whose values are paths.
const PATH_OPTIONS: [&str; 15] = [
    "state-dir",
    "pubkey-file",
    "tauri-conf",
    "sign",
    "key",
    "data-dir",
    "source",
    "mirror",
    "out",
    "manifest",
    "lock",
    "pidfile",
    "stale-exe",
    "marker",
    "seed",
];

/// On the committed scripts: the hidden `generate` is not offered,
/// `--variant` completes the variants, and file names complete only where a path is meant.
#[test]
fn completions_offer_visible_commands_variants_and_paths_only_for_paths() {
    let bash = read("completions/voxctl.bash");
    let zsh = read("completions/_voxctl");
    let fish = read("completions/voxctl.fish");
    // How each script names a subcommand it offers (help texts may say "generate" freely:
    // `tauri signer generate`).
    let offers_generate = [
        (
            "bash",
            bash.contains("__generate") || bash.contains(" generate "),
        ),
        (
            "zsh",
            zsh.contains("'generate:") || zsh.contains("(generate)"),
        ),
        (
            "fish",
            fish.contains("-a \"generate\"") || fish.contains("subcommand generate"),
        ),
    ];
    for (shell, offered) in offers_generate {
        assert!(!offered, "{shell} offers the hidden generate");
    }
    for (shell, text) in [("bash", &bash), ("zsh", &zsh), ("fish", &fish)] {
        assert!(text.contains("restart"), "{shell} offers restart");
    }
    // fish: one `complete` per option (possible values with help span several lines).
    let mut variant_lines = 0;
    for line in fish.split("\ncomplete ").filter(|l| l.contains(" -l ")) {
        let long = line
            .split(" -l ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        if long == "variant" {
            variant_lines += 1;
            for v in ["cpu", "cuda", "rocm"] {
                assert!(
                    line.contains(&format!("{v}\\t"))
                        || line.contains(&format!("{v} "))
                        || line.contains(&format!("{v}\"")),
                    "{line}"
                );
            }
            if line.contains("restart\"") || line.contains("fetch\"") {
                assert!(line.contains("auto"), "{line}");
            }
        }
        let files = line.contains(" -F") || line.contains("__fish_complete_directories");
        let takes_value = line.contains(" -r");
        if takes_value {
            assert_eq!(
                files,
                PATH_OPTIONS.contains(&long),
                "fish: --{long} completes paths: {files}\n{line}"
            );
        }
    }
    assert_eq!(variant_lines, 3, "fetch, restart and split take --variant");
    // zsh: `'--opt=[help]:VALUE:ACTION'`; paths use _files.
    for line in zsh
        .lines()
        .filter(|l| l.starts_with("'--") && l.contains("=["))
    {
        let long = &line[3..line.find("=[").unwrap()];
        let files = line.contains("_files");
        assert_eq!(files, PATH_OPTIONS.contains(&long), "zsh --{long}: {line}");
        assert!(
            !line.contains("_default"),
            "zsh --{long} completes anything: {line}"
        );
        if long == "variant" {
            assert!(line.contains("cpu") && line.contains("cuda") && line.contains("rocm"));
        }
    }
    // bash: in each `--opt)` case, file completion (`compgen -f`, directories) only for paths.
    let mut lines = bash.lines().peekable();
    let mut variant_cases = 0;
    while let Some(line) = lines.next() {
        let t = line.trim();
        if let Some(long) = t.strip_prefix("--").and_then(|l| l.strip_suffix(')')) {
            let mut body = String::new();
            for l in lines.by_ref() {
                if l.trim() == ";;" {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            let files = ["compgen -f", "compgen -d", "plusdirs"]
                .iter()
                .any(|w| body.contains(w));
            assert_eq!(files, PATH_OPTIONS.contains(&long), "bash --{long}: {body}");
            if long == "variant" {
                variant_cases += 1;
                assert!(body.contains("cpu cuda rocm"), "{body}");
            }
        }
    }
    assert_eq!(variant_cases, 3);
    assert!(
        bash.contains("\"auto cpu cuda rocm\""),
        "restart/fetch --variant: auto too"
    );
}

/// Completes `line` (ending where the cursor is) with the committed script in a real `shell`,
/// run in `dir`; returns the candidates, one a line, without descriptions.
fn complete_in(shell: &str, dir: &Path, line: &str) -> Vec<String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = match shell {
        "bash" => {
            let script = format!(
                "source '{}'\nread -ra COMP_WORDS <<< \"$LINE\"\n\
                 case \"$LINE\" in *' ') COMP_WORDS+=(\"\");; esac\n\
                 COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMP_LINE=$LINE; \
                 COMP_POINT=${{#LINE}}\n\
                 _voxctl voxctl \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\" \
                 2>/dev/null\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
                repo.join("completions/voxctl.bash").display()
            );
            std::process::Command::new("bash")
                .args(["--norc", "-c", &script])
                .env("LINE", line)
                .current_dir(dir)
                .output()
        }
        _ => std::process::Command::new("fish")
            .args(["--no-config", "-c"])
            .arg(format!(
                "source '{}'; complete -C \"$LINE\"",
                repo.join("completions/voxctl.fish").display()
            ))
            .env("LINE", line)
            .current_dir(dir)
            .output(),
    }
    .unwrap_or_else(|e| panic!("{shell} runs (.ci/run installs fish): {e}"));
    assert!(out.status.success(), "{shell}: {line:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// In real bash and fish: what a user gets on TAB.
#[test]
fn bash_and_fish_complete_commands_variants_and_paths_as_meant() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("example.txt"), b"").unwrap();
    std::fs::create_dir(tmp.path().join("exdir")).unwrap();
    for shell in ["bash", "fish"] {
        let commands = complete_in(shell, tmp.path(), "voxctl ");
        assert!(
            commands.iter().any(|c| c == "verify"),
            "{shell}: {commands:?}"
        );
        assert!(
            !commands.iter().any(|c| c == "generate"),
            "{shell} offers the hidden generate: {commands:?}"
        );
        for sub in ["fetch", "restart"] {
            assert_eq!(
                complete_in(shell, tmp.path(), &format!("voxctl {sub} --variant ")),
                ["auto", "cpu", "cuda", "rocm"],
                "{shell} {sub}"
            );
        }
        assert_eq!(
            complete_in(shell, tmp.path(), "voxctl split --variant "),
            ["cpu", "cuda", "rocm"],
            "{shell}"
        );
        // `remove VARIANT` completes the variants, in any case the user starts with.
        let got = complete_in(shell, tmp.path(), "voxctl remove ");
        for v in ["cpu", "cuda", "rocm"] {
            assert!(
                got.iter().any(|c| c == v),
                "{shell}: remove offers {v}: {got:?}"
            );
        }
        assert!(
            !got.iter().any(|c| c.starts_with("ex")),
            "{shell}: remove offers files: {got:?}"
        );
        assert_eq!(
            complete_in(shell, tmp.path(), "voxctl remove c"),
            ["cpu", "cuda"],
            "{shell}"
        );
        // A name or a version is not a file name...
        for line in [
            "voxctl fetch --app ex",
            "voxctl fetch --tag ex",
            "voxctl lease acquire ex",
        ] {
            let got = complete_in(shell, tmp.path(), line);
            assert!(
                !got.iter().any(|c| c.starts_with("example")),
                "{shell}: {line:?} offers files: {got:?}"
            );
        }
        // ...a path is.
        for line in ["voxctl verify --manifest ex", "voxctl reap --lock ex"] {
            let got = complete_in(shell, tmp.path(), line);
            assert!(
                got.iter().any(|c| c == "example.txt"),
                "{shell} {line:?}: {got:?}"
            );
        }
    }
}
