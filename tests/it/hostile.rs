//! The hostile-input suite: what an attacker controls — a release, a server, the
//! state dir, a process — and what voxctl must do with it: never write or link outside where it
//! belongs, never truncate a file it does not own, never hang, never grow memory, and exit with
//! the code docs/contract.md gives. The next attacker's case goes into the module of what they
//! control.

#[cfg(unix)]
mod disk_space;
#[cfg(unix)]
mod etcd_gateway;
#[cfg(unix)]
mod gpu;
mod install_records;
#[cfg(unix)]
mod leases;
#[cfg(unix)]
mod processes;
#[cfg(unix)]
mod releases;
mod servers;
mod servers_slow;
mod signatures;
#[cfg(unix)]
mod special_files;
#[cfg(unix)]
mod state_dir;
mod terminal;
mod times;
