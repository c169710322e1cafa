//! `restart` and `stop` on Windows, against a backend shaped like a PyInstaller one-file
//! program (tests/windows/fixture_bootloader.c): the process voxctl starts is a bootloader
//! whose child holds the port. Ending the bootloader alone leaves the port taken; voxctl must
//! end the whole tree and see the port free. Under Wine 8 no CTRL_BREAK_EVENT can be sent, so
//! these runs take the terminate path after `--stop-timeout`.

use crate::support;

use std::time::Duration;

use support::restart::{alive, wait_until, Env};

/// Whether nothing listens on 127.0.0.1:`port` (the bootloader's child binds it exclusively,
/// so a bind succeeds only once it is gone).
fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// The pids `/health` names: the child that holds the port, and its bootloader.
fn tree(env: &Env) -> (i32, i32) {
    let h = env.health().expect("the backend answers /health");
    let pid = |k: &str| h[k].as_i64().unwrap_or_else(|| panic!("{k} in {h}")) as i32;
    (pid("pid"), pid("bootloader_pid"))
}

#[test]
fn stop_ends_the_bootloader_and_the_child_that_holds_the_port() {
    let env = Env::new();
    env.install("cpu", "", Some("0.1.0"));
    env.restart("cpu", &[]).assert().success();
    let (child, bootloader) = tree(&env);
    assert_ne!(child, bootloader);
    let rec = env.record().expect("backend.json");
    assert_eq!(
        rec.pid, bootloader,
        "backend.json records the process voxctl started"
    );
    support::voxctl(&env.state)
        .args(["stop", "--stop-timeout", "1s"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    assert!(
        port_free(env.port),
        "port {} still held after stop",
        env.port
    );
    assert!(!alive(child), "the child {child} outlived stop");
    assert!(
        !alive(bootloader),
        "the bootloader {bootloader} outlived stop"
    );
}

#[test]
fn restart_to_another_variant_ends_the_old_tree_before_the_new_one_binds() {
    let env = Env::new();
    env.install("cpu", "", Some("0.1.0"));
    env.install("cuda", "version=0.2.0\n", Some("0.2.0"));
    env.restart("cpu", &[]).assert().success();
    let (old_child, old_bootloader) = tree(&env);
    env.restart("cuda", &["--stop-timeout", "1s"])
        .assert()
        .success();
    let health = env.health().expect("the new backend answers");
    assert_eq!(health["backend_variant"], "cuda");
    let (new_child, _) = tree(&env);
    assert_ne!(new_child, old_child);
    assert!(
        wait_until(Duration::from_secs(30), || !alive(old_child)
            && !alive(old_bootloader)),
        "the old tree ({old_bootloader} and its child {old_child}) outlived the restart"
    );
}
