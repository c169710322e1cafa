//! What GPUs this host has, and whether a release's variant can run on them.
//!
//! Why this exists: the reference app's users downloaded a 2.4 GB CUDA build and only then
//! learned that it has no kernels for their card. A release can state its requirements in
//! `S.manifest.json` ([`Requirements`]); `fetch` compares them with what is detected here
//! before downloading a byte.
//!
//! Detection (every probe bounded by a timeout; a probe that cannot answer says so, and an
//! unknown is never a reason to refuse):
//!
//! - NVIDIA: `nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader`
//!   (found on `PATH`). Drivers older than 510 do not know `compute_cap` and fail the whole
//!   query, so it is asked again without it: the GPU is then listed with an unknown
//!   capability. NVML through a crate was not used: it needs the same driver library that
//!   `nvidia-smi` ships with, and adds nothing the CSV does not give.
//! - AMD: the kfd topology in sysfs, `class/kfd/kfd/topology/nodes/*/properties`, whose
//!   `gfx_target_version` (e.g. `100300`) names the ISA (`gfx1030`); CPU nodes have 0. The
//!   sysfs root is a parameter ([`Probes::sysfs_root`]) so tests can point it at a fake tree.
//!
//! The CUDA rules ([`CudaArch::runs_on`]) are NVIDIA's binary compatibility rules: a cubin
//! built for X.Y runs on X.Z for Z >= Y (same major), PTX for X.Y is compiled by the driver
//! for any capability >= X.Y; an arch-specific `X.Ya` cubin runs on X.Y only.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::variant::Variant;
use crate::Error;

/// A CUDA compute capability, such as 8.9 (major 8, minor 9); in JSON the string `"8.9"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Capability {
    /// The major version.
    pub major: u32,
    /// The minor version.
    pub minor: u32,
}

impl FromStr for Capability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s
            .trim()
            .split_once('.')
            .ok_or_else(|| format!("compute capability {s:?} is not MAJOR.MINOR"))?;
        let num = |x: &str| {
            x.parse::<u32>()
                .map_err(|_| format!("compute capability {s:?} is not MAJOR.MINOR"))
        };
        Ok(Capability {
            major: num(a)?,
            minor: num(b)?,
        })
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// One entry of a `TORCH_CUDA_ARCH_LIST`: `8.6` (a cubin), `12.0+PTX` (a cubin and PTX),
/// `9.0a` (an arch-specific cubin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CudaArch {
    /// The capability the code was built for.
    pub cap: Capability,
    /// PTX is included (`+PTX`): runs on every later capability too.
    pub ptx: bool,
    /// An arch-specific cubin (`a` suffix): runs on exactly this capability.
    pub specific: bool,
}

impl CudaArch {
    /// Whether code built for this entry runs on a GPU of capability `gpu` (module docs).
    pub fn runs_on(&self, gpu: Capability) -> bool {
        let cubin = if self.specific {
            gpu == self.cap
        } else {
            gpu.major == self.cap.major && gpu.minor >= self.cap.minor
        };
        cubin || (self.ptx && gpu >= self.cap)
    }
}

impl fmt::Display for CudaArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.cap)?;
        if self.specific {
            f.write_str("a")?;
        }
        if self.ptx {
            f.write_str("+PTX")?;
        }
        Ok(())
    }
}

/// A `TORCH_CUDA_ARCH_LIST` value: entries separated by `;` or spaces, each `X.Y`,
/// `X.Y+PTX`, `X.Ya`, or one of PyTorch's names (`Pascal` = `6.0;6.1+PTX`, ...). Kept in
/// the manifest as the text it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CudaArchList {
    text: String,
    /// The entries, names expanded.
    pub archs: Vec<CudaArch>,
}

/// PyTorch's named architectures (`torch.utils.cpp_extension`).
const NAMED_ARCHS: [(&str, &str); 10] = [
    ("Kepler+Tesla", "3.7"),
    ("Kepler", "3.5+PTX"),
    ("Maxwell+Tegra", "5.3"),
    ("Maxwell", "5.0;5.2+PTX"),
    ("Pascal", "6.0;6.1+PTX"),
    ("Volta", "7.0+PTX"),
    ("Turing", "7.5+PTX"),
    ("Ampere", "8.0;8.6+PTX"),
    ("Ada", "8.9+PTX"),
    ("Hopper", "9.0+PTX"),
];

impl CudaArchList {
    /// Whether any entry runs on capability `gpu`.
    pub fn runs_on(&self, gpu: Capability) -> bool {
        self.archs.iter().any(|a| a.runs_on(gpu))
    }
}

fn parse_arch(entry: &str, whole: &str) -> Result<CudaArch, String> {
    let bad = || {
        format!(
            "invalid CUDA arch {entry:?} in {whole:?}: expected X.Y, X.Y+PTX or X.Ya \
             (TORCH_CUDA_ARCH_LIST syntax, e.g. \"8.0;8.6;8.9;9.0;12.0+PTX\")"
        )
    };
    let (rest, ptx) = match entry.strip_suffix("+PTX") {
        Some(r) => (r, true),
        None => (entry, false),
    };
    let (rest, specific) = match rest.strip_suffix('a') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let cap = rest.parse::<Capability>().map_err(|_| bad())?;
    Ok(CudaArch { cap, ptx, specific })
}

