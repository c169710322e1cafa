//! The man pages in `man/`, one per visible command, with the sections man page readers
//! expect: NAME, SYNOPSIS (with option values), DESCRIPTION, OPTIONS, COMMANDS, EXIT STATUS
//! (a tbl table), ENVIRONMENT, FILES, EXAMPLES and SEE ALSO (only pages that exist).
//!
//! clap_mangen renders the title, NAME, DESCRIPTION and OPTIONS from the clap definition; its
//! synopsis leaves option values out and its subcommand list names `voxctl-help(1)`, a page
//! that does not exist, so those and the sections clap knows nothing about are written here.
//! tests/it/generated.rs renders every page with groff at 80 columns and fails on warnings.

use std::fmt::Write as _;
use voxctl::exit::ExitStatus;

use anyhow::Result;
use clap::{Arg, ArgAction, Command};

/// Escapes text for roff: backslashes, hyphens (so they stay ASCII hyphen-minus), and a
/// leading `.` or `'` that would read as a request.
fn esc(text: &str) -> String {
    let t = text.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

/// What a page says beyond the clap definition, by page name.
struct Extras {
    /// `(command line, what it does)`.
    examples: &'static [(&'static str, &'static str)],
    /// `(path, what it is)`.
    files: &'static [(&'static str, &'static str)],
    /// Environment variables read besides the options' own (`name`, meaning).
    env: &'static [(&'static str, &'static str)],
    /// Pages of other tools, as `name(section)`.
    see_also: &'static [&'static str],
}

const STATE_DIR: (&str, &str) = (
    "$XDG_STATE_HOME/voxctl, ~/.local/state/voxctl",
    "the state dir (or $VOXCTL_STATE_DIR, --state-dir): private to its user (0700)",
);

