//! `voxctl completions SHELL` and the hidden `voxctl generate DIR`, which writes the committed
//! copies in `completions/` and `man/` (a test fails when they are stale).

use std::path::Path;

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

pub fn completions(args: CompletionsArgs) -> Result<u8> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "voxctl", &mut std::io::stdout());
    Ok(crate::exit::SUCCESS)
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

pub fn generate(args: GenerateArgs, printer: &Printer) -> Result<u8> {
    let comp_dir = args.dir.join("completions");
    let man_dir = args.dir.join("man");
    for d in [&comp_dir, &man_dir] {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    for shell in SHELLS {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "voxctl", &mut buf);
        write(&comp_dir.join(script_name(shell)), &buf)?;
    }
    let mut cmd = Cli::command();
    cmd.build();
    write_man(&cmd, "voxctl", &man_dir)?;
    printer.message(format!(
        "wrote {} and {}",
        comp_dir.display(),
        man_dir.display()
    ));
    Ok(crate::exit::SUCCESS)
}

/// Writes `NAME.1` for `cmd` and, recursively, `NAME-SUB.1` for each visible subcommand.
fn write_man(cmd: &clap::Command, name: &str, dir: &Path) -> Result<()> {
    let page = cmd.clone().name(name.to_string());
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    write(&dir.join(format!("{name}.1")), &buf)?;
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        write_man(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    voxctl::atomic::write_atomic(path, bytes)
}