impl FromStr for CudaArchList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut archs = Vec::new();
        for entry in s.split([';', ' ']).filter(|e| !e.is_empty()) {
            match NAMED_ARCHS.iter().find(|(n, _)| *n == entry) {
                Some((_, expansion)) => {
                    for e in expansion.split(';') {
                        archs.push(parse_arch(e, s)?);
                    }
                }
                None => archs.push(parse_arch(entry, s)?),
            }
        }
        if archs.is_empty() {
            return Err(format!("CUDA arch list {s:?} names no architecture"));
        }
        Ok(CudaArchList {
            text: s.trim().to_string(),
            archs,
        })
    }
}

impl fmt::Display for CudaArchList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An NVIDIA driver version such as `535.104.05`, compared number by number and shown (and
/// serialized, as a JSON string) as given.
#[derive(Debug, Clone)]
pub struct DriverVersion {
    numbers: Vec<u32>,
    text: String,
}

impl PartialEq for DriverVersion {
    fn eq(&self, other: &Self) -> bool {
        self.numbers == other.numbers
    }
}

impl Eq for DriverVersion {}

impl PartialOrd for DriverVersion {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DriverVersion {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.numbers.cmp(&other.numbers)
    }
}

impl FromStr for DriverVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Result<Vec<u32>, _> = s.trim().split('.').map(str::parse).collect();
        match parts {
            Ok(numbers) if !numbers.is_empty() => Ok(DriverVersion {
                numbers,
                text: s.trim().to_string(),
            }),
            _ => Err(format!(
                "invalid NVIDIA driver version {s:?}: expected numbers separated by dots, \
                 e.g. 535.104.05"
            )),
        }
    }
}

impl fmt::Display for DriverVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A ROCm gfx target list such as `gfx1030;gfx1100` (separated by `;`, `,` or spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GfxList(pub Vec<String>);

impl FromStr for GfxList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for t in s.split([';', ',', ' ']).filter(|t| !t.is_empty()) {
            let ok = t.strip_prefix("gfx").is_some_and(|r| {
                !r.is_empty() && r.len() <= 8 && r.chars().all(|c| c.is_ascii_alphanumeric())
            });
            if !ok {
                return Err(format!(
                    "invalid ROCm target {t:?} in {s:?}: expected gfxNNNN, e.g. gfx1030;gfx1100"
                ));
            }
            out.push(t.to_ascii_lowercase());
        }
        if out.is_empty() {
            return Err(format!("ROCm target list {s:?} names no target"));
        }
        Ok(GfxList(out))
    }
}

impl fmt::Display for GfxList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(";"))
    }
}

macro_rules! serde_as_text {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_as_text!(Capability);
serde_as_text!(CudaArchList);
serde_as_text!(DriverVersion);
serde_as_text!(GfxList);

/// What a release's build needs from the hardware, as recorded by `split` in
/// `S.manifest.json` under `"requires"`. Every field is optional; absent means "no
/// requirement", and readers ignore fields they do not know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirements {
    /// The CUDA architectures the build has code for (`TORCH_CUDA_ARCH_LIST` syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda_arch_list: Option<CudaArchList>,
    /// The oldest NVIDIA driver that runs the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_driver: Option<DriverVersion>,
    /// The ROCm gfx targets the build has code for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rocm_gfx: Option<GfxList>,
}

impl Requirements {
    /// Whether nothing is required.
    pub fn is_empty(&self) -> bool {
        self == &Requirements::default()
    }
}

/// One NVIDIA GPU as `nvidia-smi` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NvidiaGpu {
    /// The product name, e.g. `NVIDIA GeForce RTX 4090`.
    pub name: String,
    /// The compute capability; `None` when the driver cannot say (older than 510).
    pub compute_cap: Option<Capability>,
    /// The driver version, when given.
    pub driver: Option<DriverVersion>,
}

/// One AMD GPU from the kfd topology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmdGpu {
    /// The topology node (its directory name).
    pub node: String,
    /// The ISA, e.g. `gfx1030`.
    pub gfx: String,
}

/// The result of one probe; in JSON tagged by `state`: `{"state": "found", "gpus": [...]}`,
/// `{"state": "absent", "why": "..."}` or `{"state": "could_not_detect", "why": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Probe<T> {
    /// The probe answered; the list may be empty.
    Found {
        /// The GPUs found.
        gpus: Vec<T>,
    },
    /// The tool or the sysfs tree is absent: no such GPU, as far as this host can tell.
    Absent {
        /// What was looked for.
        why: String,
    },
    /// The probe failed or timed out: it is not known whether there is such a GPU.
    CouldNotDetect {
        /// What went wrong.
        why: String,
    },
}

impl<T> Probe<T> {
    /// The GPUs found (empty unless [`Probe::Found`]).
    pub fn gpus(&self) -> &[T] {
        match self {
            Probe::Found { gpus } => gpus,
            _ => &[],
        }
    }
}

/// The GPUs of this host, as far as the probes could tell (`doctor --json`'s `hardware`:
/// `{"nvidia": Probe, "amd": Probe}`; an NVIDIA GPU as `{"name", "compute_cap", "driver"}`
/// with the last two strings or null, an AMD one as `{"node", "gfx"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardware {
    /// NVIDIA GPUs (`nvidia-smi`).
    pub nvidia: Probe<NvidiaGpu>,
    /// AMD GPUs (kfd topology).
    pub amd: Probe<AmdGpu>,
}