fn extras(page: &str) -> Extras {
    let none = Extras {
        examples: &[],
        files: &[STATE_DIR],
        env: &[],
        see_also: &[],
    };
    match page {
        "voxctl" => Extras {
            examples: &[
                (
                    "voxctl fetch --variant auto",
                    "install the backend the hardware can run",
                ),
                (
                    "voxctl restart --variant cuda",
                    "swap the running backend for cuda",
                ),
                ("voxctl status", "what is installed, running and held"),
            ],
            ..none
        },
        "voxctl-restart" => Extras {
            examples: &[
                (
                    "voxctl restart --variant cuda",
                    "swap to cuda, rolled back if unhealthy",
                ),
                (
                    "voxctl restart --wait 30",
                    "let a restart already running finish first, waiting at most 30 s",
                ),
            ],
            files: &[
                STATE_DIR,
                (
                    "STATE/backend.json",
                    "the running backend: pid, start time, variant, port, arguments",
                ),
                (
                    "STATE/restart-marker.json",
                    "the backend instance stopped last (never the relaunch marker)",
                ),
                ("STATE/logs/", "the backends' stdout and stderr"),
                ("DATA/backends/", "the installed variants"),
            ],
            ..none
        },
        "voxctl-fetch" => Extras {
            examples: &[
                (
                    "voxctl fetch --variant cuda",
                    "the latest voicebox cuda backend",
                ),
                (
                    "voxctl fetch --source ./release --variant cpu",
                    "from a local release directory",
                ),
                (
                    "voxctl fetch --variant cuda --wait 5m",
                    "join a fetch of the same asset already running, for at most 5 minutes",
                ),
            ],
            files: &[
                STATE_DIR,
                (
                    "STATE/slots/",
                    "one lock file per running fetch of an asset",
                ),
                (
                    "DATA/backends/",
                    "the installed variants and partial downloads",
                ),
            ],
            env: &[
                ("GITHUB_TOKEN", "sent as a bearer token to github.com only"),
                ("HTTPS_PROXY, HTTP_PROXY, NO_PROXY", "proxies"),
            ],
            ..none
        },
        "voxctl-split" => Extras {
            examples: &[
                (
                    "voxctl split build/voicebox-server-cuda --out dist",
                    "parts of 1,900,000,000 bytes, checksums and manifests in dist/",
                ),
                (
                    "voxctl split app.exe --part-size 1900MB",
                    "the same parts as split -b 1900MB -d -a 2",
                ),
            ],
            files: &[
                ("OUT/S.partNN", "the parts (S: the asset without .exe)"),
                ("OUT/S.sha256", "one sha256sum line for the whole file"),
                (
                    "OUT/S.manifest, OUT/S.manifest.json",
                    "the part names; sizes and hashes",
                ),
            ],
            see_also: &["split(1)", "sha256sum(1)"],
            ..none
        },
        "voxctl-verify" => Extras {
            examples: &[
                ("cd dist && voxctl verify -c SHA256SUMS", "as sha256sum -c"),
                (
                    "voxctl verify -c --relative-to-sums dist/SHA256SUMS",
                    "names beside the sums file",
                ),
                (
                    "voxctl verify --manifest dist/app.manifest.json",
                    "every part and the whole asset",
                ),
            ],
            files: &[
                (
                    "SHA256SUMS, S.sha256",
                    "sums files: one sha256sum line per file",
                ),
                ("S.manifest.json, S.manifest", "a split release's manifests"),
            ],
            see_also: &["sha256sum(1)"],
            ..none
        },
        "voxctl-status" => Extras {
            examples: &[("voxctl status --json", "the same as one JSON document")],
            ..none
        },
        "voxctl-reap" | "voxctl-reap-mark" => Extras {
            examples: &[
                ("voxctl reap mark", "the updater, just before relaunching"),
                (
                    "voxctl reap --lock ~/.config/App/SingletonLock",
                    "the relaunched app: clear a wedged holder",
                ),
            ],
            files: &[
                STATE_DIR,
                ("STATE/relaunch-marker.json", "the instance being replaced"),
            ],
            ..none
        },
        "voxctl-lease" | "voxctl-lease-run" => Extras {
            examples: &[(
                "voxctl lease run upload --ttl 30s --wait 10m -- ./upload.sh",
                "run a command while holding a lease",
            )],
            files: &[
                STATE_DIR,
                ("STATE/leases/", "one record and lock per lease"),
            ],
            env: &[(
                "VOXCTL_LEASE_NAME, VOXCTL_LEASE_TOKEN",
                "set by lease run for its command",
            )],
            see_also: &["flock(1)", "timeout(1)"],
        },
        "voxctl-lease-status" | "voxctl-lease-list" => Extras {
            examples: &[
                (
                    "voxctl lease status job",
                    "one lease: state, holder, token, time left",
                ),
                (
                    "voxctl lease list --json",
                    "every lease, as one JSON document",
                ),
            ],
            files: &[
                STATE_DIR,
                ("STATE/leases/", "one record and lock per lease"),
            ],
            see_also: &["flock(1)"],
            ..none
        },
        p if p.starts_with("voxctl-lease-") => Extras {
            examples: &[(
                "t=$(voxctl lease acquire job --ttl 2m --wait 30)\n\
                 voxctl lease renew job --token \"$t\"\n\
                 voxctl lease release job --token \"$t\"",
                "acquire (waiting at most 30 s while it is held), renew and release by hand",
            )],
            files: &[
                STATE_DIR,
                ("STATE/leases/", "one record and lock per lease"),
            ],
            see_also: &["flock(1)"],
            ..none
        },
        "voxctl-stop" => Extras {
            examples: &[
                ("voxctl stop", "stop the running backend"),
                (
                    "voxctl stop --wait 1m",
                    "let a restart already running finish first, waiting at most a minute",
                ),
            ],
            files: &[
                STATE_DIR,
                (
                    "STATE/backend.json",
                    "the running backend: pid, start time, port",
                ),
            ],
            see_also: &["systemctl(1)"],
            ..none
        },
        "voxctl-completions" => Extras {
            examples: &[(
                "source <(voxctl completions bash)",
                "completions in this shell",
            )],
            files: &[
                (
                    "~/.local/share/bash-completion/completions/voxctl",
                    "where bash finds a user's completion script",
                ),
                (
                    "~/.config/fish/completions/voxctl.fish",
                    "where fish finds a user's completion script",
                ),
            ],
            ..none
        },
        _ => none,
    }
}

