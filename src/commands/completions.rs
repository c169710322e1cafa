//! `voxctl completions SHELL` and the hidden `voxctl generate DIR`, which writes the committed
//! copies in `completions/` and `man/` (a test fails when they are stale).

use std::path::Path;
use voxctl::exit::ExitStatus;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs, GenerateArgs};
use crate::output::Printer;

/// The shells `completions/` holds a script for.
const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::Elvish,
    Shell::PowerShell,
];

pub fn completions(args: CompletionsArgs) -> Result<ExitStatus> {
    use std::io::Write;
    std::io::stdout().write_all(&script(args.shell))?;
    Ok(ExitStatus::Success)
}

/// The completion script for `shell`.
fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = completion_command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "voxctl", &mut buf);
    if shell == Shell::Fish {
        fish_no_files(&cmd, "", &mut buf);
        fish_positional_values(&cmd, "", &mut buf);
    }
    buf
}

/// fish completes file names for arguments it has no rule for; clap_complete writes no rule
/// for positional arguments that are not paths (a lease name, a variant), nor for
/// subcommands without positionals. This adds `-f` (no files) for every subcommand none of
/// whose arguments, its subcommands' included, is a path or a command line.
fn fish_no_files(cmd: &clap::Command, condition: &str, out: &mut Vec<u8>) {
    use clap::ValueHint::{AnyPath, CommandName, CommandWithArguments, DirPath, FilePath};
    fn wants_paths(cmd: &clap::Command) -> bool {
        cmd.get_positionals().any(|a| {
            matches!(
                a.get_value_hint(),
                FilePath | DirPath | AnyPath | CommandName | CommandWithArguments
            )
        }) || cmd.get_subcommands().any(wants_paths)
    }
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let cond = fish_condition(condition, sub);
        if !wants_paths(sub) {
            out.extend_from_slice(format!("complete -c voxctl -n \"{cond}\" -f\n").as_bytes());
        } else if condition.is_empty() {
            fish_no_files(sub, &cond, out);
        }
    }
}

/// clap_complete's fish script completes no positional argument from its list of values
/// (`voxctl remove VARIANT`, `voxctl completions SHELL`); this offers the values while none of
/// them is on the command line yet.
fn fish_positional_values(cmd: &clap::Command, condition: &str, out: &mut Vec<u8>) {
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let cond = fish_condition(condition, sub);
        for arg in sub.get_positionals() {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            if !values.is_empty() {
                let values = values.join(" ");
                out.extend_from_slice(
                    format!(
                        "complete -c voxctl -n \"{cond}; and not __fish_seen_subcommand_from \
                         {values}\" -f -a \"{values}\"\n"
                    )
                    .as_bytes(),
                );
            }
        }
        fish_positional_values(sub, &cond, out);
    }
}

/// The command line as the completion scripts offer it: without hidden subcommands (clap_complete
/// lists `generate` otherwise, in bash also under `help`), and with every value that is
/// neither a path (their hints are set in cli.rs) nor from a list completing as free text
/// rather than as a file name.
fn completion_command() -> clap::Command {
    let full = Cli::command();
    let mut cmd = clap::Command::new("voxctl")
        .version(full.get_version().unwrap_or_default().to_string())
        .about(full.get_about().cloned().unwrap_or_default())
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    cmd.build();
    free_text_values(cmd)
}

/// Marks values with no hint and no list of possible values as free text, recursively.
fn free_text_values(mut cmd: clap::Command) -> clap::Command {
    let ids: Vec<clap::Id> = cmd
        .get_arguments()
        .filter(|a| {
            a.get_num_args().is_some_and(|n| n.takes_values())
                && a.get_value_hint() == clap::ValueHint::Unknown
                && a.get_possible_values().is_empty()
        })
        .map(|a| a.get_id().clone())
        .collect();
    for id in ids {
        cmd = cmd.mut_arg(id, |a| a.value_hint(clap::ValueHint::Other));
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, free_text_values);
    }
    cmd
}

/// The file name of `shell`'s script in `completions/`.
fn script_name(shell: Shell) -> String {
    match shell {
        Shell::Bash => "voxctl.bash".into(),
        Shell::Zsh => "_voxctl".into(),
        Shell::Fish => "voxctl.fish".into(),
        Shell::Elvish => "voxctl.elv".into(),
        Shell::PowerShell => "_voxctl.ps1".into(),
        other => format!("voxctl.{other}"),
    }
}

pub fn generate(args: GenerateArgs, printer: &Printer) -> Result<ExitStatus> {
    let comp_dir = args.dir.join("completions");
    let man_dir = args.dir.join("man");
    for d in [&comp_dir, &man_dir] {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    for shell in SHELLS {
        write(&comp_dir.join(script_name(shell)), &script(shell))?;
    }
    let mut cmd = Cli::command();
    cmd.build();
    write_man(&cmd, "voxctl", &man_dir)?;
    printer.message(format!(
        "wrote {} and {}",
        comp_dir.display(),
        man_dir.display()
    ));
    Ok(ExitStatus::Success)
}

/// Writes `NAME.1` for `cmd` and, recursively, `NAME-SUB.1` for each visible subcommand.
fn write_man(cmd: &clap::Command, name: &str, dir: &Path) -> Result<()> {
    let words = name.replace('-', " ");
    write(
        &dir.join(format!("{name}.1")),
        &super::man::page(cmd, name, &words)?,
    )?;
    for sub in super::man::visible_subcommands(cmd) {
        write_man(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}

/// Man pages and completion scripts are installed for every user: published files.
fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    voxctl::atomic::publish_atomic(path, bytes)
}

/// The fish condition under which `sub` is being completed: `condition` (its parent's, empty
/// at the top level) and `sub` seen on the command line.
fn fish_condition(condition: &str, sub: &clap::Command) -> String {
    if condition.is_empty() {
        format!("__fish_voxctl_using_subcommand {}", sub.get_name())
    } else {
        format!(
            "{condition}; and __fish_seen_subcommand_from {}",
            sub.get_name()
        )
    }
}