/// Where and how long to look, and what ends the look early.
#[derive(Debug, Clone)]
pub struct Probes {
    /// The `nvidia-smi` program (a name looked up on `PATH`, or a path).
    pub nvidia_smi: PathBuf,
    /// The sysfs root (`/sys`; tests pass a fake tree).
    pub sysfs_root: PathBuf,
    /// How long each probe may take.
    pub timeout: Duration,
    /// Ends the probes with [`Error::Interrupted`] (the `nvidia-smi` child is killed).
    pub cancel: Cancel,
}

impl Default for Probes {
    fn default() -> Self {
        Probes {
            nvidia_smi: PathBuf::from("nvidia-smi"),
            sysfs_root: PathBuf::from("/sys"),
            timeout: Duration::from_secs(5),
            cancel: Cancel::new(),
        }
    }
}

/// Runs every probe, each within [`Probes::timeout`]. Errors only with
/// [`Error::Interrupted`], once [`Probes::cancel`] is cancelled.
///
/// ```no_run
/// let hw = voxctl::gpu::detect(&voxctl::gpu::Probes::default())?;
/// let (variant, why) = voxctl::gpu::auto_candidate(&hw);
/// println!("{variant}: {why}");
/// # Ok::<(), voxctl::Error>(())
/// ```
pub fn detect(probes: &Probes) -> Result<Hardware, Error> {
    // sysfs reads do not normally block, but a probe is bounded all the same: the reading
    // thread is left behind if it hangs.
    let (tx, rx) = std::sync::mpsc::channel();
    let root = probes.sysfs_root.clone();
    std::thread::spawn(move || {
        let _ = tx.send(probe_amd(&root));
    });
    let nvidia = probe_nvidia(probes)?;
    let amd = probes
        .cancel
        .recv_timeout(&rx, probes.timeout)?
        .unwrap_or_else(|| Probe::CouldNotDetect {
            why: format!(
                "could not detect AMD GPUs: reading {} took longer than {}",
                probes
                    .sysfs_root
                    .join("class/kfd/kfd/topology/nodes")
                    .display(),
                humantime::format_duration(probes.timeout)
            ),
        });
    Ok(Hardware { nvidia, amd })
}

/// The outcome of running a program with a deadline.
enum Ran {
    Output(Result<String, String>),
    NotFound,
}

/// The most of a probe's standard output kept, in bytes (256 KiB: `nvidia-smi`'s CSV takes
/// about 100 bytes a GPU). More is drained and makes the probe fail.
const PROBE_STDOUT_CAP: u64 = 256 * 1024;

/// The most of a probe's standard error kept for its error message, in bytes (16 KiB); the
/// rest is drained and dropped.
const PROBE_STDERR_CAP: u64 = 16 * 1024;

/// Reads `pipe` to its end, keeping the first `cap` bytes; returns them and whether there
/// was more. Draining the rest keeps the writer from blocking on a full pipe.
fn drain(mut pipe: impl Read, cap: u64) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let _ = (&mut pipe).take(cap).read_to_end(&mut kept);
    let more = std::io::copy(&mut pipe, &mut std::io::sink()).unwrap_or(0) > 0;
    (kept, more)
}

/// Waits up to `timeout` for `child`, whose output pipes are closed, to exit (a pidfd
/// polled, so no sleep); `None` if it is still running then.
fn wait_within(
    child: &mut std::process::Child,
    timeout: Duration,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    if let Some(status) = child.try_wait()? {
        return Ok(Some(status));
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        use rustix::process::{pidfd_open, Pid, PidfdFlags};
        // Our own unreaped child: its pid cannot have been reused.
        let pid = i32::try_from(child.id())
            .ok()
            .and_then(Pid::from_raw)
            .ok_or_else(|| std::io::Error::other("child pid out of range"))?;
        let pidfd = pidfd_open(pid, PidfdFlags::empty())?;
        let deadline = crate::duration::deadline(timeout);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let ts = Timespec {
                tv_sec: left.as_secs().try_into().unwrap_or(i64::MAX),
                tv_nsec: left.subsec_nanos().into(),
            };
            let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
            match poll(&mut fds, Some(&ts)) {
                Ok(0) => return child.try_wait(),
                Ok(_) => return child.wait().map(Some),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let deadline = crate::duration::deadline(timeout);
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(Some(status));
            }
            if std::time::Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// The first line of `err` with text, trimmed and cut to 200 characters ("" if none).
fn excerpt(err: &[u8]) -> String {
    let text = String::from_utf8_lossy(err);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    line.unwrap_or("").chars().take(200).collect()
}

/// Runs `program args` in its own process group with stdin closed; its stdout if it exits
/// 0 within `timeout`. Both pipes are read at once, each by its own thread and to its end
/// (keeping [`PROBE_STDOUT_CAP`] and [`PROBE_STDERR_CAP`] bytes), so a program writing much
/// to either never blocks on a full pipe. On timeout the whole group is killed (a wrapper
/// script's children too, so nothing keeps the pipes open), and so it is when `cancel` is
/// cancelled. The error says what happened: not answering within `timeout`, the exit status
/// with the start of standard error, or too much output.
fn run_bounded(
    program: &Path,
    args: &[&str],
    timeout: Duration,
    cancel: &Cancel,
) -> Result<Ran, Error> {
    let started = std::time::Instant::now();
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::platform::own_group(&mut command);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ran::NotFound),
        Err(e) => {
            return Ok(Ran::Output(Err(format!(
                "cannot run {}: {e}",
                program.display()
            ))))
        }
    };
    let (stdout, stderr) = match (child.stdout.take(), child.stderr.take()) {
        (Some(o), Some(e)) => (o, e),
        _ => return Ok(Ran::Output(Err("no pipe to the child".into()))),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let err_reader = std::thread::spawn(move || drain(stderr, PROBE_STDERR_CAP));
        let out = drain(stdout, PROBE_STDOUT_CAP);
        let err = err_reader.join().unwrap_or_default();
        let _ = tx.send((out, err));
    });
    let got = cancel.recv_timeout(&rx, timeout);
    let kill = |child: &mut std::process::Child| {
        crate::platform::kill_group(child);
        let _ = child.wait();
    };
    let not_answered = || {
        Ran::Output(Err(format!(
            "{} did not answer within {}",
            program.display(),
            humantime::format_duration(timeout)
        )))
    };
    let ((out, out_more), (err, _)) = match got {
        Ok(Some(v)) => v,
        Ok(None) => {
            kill(&mut child);
            return Ok(not_answered());
        }
        Err(e) => {
            kill(&mut child);
            return Err(e);
        }
    };
    let left = timeout.saturating_sub(started.elapsed());
    let status = match wait_within(&mut child, left) {
        Ok(Some(s)) => s,
        Ok(None) => {
            kill(&mut child);
            return Ok(not_answered());
        }
        Err(e) => {
            kill(&mut child);
            return Ok(Ran::Output(Err(format!("cannot wait for it: {e}"))));
        }
    };
    let first = excerpt(&err);
    if !status.success() {
        let how = match (status.code(), crate::platform::exit_signal(&status)) {
            (Some(code), _) => format!("exited with code {code}"),
            (None, Some(sig)) => format!("was killed by signal {sig}"),
            (None, None) => format!("ended with {status}"),
        };
        return Ok(Ran::Output(Err(format!(
            "{} {how}{}{first}",
            program.display(),
            if first.is_empty() { "" } else { ": " }
        ))));
    }
    if out_more {
        return Ok(Ran::Output(Err(format!(
            "{} printed more than {} on standard output",
            program.display(),
            crate::size::iec(PROBE_STDOUT_CAP)
        ))));
    }
    Ok(Ran::Output(Ok(String::from_utf8_lossy(&out).into_owned())))
}

