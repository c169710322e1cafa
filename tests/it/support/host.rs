//! Linux programs (nginx, etcd, `sh`, GNU tools) started by the tests, on Linux and in the
//! Windows suite, which runs under Wine on Linux (scripts/windows-test.sh).
//!
//! On Linux a program is a plain child process. Under Wine a Windows process can start a
//! Linux program, but Wine starts it detached: the Windows side gets no handle (no pid, no
//! exit status, no pipes). There a program runs behind `sh`, which writes its pid, and at the
//! end its exit status, to files that the test reads through Wine's `Z:` drive (the Linux
//! `/`); its output goes to files too. Paths handed to a Linux program must be Linux paths:
//! [`unix_path`] turns the Windows form of a path under `Z:` back into one.

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

/// What a finished program left: its exit code (None if a signal ended it) and its output.
#[derive(Debug)]
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Finished {
    /// Whether it exited with status 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// `path` as a Linux program must be given it. On Linux the path itself; under Wine the
/// Windows form of a path on `Z:` (`Z:\tmp\x`, or `\\?\Z:\tmp\x`) becomes `/tmp/x`. Panics
/// for a path on another drive, which no Linux program could open (the Windows suite keeps
/// %TEMP% on `Z:` for this).
pub fn unix_path(path: &Path) -> String {
    let s = path.to_str().expect("test paths are UTF-8");
    if cfg!(unix) {
        return s.to_string();
    }
    let rest = s.strip_prefix(r"\\?\").unwrap_or(s);
    let rest = rest
        .strip_prefix("Z:")
        .or_else(|| rest.strip_prefix("z:"))
        .unwrap_or_else(|| {
            assert!(
                s.starts_with('/'),
                "{s} is not on Wine's Z: drive, so no Linux program can open it"
            );
            rest
        });
    rest.replace('\\', "/")
}

/// Runs `program` with `args` (and `env` added) to its end, as `Command::output` does.
pub fn output<I, S>(program: &str, args: I, env: &[(&str, &str)]) -> Finished
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut child = Host::spawn(program, args, env);
    child.wait(Duration::from_secs(600))
}

/// Runs `script` with `sh -c` in `dir` (and `env` added) to its end.
pub fn sh_output(dir: &Path, script: &str, env: &[(&str, &str)]) -> Finished {
    let script = format!("cd {} && {{\n{script}\n}}", sh_quote(&unix_path(dir)));
    output("sh", ["-c", &script], env)
}

/// [`sh_output`], which must exit 0 (it panics otherwise, with the script's stderr).
pub fn sh_in(dir: &Path, script: &str, env: &[(&str, &str)]) {
    let f = sh_output(dir, script, env);
    assert!(
        f.success(),
        "{script}: {:?}: {}",
        f.code,
        String::from_utf8_lossy(&f.stderr)
    );
}

/// A running Linux program.
pub struct Host {
    #[cfg(unix)]
    child: std::process::Child,
    #[cfg(unix)]
    out: tempfile::TempDir,
    #[cfg(windows)]
    dir: tempfile::TempDir,
    #[cfg(windows)]
    pid: i32,
    done: bool,
}

/// Quotes `s` as one word for `sh`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Host {
    /// Starts `program` (a name looked up on the Linux PATH, or a Linux path) with `args`
    /// and `env` added; stdin is empty, stdout and stderr are kept for [`Host::wait`].
    pub fn spawn<I, S>(program: &str, args: I, env: &[(&str, &str)]) -> Host
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        #[cfg(unix)]
        {
            let out = tempfile::tempdir().unwrap();
            let child = std::process::Command::new(program)
                .args(args)
                .envs(env.iter().copied())
                .stdin(std::process::Stdio::null())
                .stdout(std::fs::File::create(out.path().join("stdout")).unwrap())
                .stderr(std::fs::File::create(out.path().join("stderr")).unwrap())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
            Host {
                child,
                out,
                done: false,
            }
        }
        #[cfg(windows)]
        {
            let dir = tempfile::tempdir().unwrap();
            let d = unix_path(dir.path());
            // `env` sets the variables and execs the program: the pid stays the same.
            let mut line = "env".to_string();
            for (k, v) in env {
                line += &format!(" {}", sh_quote(&format!("{k}={v}")));
            }
            line += " ";
            line += &sh_quote(program);
            for a in args {
                line += " ";
                line += &sh_quote(a.as_ref().to_str().expect("UTF-8 argument"));
            }
            // `pid` names the process that runs the program (`exec` keeps the pid of the
            // `sh` below it); `status` appears, complete, only once the program ended.
            let script = format!(
                "cd {} && sh -c 'echo $$ > pid.tmp && mv pid.tmp pid && exec \"$@\"' sh \
                 {line} </dev/null >stdout 2>stderr; echo $? > status.tmp; mv status.tmp status",
                sh_quote(&d)
            );
            // Wine gives no handle to a Linux process: the spawn result says only that Wine
            // accepted the command line, so the pid file is the evidence that it started.
            // No inherited stdio: a Linux program holding the test's stdout open would keep
            // the test runner waiting for the pipe to close.
            let _ = std::process::Command::new(r"Z:\bin\sh")
                .args(["-c", &script])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("start /bin/sh through Wine");
            let pid_file = dir.path().join("pid");
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            let pid = loop {
                if let Ok(p) = std::fs::read_to_string(&pid_file) {
                    break p.trim().parse().expect("pid file");
                }
                if dir.path().join("status").exists() {
                    panic!(
                        "{program} did not start: {}",
                        read(&dir.path().join("stderr"))
                    );
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "{program} did not start"
                );
                std::thread::sleep(Duration::from_millis(5));
            };
            Host {
                dir,
                pid,
                done: false,
            }
        }
    }

    /// Its Linux pid.
    pub fn pid(&self) -> i32 {
        #[cfg(unix)]
        return self.child.id() as i32;
        #[cfg(windows)]
        return self.pid;
    }

    /// Its exit code if it has ended (None inside for a signal), or None while it runs.
    /// Under Wine the code comes from `sh`, which reports a death by signal N as 128 + N: an
    /// exit code of 128 or more reads as a signal there.
    pub fn try_wait(&mut self) -> Option<Option<i32>> {
        #[cfg(unix)]
        {
            let st = self.child.try_wait().expect("try_wait")?;
            self.done = true;
            Some(st.code())
        }
        #[cfg(windows)]
        {
            let text = std::fs::read_to_string(self.dir.path().join("status")).ok()?;
            self.done = true;
            // `sh` reports a death by signal N as status 128 + N.
            let code: i32 = text.trim().parse().expect("status file");
            Some((code < 128).then_some(code))
        }
    }

    /// Waits up to `timeout` for its end (panics after) and returns what it left.
    pub fn wait(&mut self, timeout: Duration) -> Finished {
        let deadline = std::time::Instant::now() + timeout;
        let code = loop {
            if let Some(code) = self.try_wait() {
                break code;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "pid {} did not end within {timeout:?}",
                self.pid()
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        Finished {
            code,
            stdout: std::fs::read(self.file("stdout")).unwrap_or_default(),
            stderr: std::fs::read(self.file("stderr")).unwrap_or_default(),
        }
    }

    /// Sends `signal` (TERM, KILL, STOP or CONT) to it. A process that has already ended is
    /// not an error; the effect is what the caller waits for (an end, a stopped state).
    pub fn signal(&self, signal: &str) {
        #[cfg(unix)]
        {
            use nix::sys::signal::Signal;
            let sig = match signal {
                "TERM" => Signal::SIGTERM,
                "KILL" => Signal::SIGKILL,
                "STOP" => Signal::SIGSTOP,
                "CONT" => Signal::SIGCONT,
                other => panic!("no signal {other} here"),
            };
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig);
        }
        #[cfg(windows)]
        {
            // kill(1) through Wine: no handle, no status (see the module's doc).
            let _ = std::process::Command::new(r"Z:\bin\kill")
                .args(["-s", signal, &self.pid().to_string()])
                .spawn();
        }
    }

    /// Kills it (SIGKILL) and waits for its end.
    pub fn kill(&mut self) {
        if self.done {
            return;
        }
        #[cfg(unix)]
        {
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.done = true;
        }
        #[cfg(windows)]
        {
            self.signal("KILL");
            let _ = self.wait(Duration::from_secs(60));
        }
    }

    fn file(&self, name: &str) -> std::path::PathBuf {
        #[cfg(unix)]
        return self.out.path().join(name);
        #[cfg(windows)]
        return self.dir.path().join(name);
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(windows)]
fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
