//! Hostile-input cases: hostile processes: process groups holding voxctl's ancestors, stopped holders.

/// `restart` signals the whole process group named in `backend.json`, which would kill a
/// parent shell of voxctl that joined that group. A group holding voxctl or one of its
/// ancestors gets the signal at its leader only, and voxctl says so.
mod group_holding_voxctls_ancestor {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use crate::support::lease::Spawned;
    use crate::support::restart::{alive, wait_until, Env};
    use voxctl::backend::record::BackendRecord;
    use voxctl::process::ProcessIdentity;
    use voxctl::variant::Variant;

    #[test]
    fn restart_signals_the_leader_alone_when_its_group_holds_the_calling_shell() {
        let env = Env::new();
        let binary = env.install("cpu", "", None);
        // The "backend": a process leading its own group in the test's session, so that a
        // shell can join that group (setpgid works only within a session).
        let mut leader = Command::new("sleep");
        leader.arg("600").process_group(0);
        let leader = Spawned::spawn(leader);
        let pid = leader.pid();
        env.track(pid);
        let id = ProcessIdentity::capture(pid).expect("the leader runs");
        std::fs::create_dir_all(&env.state).unwrap();
        BackendRecord {
            pid,
            start_time: id.start_time,
            boot_id: id.boot_id,
            host: id.host,
            variant: Variant::Cpu,
            binary,
            version: None,
            port: env.port,
            health_url: None,
            data_dir: Some(env.data.clone()),
            args: Vec::new(),
            log: env.state.join("old.log"),
            started_at: 0,
            ready_ms: None,
        }
        .write(&env.state.join("backend.json"))
        .unwrap();

        // The shell joins the backend's group, then runs voxctl in a session of its own:
        // the shell (voxctl's parent) is the only member of voxctl's lineage in the group.
        let inner = env.restart_std("cpu", &[]);
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg(r#"setsid "$@"; echo "shell survived, voxctl exited $?""#)
            .arg("sh")
            .arg(inner.get_program())
            .args(inner.get_args())
            .process_group(pid)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in inner.get_envs() {
            match v {
                Some(v) => shell.env(k, v),
                None => shell.env_remove(k),
            };
        }
        let mut shell = Spawned::spawn(shell);
        let status = shell
            .wait_timeout(Duration::from_secs(120))
            .expect("the shell and its voxctl restart did not finish within 120 s");
        let (mut out, mut err) = (String::new(), String::new());
        shell
            .0
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        shell
            .0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let new = env.record();
        assert!(
            status.success(),
            "the shell in the backend's group was killed: {status:?}\nstdout: {out}\nstderr: {err}"
        );
        assert!(
            out.contains("shell survived, voxctl exited 0"),
            "{out}\n{err}"
        );
        assert!(
            err.contains(&format!("signalling pid {pid} alone")),
            "voxctl did not say it signalled the leader only: {err}"
        );
        assert!(
            wait_until(Duration::from_secs(30), || !alive(pid)),
            "the leader {pid} was not stopped"
        );
        let new = new.expect("a new backend is recorded");
        assert_ne!(new.pid, pid);
    }
}

/// Processes that stop or die mid-fetch.
mod holders_and_killed_fetches {
    use std::process::Stdio;
    use std::time::Duration;

    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;

    use crate::support::fetch::{self as f, Fixture, ASSET};
    use crate::support::http::Server;
    use crate::support::lease::Spawned;

    const MB: usize = 1 << 20;

    /// A `fetch --force` killed mid-download leaves a partial download of a
    /// release that is installed; the next fetch finds it "already installed", and must not say
    /// so while gigabytes of stale partial data linger unreported: it removes them and says so,
    /// leaving no empty `.partial/` behind.
    #[test]
    fn a_killed_force_fetch_leaves_no_stale_partial_behind_already_installed() {
        let fx = Fixture::new();
        let bytes = f::data(4 * MB, 121);
        f::json_release(&fx.rel(), ASSET, &bytes, 2 * MB);
        let srv = Server::start(&fx.rel());
        fx.fetch(&srv.url()).assert().success();

        srv.set(|s| s.trickle = Some((32 * 1024, Duration::from_millis(20))));
        let mut forced = fx
            .fetch_std(&srv.url())
            .arg("--force")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        f::wait_until(60, "partial data of the --force run", || {
            f::partial_bytes(&fx.partial()) >= 256 * 1024
        });
        kill(Pid::from_raw(forced.id() as i32), Signal::SIGKILL).unwrap();
        forced.wait().unwrap();
        assert!(fx.partial().exists());

        srv.set(|s| s.trickle = None);
        let out = fx.fetch(&srv.url()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("already installed"), "{stderr}");
        assert!(
            stderr.contains(&format!("removed a stale partial download of {ASSET}")),
            "{stderr}"
        );
        assert!(
            !fx.data().join("backends/.partial").exists(),
            "stale partial data and its empty parent removed"
        );
        assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    }