/// Renders the page `name` (e.g. `voxctl-lease-run`) for `cmd`, a built command; `words` is
/// its command line (`voxctl lease run`).
pub fn page(cmd: &Command, name: &str, words: &str) -> Result<Vec<u8>> {
    let page = cmd.clone().name(name.to_string());
    let man = clap_mangen::Man::new(page);
    let mut out = Vec::new();
    // tbl preprocessor line: man(1) runs tbl for the EXIT STATUS table.
    out.extend_from_slice(b"'\\\" t\n");
    man.render_title(&mut out)?;
    // No hyphenation, left-aligned: option names and paths stay whole and searchable.
    out.extend_from_slice(b".nh\n.ad l\n");
    man.render_name_section(&mut out)?;
    out.extend_from_slice(synopsis(cmd, words).as_bytes());
    man.render_description_section(&mut out)?;
    out.extend_from_slice(after_help(cmd, name).as_bytes());
    man.render_options_section(&mut out)?;
    let extras = extras(name);
    let mut roff = String::new();
    commands(&mut roff, cmd, name);
    exit_status(&mut roff, name);
    environment(&mut roff, cmd, &extras);
    if !extras.files.is_empty() {
        roff.push_str(".SH FILES\n");
        for (path, what) in extras.files {
            let _ = write!(roff, ".TP\n\\fI{}\\fR\n{}\n", esc(path), esc(what));
        }
    }
    roff.push_str(".SH EXAMPLES\n");
    if extras.examples.is_empty() {
        let _ = write!(roff, ".PP\n.nf\n{} \\-\\-help\n.fi\n", esc(words));
    }
    for (line, what) in extras.examples {
        let _ = write!(
            roff,
            ".PP\n{}:\n.RS\n.nf\n{}\n.fi\n.RE\n",
            esc(what),
            esc(line)
        );
    }
    see_also(&mut roff, cmd, name, &extras);
    out.extend_from_slice(roff.as_bytes());
    Ok(out)
}

/// The synopsis, with each option's value and the possible values where there is a list.
fn synopsis(cmd: &Command, words: &str) -> String {
    let mut s = format!(".SH SYNOPSIS\n\\fB{}\\fR", esc(words));
    let args: Vec<&Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version"))
        .collect();
    for arg in args.iter().filter(|a| !a.is_positional()) {
        let (open, close) = if arg.is_required_set() {
            ("", "")
        } else {
            ("[", "]")
        };
        let mut flag = match (arg.get_short(), arg.get_long()) {
            (Some(c), Some(l)) => format!("\\fB\\-{c}\\fR|\\fB\\-\\-{}\\fR", esc(l)),
            (Some(c), None) => format!("\\fB\\-{c}\\fR"),
            (None, Some(l)) => format!("\\fB\\-\\-{}\\fR", esc(l)),
            (None, None) => continue,
        };
        if takes_value(arg) {
            // `--wait [DUR]`: a value that may be left out.
            if arg.get_num_args().is_some_and(|r| r.min_values() == 0) {
                let _ = write!(flag, " [{}]", value(arg));
            } else {
                let _ = write!(flag, " {}", value(arg));
            }
        }
        let repeat = if matches!(arg.get_action(), ArgAction::Count | ArgAction::Append) {
            "..."
        } else {
            ""
        };
        let _ = write!(s, " {open}{flag}{close}{repeat}");
    }
    for arg in args.iter().filter(|a| a.is_positional()) {
        let name = value(arg);
        let many = matches!(arg.get_action(), ArgAction::Append)
            || arg.get_num_args().is_some_and(|r| r.max_values() > 1);
        let dots = if many { "..." } else { "" };
        let dashes = if arg.is_last_set() {
            "\\fB\\-\\-\\fR "
        } else {
            ""
        };
        if arg.is_required_set() {
            let _ = write!(s, " {dashes}{name}{dots}");
        } else {
            let _ = write!(s, " [{dashes}{name}{dots}]");
        }
    }
    if cmd.has_subcommands() {
        let optional = !cmd.is_subcommand_required_set();
        let _ = write!(
            s,
            " {}\\fICOMMAND\\fR{}",
            if optional { "[" } else { "" },
            if optional { "]" } else { "" }
        );
    }
    s.push('\n');
    s
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|r| r.takes_values())
}