/// Lists NVIDIA GPUs with `nvidia-smi` (module docs).
pub fn probe_nvidia(probes: &Probes) -> Result<Probe<NvidiaGpu>, Error> {
    let prog = &probes.nvidia_smi;
    let query = |fields: &str| -> Result<Ran, Error> {
        run_bounded(
            prog,
            &[&format!("--query-gpu={fields}"), "--format=csv,noheader"],
            probes.timeout,
            &probes.cancel,
        )
    };
    let first = match query("name,compute_cap,driver_version")? {
        Ran::NotFound => {
            return Ok(Probe::Absent {
                why: format!("{} not found", prog.display()),
            })
        }
        Ran::Output(r) => r,
    };
    let (text, with_cap) = match first {
        Ok(t) => (t, true),
        // Drivers older than 510 refuse the whole query for the unknown field.
        Err(e) if e.contains("did not answer") => {
            return Ok(Probe::CouldNotDetect {
                why: format!("could not detect NVIDIA GPUs: {e}"),
            })
        }
        Err(first_err) => match query("name,driver_version")? {
            Ran::Output(Ok(t)) => (t, false),
            Ran::Output(Err(_)) | Ran::NotFound => {
                return Ok(Probe::CouldNotDetect {
                    why: format!("could not detect NVIDIA GPUs: {first_err}"),
                })
            }
        },
    };
    match parse_nvidia_csv(&text, with_cap) {
        Ok(gpus) => Ok(Probe::Found { gpus }),
        Err(e) => Ok(Probe::CouldNotDetect {
            why: format!("could not detect NVIDIA GPUs: {e}"),
        }),
    }
}

/// Parses `nvidia-smi --format=csv,noheader` lines of `name, compute_cap, driver_version`
/// (or `name, driver_version` without `with_cap`). A capability `[N/A]` or unparsable is
/// unknown.
pub fn parse_nvidia_csv(text: &str, with_cap: bool) -> Result<Vec<NvidiaGpu>, String> {
    let mut gpus = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        // Product names have no commas; the two last fields are numbers.
        let fields: Vec<&str> = line.rsplitn(if with_cap { 3 } else { 2 }, ',').collect();
        let want = if with_cap { 3 } else { 2 };
        if fields.len() != want {
            return Err(format!("unexpected nvidia-smi line {line:?}"));
        }
        let driver = fields[0].trim().parse::<DriverVersion>().ok();
        let (cap, name) = if with_cap {
            (fields[1].trim().parse::<Capability>().ok(), fields[2])
        } else {
            (None, fields[1])
        };
        gpus.push(NvidiaGpu {
            name: name.trim().to_string(),
            compute_cap: cap,
            driver,
        });
    }
    Ok(gpus)
}

/// `gfx_target_version` (major * 10000 + minor * 100 + stepping) as an ISA name: 100300 ->
/// `gfx1030`, 90010 -> `gfx90a` (minor and stepping are written in hex, as LLVM names them).
pub fn gfx_name(target_version: u64) -> String {
    let major = target_version / 10000;
    let minor = (target_version / 100) % 100;
    let stepping = target_version % 100;
    format!("gfx{major}{minor:x}{stepping:x}")
}

