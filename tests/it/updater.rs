//! `examples/updater.rs`, a backend updater built on the library alone, run for real in its
//! two phases (the app that updates, then the relaunched app), twice: a first install, then an
//! update of the running backend. Each time the replaced app instance is wedged (alive, holding
//! the app's pidfile) and must be reaped on the relaunch marker's evidence.

use crate::support;

use std::process::{Command, Output};

use support::fetch::whole_release;
use support::restart::{asset_name, example_bin, fixture_bin, http_get_json, Env};

fn updater(args: &[&std::ffi::OsStr]) -> Output {
    let out = Command::new(example_bin("updater"))
        .args(args)
        .env_remove("VOXCTL_STATE_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "updater {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A stand-in for a wedged app instance, killed on drop if the updater did not reap it.
struct Wedged(std::process::Child);

impl Drop for Wedged {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The number after `prefix` on the line that has it.
fn pid_after(text: &str, prefix: &str) -> i32 {
    let at = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix:?} in {text}"))
        + prefix.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no pid after {prefix:?} in {text}"))
}

#[test]
fn the_updater_example_installs_then_updates_reaping_the_wedged_instance_each_time() {
    use std::os::unix::process::ExitStatusExt;

    let env = Env::new();
    let pidfile = env.tmp.path().join("app.pid");
    let marker = env.state.join("relaunch-marker.json");
    let program = std::fs::read(fixture_bin()).unwrap();
    let mut running: Option<i32> = None;
    for round in 1..=2 {
        // The second release is another build: the same program with 4 KiB of zeros appended.
        let mut build = program.clone();
        if round == 2 {
            build.extend(std::iter::repeat_n(0u8, 4096));
        }
        let release = env.tmp.path().join(format!("release-{round}"));
        whole_release(&release, &asset_name("cpu"), &build);

        // The instance the update replaces: alive and holding the app's lock, but it would
        // never exit by itself.
        let mut wedged = Wedged(Command::new("sleep").arg("600").spawn().unwrap());
        std::fs::write(&pidfile, format!("{}\n", wedged.0.id())).unwrap();

        let out = updater(&[
            "update".as_ref(),
            release.as_os_str(),
            env.data.as_os_str(),
            env.state.as_os_str(),
            wedged.0.id().to_string().as_ref(),
        ]);
        let text = stdout(&out);
        let size = build.len();
        assert!(
            text.contains(&format!(
                "check: an update of {size} bytes, {size} to download"
            )),
            "{text}"
        );
        // The UI thread got the fetch's events, in order, as JSON.
        let planned = text.find(r#"ui: {"event":"start""#).expect(&text);
        let verified = text.find(r#"ui: {"event":"verified""#).expect(&text);
        let installed = text.find(r#"ui: {"event":"installed""#).expect(&text);
        assert!(planned < verified && verified < installed, "{text}");
        assert!(
            text.contains(&format!(
                "update: marked pid {} for the relaunch",
                wedged.0.id()
            )),
            "{text}"
        );
        assert!(marker.is_file());
        let installed_path = env.backends().asset_path(&asset_name("cpu"));
        assert_eq!(std::fs::read(&installed_path).unwrap(), build);

        let out = updater(&[
            "relaunched".as_ref(),
            env.data.as_os_str(),
            env.state.as_os_str(),
            pidfile.as_os_str(),
            env.port.to_string().as_ref(),
        ]);
        let text = stdout(&out);
        assert!(text.contains("1 target(s), 0 survivor(s)"), "{text}");
        assert!(text.contains("reap: reap ("), "{text}");
        // Reaped by the SIGTERM after the teardown grace, not left for the test's cleanup.
        let status = wedged.0.wait().unwrap();
        assert_eq!(status.signal(), Some(15), "{status:?}\n{text}");
        assert!(!marker.exists(), "the marker is consumed once");

        let pid = pid_after(&text, "backend running as pid ");
        env.track(pid);
        match running {
            None => assert!(!text.contains("restart: stopped pid"), "{text}"),
            Some(previous) => assert_eq!(
                pid_after(&text, "restart: stopped pid "),
                previous,
                "{text}"
            ),
        }
        let health = http_get_json(env.port, "/health").expect("the backend answers");
        assert_eq!(health["status"], "healthy", "{health}");
        assert_eq!(health["pid"], pid, "{health}");
        running = Some(pid);
    }
    // The updater leaves the backend running, as an app would; Env's drop kills it.
    assert!(running.is_some());
}
