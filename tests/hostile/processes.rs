//! Hostile-input cases: hostile processes: process groups holding voxctl's ancestors, stopped holders.

/// Item 5: `restart` signalled the whole process group named in `backend.json`, and a parent
/// shell of voxctl that had joined that group was killed with it. Now a group holding voxctl
/// or one of its ancestors gets the signal at its leader only, and voxctl says so.
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
        assert_ne!(new["pid"].as_i64(), Some(i64::from(pid)));
    }
}