/// The ISA name of a kfd topology node from its `properties` text: the first
/// `gfx_target_version N` line read as [`gfx_name`]; `None` for a node that is no GPU (no
/// such line, or version 0, as CPU nodes say).
pub(crate) fn kfd_gfx(properties: &str) -> Option<String> {
    let version = properties.lines().find_map(|l| {
        l.strip_prefix("gfx_target_version ")
            .and_then(|v| v.trim().parse::<u64>().ok())
    });
    version.filter(|v| *v != 0).map(gfx_name)
}

/// Lists AMD GPUs from `{sysfs_root}/class/kfd/kfd/topology/nodes/*/properties`. On
/// Windows, where ROCm backends are not offered (`--variant auto` never picks rocm there),
/// always [`Probe::Absent`].
pub fn probe_amd(sysfs_root: &Path) -> Probe<AmdGpu> {
    if cfg!(windows) {
        return Probe::Absent {
            why: "no ROCm backend on Windows".into(),
        };
    }
    let nodes = sysfs_root.join("class/kfd/kfd/topology/nodes");
    let entries = match std::fs::read_dir(&nodes) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Probe::Absent {
                why: format!("{} not found (no amdgpu kfd driver)", nodes.display()),
            }
        }
        Err(e) => {
            return Probe::CouldNotDetect {
                why: format!(
                    "could not detect AMD GPUs: cannot list {}: {e}",
                    nodes.display()
                ),
            }
        }
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let props = entry.path().join("properties");
        // sysfs files are small; cap what is read anyway.
        let mut text = String::new();
        let read =
            std::fs::File::open(&props).and_then(|f| f.take(64 * 1024).read_to_string(&mut text));
        if let Err(e) = read {
            return Probe::CouldNotDetect {
                why: format!(
                    "could not detect AMD GPUs: cannot read {}: {e}",
                    props.display()
                ),
            };
        }
        if let Some(gfx) = kfd_gfx(&text) {
            found.push(AmdGpu {
                node: entry.file_name().to_string_lossy().into_owned(),
                gfx,
            });
        }
    }
    found.sort_by(|a, b| a.node.cmp(&b.node));
    Probe::Found { gpus: found }
}

/// Whether a variant can run here, for a release's requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "why", rename_all = "snake_case")]
pub enum Verdict {
    /// The hardware meets the requirements (or there are none).
    Runs(String),
    /// It is not known (a probe could not answer, or no GPU was seen); never a refusal.
    Unknown(String),
    /// A GPU was seen and none meets the requirements.
    Cannot(String),
}

fn describe_nvidia(g: &NvidiaGpu) -> String {
    let cap = g.compute_cap.map_or("unknown capability".into(), |c| {
        format!("compute capability {c}")
    });
    let driver = g
        .driver
        .as_ref()
        .map_or("unknown driver".into(), |d| format!("driver {d}"));
    format!("{} ({cap}, {driver})", g.name)
}

/// Judges `variant` on `hw` against `req` (module docs for the CUDA rules). An unknown
/// capability or driver version passes that check; a GPU must pass every stated check.
pub fn judge(req: &Requirements, variant: Variant, hw: &Hardware) -> Verdict {
    match variant {
        Variant::Cpu => Verdict::Runs("the cpu variant runs anywhere".into()),
        Variant::Cuda => judge_cuda(req, &hw.nvidia),
        Variant::Rocm => judge_rocm(req, &hw.amd),
    }
}

fn judge_cuda(req: &Requirements, probe: &Probe<NvidiaGpu>) -> Verdict {
    let gpus = match probe {
        Probe::Found { gpus } if !gpus.is_empty() => gpus,
        Probe::Found { .. } => return Verdict::Unknown("nvidia-smi lists no GPU".into()),
        Probe::Absent { why } | Probe::CouldNotDetect { why } => {
            return Verdict::Unknown(why.clone())
        }
    };
    let mut problems = Vec::new();
    for g in gpus {
        let mut fails = Vec::new();
        if let (Some(list), Some(cap)) = (&req.cuda_arch_list, g.compute_cap) {
            if !list.runs_on(cap) {
                fails.push(format!(
                    "the release has no code for compute capability {cap} (it is built for {list})"
                ));
            }
        }
        if let (Some(min), Some(d)) = (&req.min_driver, &g.driver) {
            if d < min {
                fails.push(format!(
                    "driver {d} is older than the release's minimum {min}"
                ));
            }
        }
        if fails.is_empty() {
            let note = if g.compute_cap.is_none() && req.cuda_arch_list.is_some() {
                " (its compute capability is unknown: drivers older than 510 do not report it)"
            } else {
                ""
            };
            return Verdict::Runs(format!("{} can run it{note}", describe_nvidia(g)));
        }
        problems.push(format!("{}: {}", describe_nvidia(g), fails.join("; ")));
    }
    Verdict::Cannot(problems.join("; "))
}

fn judge_rocm(req: &Requirements, probe: &Probe<AmdGpu>) -> Verdict {
    let gpus = match probe {
        Probe::Found { gpus } if !gpus.is_empty() => gpus,
        Probe::Found { .. } => return Verdict::Unknown("the kfd topology lists no GPU".into()),
        Probe::Absent { why } | Probe::CouldNotDetect { why } => {
            return Verdict::Unknown(why.clone())
        }
    };
    let Some(list) = &req.rocm_gfx else {
        return Verdict::Runs(format!("AMD GPU {} found", gpus[0].gfx));
    };
    match gpus.iter().find(|g| list.0.contains(&g.gfx)) {
        Some(g) => Verdict::Runs(format!("AMD GPU {} is in the release's list", g.gfx)),
        None => {
            let seen: Vec<&str> = gpus.iter().map(|g| g.gfx.as_str()).collect();
            Verdict::Cannot(format!(
                "AMD GPU {} is not among the release's targets ({list})",
                seen.join(", ")
            ))
        }
    }
}