    /// Waits (polling, up to `secs`) for `child` to exit and returns its exit code.
    fn exit_code_within(child: &mut std::process::Child, secs: u64, what: &str) -> Option<i32> {
        let mut status = None;
        f::wait_until(secs, what, || {
            status = child.try_wait().unwrap();
            status.is_some()
        });
        status.and_then(|s| s.code())
    }

    /// A `voxctl fetch --wait...` from `srv` with its stderr going to file `err`, killed on drop.
    fn waiter(fx: &Fixture, srv: &Server, wait: &str, err: &std::path::Path) -> Spawned {
        let mut cmd = fx.fetch_std(&srv.url());
        cmd.arg(wait)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(err).unwrap());
        Spawned::spawn(cmd)
    }

    /// `fetch --wait` behind a SIGSTOPped holder must not wait without end and without a
    /// word. After 10 s without progress from the holder it says so, once, naming the
    /// pid and `kill -CONT PID`; `--wait=DUR` exits 4 when it runs out while the holder still
    /// holds the slot; a bare `--wait` goes on and finishes once the holder is resumed.
    #[test]
    fn fetch_wait_behind_a_stopped_holder_says_so_once_and_honours_its_limit() {
        let fx = Fixture::new();
        let bytes = f::data(4 * MB, 122);
        f::json_release(&fx.rel(), ASSET, &bytes, 2 * MB);
        let srv = Server::start(&fx.rel());
        srv.set(|s| s.trickle = Some((32 * 1024, Duration::from_millis(20))));
        let mut cmd = fx.fetch_std(&srv.url());
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let mut holder = Spawned::spawn(cmd); // killed on drop, stopped or not
        let pid = holder.pid();
        f::wait_until(60, "the holder's partial data", || {
            f::partial_bytes(&fx.partial()) >= 256 * 1024
        });
        kill(Pid::from_raw(pid), Signal::SIGSTOP).unwrap();
        f::wait_until(30, "the holder to stop", || {
            voxctl::process::is_stopped(pid)
        });

        let (a_err, b_err) = (fx.tmp.path().join("a.err"), fx.tmp.path().join("b.err"));
        let mut limited = waiter(&fx, &srv, "--wait=15", &a_err);
        let mut unlimited = waiter(&fx, &srv, "--wait", &b_err);
        let notice = format!("pid {pid} has shown no progress for");
        let cont = format!("`kill -CONT {pid}`");

        let code = exit_code_within(&mut limited.0, 120, "the --wait=15 waiter to give up");
        let a = std::fs::read_to_string(&a_err).unwrap();
        assert_eq!(code, Some(4), "{a}");
        assert_eq!(a.matches(&notice).count(), 1, "said once: {a}");
        assert!(a.contains(&cont), "{a}");
        assert!(a.contains("still held after waiting 15s"), "{a}");
        assert!(a.contains(&format!("pid {pid}")), "{a}");

        // The unlimited waiter has said so too, once, and is still waiting.
        f::wait_until(60, "the bare --wait waiter's notice", || {
            std::fs::read_to_string(&b_err).is_ok_and(|b| b.contains(&notice))
        });
        assert_eq!(
            unlimited.0.try_wait().unwrap(),
            None,
            "a bare --wait has no limit"
        );
        kill(Pid::from_raw(pid), Signal::SIGCONT).unwrap();
        assert_eq!(
            exit_code_within(&mut holder.0, 120, "the holder to finish"),
            Some(0)
        );
        let code = exit_code_within(&mut unlimited.0, 120, "the bare --wait waiter to finish");
        let b = std::fs::read_to_string(&b_err).unwrap();
        assert_eq!(code, Some(0), "{b}");
        assert_eq!(b.matches(&notice).count(), 1, "said once: {b}");
        assert_eq!(std::fs::read(fx.installed()).unwrap(), bytes);
    }
}