/// `\fIHEX\fR`, or `{auto|cpu|cuda|rocm}` for a closed list.
fn value(arg: &Arg) -> String {
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| esc(v.get_name()))
        .collect();
    if !values.is_empty() {
        return format!("{{{}}}", values.join("|"));
    }
    let name = arg
        .get_value_names()
        .map(|v| {
            v.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    format!("\\fI{}\\fR", esc(&name))
}

/// The command's `after_help`, after the description: blocks whose lines fit 72 columns stay
/// as laid out; longer ones (prose) are filled. The top page leaves out the exit code list,
/// which EXIT STATUS gives as a table.
fn after_help(cmd: &Command, name: &str) -> String {
    let Some(text) = cmd.get_after_help().map(|t| t.to_string()) else {
        return String::new();
    };
    if name == "voxctl" {
        return String::new();
    }
    let mut s = String::new();
    for block in text.split("\n\n") {
        if block.lines().all(|l| l.chars().count() <= 72) {
            s.push_str(".PP\n.nf\n");
            for line in block.lines() {
                let _ = writeln!(s, "{}", esc(line));
            }
            s.push_str(".fi\n");
        } else {
            let joined: Vec<&str> = block.lines().map(str::trim).collect();
            let _ = writeln!(s, ".PP\n{}", esc(&joined.join(" ")));
        }
    }
    s
}

/// The subcommands, each with its page.
fn commands(roff: &mut String, cmd: &Command, name: &str) {
    let subs: Vec<&Command> = visible_subcommands(cmd).collect();
    if subs.is_empty() {
        return;
    }
    roff.push_str(".SH COMMANDS\n");
    for sub in subs {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        let _ = write!(
            roff,
            ".TP\n\\fB{}\\fR(1)\n{}\n",
            esc(&format!("{name}-{}", sub.get_name())),
            esc(&about)
        );
    }
}

/// Subcommands that have a page: neither hidden nor clap's `help`.
pub fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// The exit codes as a tbl table (docs/contract.md "Exit codes"; `ExitStatus::DOCUMENTED`).
fn exit_status(roff: &mut String, name: &str) {
    roff.push_str(".SH \"EXIT STATUS\"\n");
    if name == "voxctl-lease-run" {
        roff.push_str(
            "The command's exit status (128+N if it was killed by signal N); voxctl's own \
             failures use these codes:\n",
        );
    }
    roff.push_str(".TS\ntab(@);\nlb lb\nr lx.\ncode@meaning\n");
    for status in ExitStatus::DOCUMENTED {
        let (code, meaning) = (status.code(), crate::exit_codes::meaning(status));
        let _ = writeln!(roff, "{code}@T{{\n{}\nT}}", esc(meaning));
    }
    roff.push_str(".TE\n");
}

/// The environment variables the command's options read, then the ones every command reads,
/// then the page's own.
fn environment(roff: &mut String, cmd: &Command, extras: &Extras) {
    roff.push_str(".SH ENVIRONMENT\n");
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) {
            let _ = write!(
                roff,
                ".TP\n\\fB{}\\fR\nThe default of \\fB\\-\\-{}\\fR.\n",
                esc(&env.to_string_lossy()),
                esc(long)
            );
        }
    }
    let common = [
        (
            "VOXCTL_LOG",
            "A tracing filter for log output on stderr, e.g. voxctl=debug.",
        ),
        ("NO_COLOR", "No colour in output."),
    ];
    for (var, what) in common.iter().chain(extras.env) {
        let _ = write!(roff, ".TP\n\\fB{}\\fR\n{}\n", esc(var), esc(what));
    }
}

/// The parent page, the subcommands' pages and the other tools' pages.
fn see_also(roff: &mut String, cmd: &Command, name: &str, extras: &Extras) {
    let mut refs = Vec::new();
    if let Some((parent, _)) = name.rsplit_once('-') {
        refs.push(format!("\\fB{}\\fR(1)", esc(parent)));
    }
    for sub in visible_subcommands(cmd) {
        refs.push(format!(
            "\\fB{}\\fR(1)",
            esc(&format!("{name}-{}", sub.get_name()))
        ));
    }
    for other in extras.see_also {
        let (page, section) = other.split_once('(').unwrap_or((other, "1)"));
        refs.push(format!("\\fB{}\\fR({section}", esc(page)));
    }
    if refs.is_empty() {
        return;
    }
    let _ = write!(roff, ".SH \"SEE ALSO\"\n{}\n", refs.join(",\n"));
}