/// The GPU variant `--variant auto` should try first on `hw`, and why: cuda when
/// `nvidia-smi` lists a GPU, else rocm when the kfd topology lists one, else cpu (saying
/// what the probes found). The caller still judges the candidate against its release.
pub fn auto_candidate(hw: &Hardware) -> (Variant, String) {
    if let Some(g) = hw.nvidia.gpus().first() {
        return (Variant::Cuda, format!("NVIDIA GPU {}", describe_nvidia(g)));
    }
    if let Some(g) = hw.amd.gpus().first() {
        return (Variant::Rocm, format!("AMD GPU {}", g.gfx));
    }
    let why = |p: &Probe<NvidiaGpu>| match p {
        Probe::Found { .. } => "nvidia-smi lists no GPU".to_string(),
        Probe::Absent { why } | Probe::CouldNotDetect { why } => why.clone(),
    };
    let amd = match &hw.amd {
        Probe::Found { .. } => "the kfd topology lists no GPU".to_string(),
        Probe::Absent { why } | Probe::CouldNotDetect { why } => why.clone(),
    };
    (Variant::Cpu, format!("{}; {amd}", why(&hw.nvidia)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(s: &str) -> Capability {
        s.parse().unwrap()
    }

    const REFERENCE: &str = "8.0;8.6;8.9;9.0;12.0+PTX";

    #[test]
    fn cuda_rules_table() {
        let list: CudaArchList = REFERENCE.parse().unwrap();
        let table = [
            ("6.1", false), // GTX 1060
            ("7.5", false), // Turing: no 7.x code, and PTX only from 12.0
            ("8.0", true),
            ("8.7", true), // 8.6 cubin runs on 8.7
            ("8.9", true), // RTX 4090
            ("9.0", true),
            ("10.0", false), // no 10.x cubin, PTX 12.0 is newer
            ("12.0", true),  // exact
            ("12.1", true),  // 12.0 cubin (same major) and 12.0 PTX
            ("13.0", true),  // 12.0 PTX only
        ];
        for (c, want) in table {
            assert_eq!(list.runs_on(cap(c)), want, "{c}");
        }
        let no_ptx: CudaArchList = "8.0;9.0".parse().unwrap();
        assert!(!no_ptx.runs_on(cap("10.0")));
        assert!(no_ptx.runs_on(cap("9.2")));
        let specific: CudaArchList = "9.0a".parse().unwrap();
        assert!(specific.runs_on(cap("9.0")) && !specific.runs_on(cap("9.1")));
        let named: CudaArchList = "Pascal Ampere".parse().unwrap();
        assert!(named.runs_on(cap("6.1")) && named.runs_on(cap("8.7")));
        assert_eq!(named.to_string(), "Pascal Ampere");
        for bad in ["", "8", "8.x", "sm_80", "8.0+ptx;"] {
            assert!(bad.parse::<CudaArchList>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn drivers_and_gfx() {
        let d = |s: &str| s.parse::<DriverVersion>().unwrap();
        assert!(d("535.104.05") > d("535.54.03"));
        assert!(d("470.82.01") < d("525"));
        assert!("5x5".parse::<DriverVersion>().is_err());
        assert_eq!(gfx_name(100300), "gfx1030");
        assert_eq!(gfx_name(110000), "gfx1100");
        assert_eq!(gfx_name(90010), "gfx90a");
        assert_eq!(gfx_name(90400), "gfx940");
        assert!("gfx1030;gfx1100".parse::<GfxList>().is_ok());
        assert!("1030".parse::<GfxList>().is_err());
    }

    #[test]
    fn nvidia_csv() {
        let gpus = parse_nvidia_csv(
            "NVIDIA GeForce RTX 4090, 8.9, 550.54.14\nTesla K80, [N/A], 470.82.01\n",
            true,
        )
        .unwrap();
        assert_eq!(gpus[0].compute_cap, Some(cap("8.9")));
        assert_eq!(gpus[1].compute_cap, None);
        assert_eq!(gpus[1].name, "Tesla K80");
        let old = parse_nvidia_csv("GeForce GTX 1060 6GB, 470.82.01\n", false).unwrap();
        assert_eq!(old[0].compute_cap, None);
        assert!(parse_nvidia_csv("garbage\n", true).is_err());
    }

    fn nvidia(c: Option<&str>, driver: &str) -> Hardware {
        Hardware {
            nvidia: Probe::Found {
                gpus: vec![NvidiaGpu {
                    name: "GPU".into(),
                    compute_cap: c.map(cap),
                    driver: driver.parse().ok(),
                }],
            },
            amd: Probe::Absent { why: "none".into() },
        }
    }

    #[test]
    fn judge_table() {
        let req = Requirements {
            cuda_arch_list: Some(REFERENCE.parse().unwrap()),
            min_driver: Some("525.60".parse().unwrap()),
            rocm_gfx: Some("gfx1030".parse().unwrap()),
        };
        let runs = |v: &Verdict| matches!(v, Verdict::Runs(_));
        assert!(!runs(&judge(
            &req,
            Variant::Cuda,
            &nvidia(Some("6.1"), "550.1")
        )));
        assert!(runs(&judge(
            &req,
            Variant::Cuda,
            &nvidia(Some("8.9"), "550.1")
        )));
        assert!(!runs(&judge(
            &req,
            Variant::Cuda,
            &nvidia(Some("8.9"), "470.1")
        )));
        // Unknown capability (driver < 510 would fail min_driver; here a newer one).
        assert!(runs(&judge(&req, Variant::Cuda, &nvidia(None, "550.1"))));
        assert!(runs(&judge(
            &req,
            Variant::Cpu,
            &nvidia(Some("6.1"), "550.1")
        )));
        let hung = Hardware {
            nvidia: Probe::CouldNotDetect {
                why: "timeout".into(),
            },
            amd: Probe::Absent { why: "none".into() },
        };
        assert!(matches!(
            judge(&req, Variant::Cuda, &hung),
            Verdict::Unknown(_)
        ));
        let amd = |gfx: &str| Hardware {
            nvidia: Probe::Absent { why: "none".into() },
            amd: Probe::Found {
                gpus: vec![AmdGpu {
                    node: "1".into(),
                    gfx: gfx.into(),
                }],
            },
        };
        assert!(runs(&judge(&req, Variant::Rocm, &amd("gfx1030"))));
        assert!(matches!(
            judge(&req, Variant::Rocm, &amd("gfx906")),
            Verdict::Cannot(_)
        ));
        assert_eq!(auto_candidate(&amd("gfx1030")).0, Variant::Rocm);
        assert_eq!(auto_candidate(&hung).0, Variant::Cpu);
    }

    #[test]
    fn values_show_and_serialize_as_given() {
        assert_eq!(cap(" 12.0 ").to_string(), "12.0");
        assert_eq!(serde_json::to_string(&cap("8.9")).unwrap(), "\"8.9\"");
        let list: CudaArchList = "Pascal 9.0a;9.0a+PTX;12.0+PTX".parse().unwrap();
        let shown: Vec<String> = list.archs.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["6.0", "6.1+PTX", "9.0a", "9.0a+PTX", "12.0+PTX"]);
        let d = |s: &str| s.parse::<DriverVersion>().unwrap();
        assert_eq!(d(" 535.104.05 ").to_string(), "535.104.05");
        assert_eq!(
            serde_json::to_string(&d("535.104.05")).unwrap(),
            "\"535.104.05\""
        );
        // Compared number by number: a leading zero is the same number.
        assert_eq!(d("535.104.05"), d("535.104.5"));
        assert_ne!(d("535.104.05"), d("535.104.06"));
        assert_ne!(d("535.104"), d("535.104.0"));
        let gfx: GfxList = "gfx1030, gfx90A".parse().unwrap();
        assert_eq!(gfx.to_string(), "gfx1030;gfx90a");
        for bad in ["gfx", "gfx123456789", "gfx10.3", "gfx_1030", "GFX1030"] {
            assert!(bad.parse::<GfxList>().is_err(), "{bad:?}");
        }
        assert!(Requirements::default().is_empty());
        let driver_only = Requirements {
            min_driver: Some(d("525.60")),
            ..Requirements::default()
        };
        assert!(!driver_only.is_empty());
    }

    #[test]
    fn kfd_properties_name_the_isa_of_gpu_nodes_only() {
        assert_eq!(
            kfd_gfx("cpu_cores_count 0\ngfx_target_version 100300\nsimd_count 80\n").as_deref(),
            Some("gfx1030")
        );
        assert_eq!(kfd_gfx("cpu_cores_count 16\ngfx_target_version 0\n"), None);
        assert_eq!(kfd_gfx("cpu_cores_count 16\n"), None);
    }

    #[test]
    fn the_amd_probe_tells_a_missing_topology_from_an_unreadable_one() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(probe_amd(tmp.path()), Probe::Absent { .. }));
        let kfd = tmp.path().join("class/kfd/kfd/topology");
        std::fs::create_dir_all(&kfd).unwrap();
        // `nodes` a regular file: listing it fails with ENOTDIR, not ENOENT.
        std::fs::write(kfd.join("nodes"), "").unwrap();
        match probe_amd(tmp.path()) {
            Probe::CouldNotDetect { why } => assert!(why.contains("cannot list"), "{why}"),
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(kfd.join("nodes")).unwrap();
        // A properties file of several KiB (real ones are about 1 KiB) is read past its
        // first KiB: the version line at its end still names the GPU.
        let node = kfd.join("nodes/1");
        std::fs::create_dir_all(&node).unwrap();
        let padding = "simd_arrays_per_engine 2\n".repeat(200);
        std::fs::write(
            node.join("properties"),
            format!("{padding}gfx_target_version 110000\n"),
        )
        .unwrap();
        assert_eq!(
            probe_amd(tmp.path()),
            Probe::Found {
                gpus: vec![AmdGpu {
                    node: "1".into(),
                    gfx: "gfx1100".into()
                }]
            }
        );
    }

    #[test]
    fn draining_keeps_the_cap_and_says_whether_there_was_more() {
        assert_eq!(drain(&b"abcdef"[..], 4), (b"abcd".to_vec(), true));
        assert_eq!(drain(&b"abcdef"[..], 6), (b"abcdef".to_vec(), false));
        assert_eq!(drain(&b""[..], 6), (Vec::new(), false));
        assert_eq!(
            excerpt(b"\n  \n  no devices were found  \nmore\n"),
            "no devices were found"
        );
        assert_eq!(excerpt(&[b'x'; 300]), "x".repeat(200));
        assert_eq!(excerpt(b" \n\n"), "");
    }

    /// Runs `sh -c script` as a probe with a 10 s limit.
    fn sh(script: &str) -> Result<String, String> {
        match run_bounded(
            Path::new("sh"),
            &["-c", script],
            Duration::from_secs(10),
            &Cancel::new(),
        )
        .unwrap()
        {
            Ran::Output(r) => r,
            Ran::NotFound => panic!("sh not found"),
        }
    }

    #[test]
    fn a_probe_gets_the_output_of_a_success_and_the_reason_of_a_failure() {
        assert_eq!(
            sh("echo 'GPU, 8.9, 550.54.14'").unwrap(),
            "GPU, 8.9, 550.54.14\n"
        );
        assert_eq!(
            sh("echo >&2; echo '  bad things  ' >&2; echo ignored >&2; exit 3").unwrap_err(),
            "sh exited with code 3: bad things"
        );
        assert_eq!(sh("exit 4").unwrap_err(), "sh exited with code 4");
        assert_eq!(sh("kill -9 $$").unwrap_err(), "sh was killed by signal 9");
        // The reason is the first line with text within the first 16 KiB of stderr.
        let late = sh("head -c 16000 /dev/zero | tr '\\0' '\\n' >&2; echo the reason >&2; exit 1");
        assert_eq!(late.unwrap_err(), "sh exited with code 1: the reason");
    }

    #[test]
    fn a_probe_keeps_256_kib_of_output_and_refuses_more() {
        let full = sh("head -c 262144 /dev/zero").unwrap();
        assert_eq!(full.len(), 262144);
        assert_eq!(
            sh("head -c 262145 /dev/zero").unwrap_err(),
            "sh printed more than 256 KiB on standard output"
        );
    }

    #[test]
    fn a_probe_program_that_is_missing_is_absent_and_one_that_cannot_run_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let none = || Cancel::new();
        let missing = tmp.path().join("nvidia-smi");
        let ran = run_bounded(&missing, &[], Duration::from_secs(10), &none()).unwrap();
        assert!(matches!(ran, Ran::NotFound));
        std::fs::write(&missing, "#!/bin/sh\necho GPU\n").unwrap();
        // Not executable (mode 0644): EACCES, which says nothing about whether a GPU exists.
        match run_bounded(&missing, &[], Duration::from_secs(10), &none()).unwrap() {
            Ran::Output(Err(e)) => assert!(e.starts_with("cannot run "), "{e}"),
            Ran::Output(Ok(o)) => panic!("ran: {o}"),
            Ran::NotFound => panic!("reported as not found"),
        }
    }

    #[test]
    #[cfg(unix)] // the fake nvidia-smi is a shell script
    fn a_driver_older_than_510_is_asked_again_without_compute_cap() {
        let tmp = tempfile::tempdir().unwrap();
        let smi = tmp.path().join("nvidia-smi");
        std::fs::write(
            &smi,
            "#!/bin/sh\ncase \"$1\" in\n*compute_cap*) echo 'Field \"compute_cap\" is not a valid field to query.' >&2; exit 2;;\nesac\necho 'GeForce GTX 1060 6GB, 470.82.01'\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&smi, std::fs::Permissions::from_mode(0o755)).unwrap();
        let probes = Probes {
            nvidia_smi: smi,
            timeout: Duration::from_secs(10),
            ..Probes::default()
        };
        assert_eq!(
            probe_nvidia(&probes).unwrap(),
            Probe::Found {
                gpus: vec![NvidiaGpu {
                    name: "GeForce GTX 1060 6GB".into(),
                    compute_cap: None,
                    driver: Some("470.82.01".parse().unwrap()),
                }]
            }
        );
    }

    #[test]
    fn verdicts_name_the_gpu_and_hold_at_the_edges() {
        let req = Requirements {
            cuda_arch_list: Some(REFERENCE.parse().unwrap()),
            min_driver: Some("525.60".parse().unwrap()),
            rocm_gfx: None,
        };
        let mut hw = nvidia(Some("8.9"), "525.60");
        if let Probe::Found { gpus } = &mut hw.nvidia {
            gpus[0].name = "NVIDIA GeForce RTX 4090".into();
        }
        // A driver exactly at the minimum runs; a known capability gets no note.
        assert_eq!(
            judge(&req, Variant::Cuda, &hw),
            Verdict::Runs(
                "NVIDIA GeForce RTX 4090 (compute capability 8.9, driver 525.60) can run it".into()
            )
        );
        assert_eq!(
            judge(&req, Variant::Cuda, &nvidia(None, "550.1")),
            Verdict::Runs(
                "GPU (unknown capability, driver 550.1) can run it (its compute capability is \
                 unknown: drivers older than 510 do not report it)"
                    .into()
            )
        );
        let none = Hardware {
            nvidia: Probe::Found { gpus: vec![] },
            amd: Probe::Found { gpus: vec![] },
        };
        assert_eq!(
            judge(&req, Variant::Cuda, &none),
            Verdict::Unknown("nvidia-smi lists no GPU".into())
        );
        assert_eq!(
            judge(&req, Variant::Rocm, &none),
            Verdict::Unknown("the kfd topology lists no GPU".into())
        );
    }
}
