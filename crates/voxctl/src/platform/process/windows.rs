//! Windows implementations of [`crate::platform::process`]'s interface (Win32 through
//! `windows-sys`): process handles, job objects, console control events, the TCP table.

use std::ffi::c_void;
use std::io;
use std::os::windows::ffi::OsStringExt;
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::os::windows::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use windows_sys::core::BOOL;
use windows_sys::Win32::Foundation::{
    DuplicateHandle, GetLastError, ERROR_ALREADY_EXISTS, ERROR_INSUFFICIENT_BUFFER,
    ERROR_INVALID_PARAMETER, HANDLE, HWND, LPARAM, NO_ERROR, WAIT_OBJECT_0,
};
use windows_sys::Win32::System::Console::{
    AttachConsole, FreeConsole, GenerateConsoleCtrlEvent, ATTACH_PARENT_PROCESS, CTRL_BREAK_EVENT,
};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, Thread32First, Thread32Next, TH32CS_SNAPTHREAD, THREADENTRY32,
};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, IsProcessInJob, OpenJobObjectW, TerminateJobObject,
};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetProcessTimes, OpenProcess, OpenThread, QueryFullProcessImageNameW,
    ResumeThread, TerminateProcess, WaitForSingleObject, CREATE_NEW_PROCESS_GROUP,
    CREATE_NO_WINDOW, CREATE_SUSPENDED, PROCESS_NAME_WIN32, PROCESS_QUERY_INFORMATION,
    PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE, PROCESS_TERMINATE,
    THREAD_SUSPEND_RESUME,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    EnumWindows, GetWindowThreadProcessId, PostMessageW, WM_CLOSE,
};

use super::{Received, Signal};

/// The exit code of a process voxctl terminates (`TerminateProcess`, `TerminateJobObject`),
/// as `taskkill /F` gives.
const KILLED_EXIT_CODE: u32 = 1;

/// Job object access rights (winnt.h; windows-sys has them only in its large
/// `Win32_System_SystemServices` module).
const JOB_OBJECT_QUERY: u32 = 0x0004;
const JOB_OBJECT_TERMINATE: u32 = 0x0008;

/// 100 ns intervals between 1601-01-01 (the `FILETIME` epoch) and 1970-01-01.
const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

pub(super) fn signal_name(sig: Signal) -> &'static str {
    match sig {
        Signal::Term => "WM_CLOSE",
        Signal::Kill => "TerminateProcess",
        Signal::Continue => "SIGCONT",
    }
}

/// `s` as a NUL-terminated UTF-16 string for a `W` function.
fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Takes ownership of a handle a Win32 call returned; a null handle is the call's failure.
fn owned(handle: HANDLE) -> io::Result<OwnedHandle> {
    if handle.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the handle was just returned open by a Win32 call and nothing else owns it;
    // OwnedHandle closes it exactly once.
    #[allow(unsafe_code)]
    Ok(unsafe { OwnedHandle::from_raw_handle(handle as RawHandle) })
}

fn raw(handle: &impl AsRawHandle) -> HANDLE {
    handle.as_raw_handle() as HANDLE
}

/// Opens process `pid` with `access`; `Ok(None)` if no process has that pid.
fn open_process(pid: i32, access: u32) -> io::Result<Option<OwnedHandle>> {
    let Ok(pid) = u32::try_from(pid) else {
        return Ok(None);
    };
    // SAFETY: OpenProcess takes plain values and returns a new handle or null.
    #[allow(unsafe_code)]
    let handle = unsafe { OpenProcess(access, 0, pid) };
    match owned(handle) {
        Ok(h) => Ok(Some(h)),
        Err(e) if e.raw_os_error() == Some(ERROR_INVALID_PARAMETER as i32) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The creation time of the process behind `handle` (a `FILETIME` as a number).
fn creation_time(handle: HANDLE) -> io::Result<u64> {
    let zero = windows_sys::Win32::Foundation::FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: the handle is open for the call; the four FILETIMEs are writable locals.
    #[allow(unsafe_code)]
    let ok = unsafe { GetProcessTimes(handle, &mut created, &mut exited, &mut kernel, &mut user) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((u64::from(created.dwHighDateTime) << 32) | u64::from(created.dwLowDateTime))
}

/// Whether the process or thread behind `handle` has ended (its object is signalled).
fn signalled(handle: HANDLE) -> bool {
    // SAFETY: the handle is open for the call and has SYNCHRONIZE access.
    #[allow(unsafe_code)]
    let state = unsafe { WaitForSingleObject(handle, 0) };
    state == WAIT_OBJECT_0
}

pub(super) fn start_time(pid: i32) -> Option<u64> {
    let handle = open_process(pid, PROCESS_QUERY_LIMITED_INFORMATION).ok()??;
    creation_time(raw(&handle)).ok()
}

pub(super) fn age(pid: i32) -> Option<Duration> {
    let start = start_time(pid)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    let now = FILETIME_UNIX_EPOCH + (now.as_nanos() / 100) as u64;
    Some(Duration::from_nanos(
        now.saturating_sub(start).saturating_mul(100),
    ))
}

/// `SYSTEM_TIMEOFDAY_INFORMATION` (winternl.h), which windows-sys does not define.
#[repr(C)]
#[derive(Default)]
struct TimeOfDay {
    boot_time: i64,
    current_time: i64,
    time_zone_bias: i64,
    time_zone_id: u32,
    reserved: u32,
    boot_time_bias: u64,
    sleep_time_bias: u64,
}

/// The boot time as the kernel first recorded it: `BootTime` moves with every change of the
/// wall clock and `BootTimeBias` adds up those moves, so their difference stays put for the
/// whole boot.
pub(super) fn boot_id() -> Option<String> {
    use windows_sys::Wdk::System::SystemInformation::{
        NtQuerySystemInformation, SystemTimeOfDayInformation,
    };
    let mut info = TimeOfDay::default();
    let mut len = 0u32;
    // SAFETY: `info` is a writable buffer of the size passed, laid out as the kernel's
    // SYSTEM_TIMEOFDAY_INFORMATION; `len` is a writable local.
    #[allow(unsafe_code)]
    let status = unsafe {
        NtQuerySystemInformation(
            SystemTimeOfDayInformation,
            (&mut info as *mut TimeOfDay).cast::<c_void>(),
            std::mem::size_of::<TimeOfDay>() as u32,
            &mut len,
        )
    };
    if status < 0 || info.boot_time == 0 {
        return Some(sysinfo::System::boot_time().to_string());
    }
    Some(
        (info.boot_time as u64)
            .wrapping_sub(info.boot_time_bias)
            .to_string(),
    )
}

pub(super) fn hostname() -> Option<String> {
    sysinfo::System::host_name()
}

pub(super) fn is_zombie(pid: i32) -> bool {
    match open_process(pid, PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_SYNCHRONIZE) {
        Ok(Some(handle)) => signalled(raw(&handle)),
        _ => false,
    }
}

pub(super) fn is_stopped(_pid: i32) -> bool {
    false
}

/// From a Toolhelp snapshot of the processes (`th32ParentProcessID`).
pub(super) fn parent_pid(pid: i32) -> Option<i32> {
    use windows_sys::Win32::System::Diagnostics::ToolHelp::{
        Process32FirstW, Process32NextW, PROCESSENTRY32W, TH32CS_SNAPPROCESS,
    };
    let pid = u32::try_from(pid).ok()?;
    // SAFETY: plain values in, a new handle or INVALID_HANDLE_VALUE out.
    #[allow(unsafe_code)]
    let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
    if snapshot == windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE {
        return None;
    }
    let snapshot = owned(snapshot).ok()?;
    // SAFETY: an all-zero PROCESSENTRY32W is a valid value of the plain-data struct.
    #[allow(unsafe_code)]
    let mut entry: PROCESSENTRY32W = unsafe { std::mem::zeroed() };
    entry.dwSize = std::mem::size_of::<PROCESSENTRY32W>() as u32;
    // SAFETY: the snapshot is open and `entry` is writable with its dwSize set.
    #[allow(unsafe_code)]
    let mut more = unsafe { Process32FirstW(raw(&snapshot), &mut entry) } != 0;
    while more {
        if entry.th32ProcessID == pid {
            let parent = entry.th32ParentProcessID;
            return (parent != 0 && parent != pid).then_some(parent as i32);
        }
        // SAFETY: as for Process32FirstW.
        #[allow(unsafe_code)]
        {
            more = unsafe { Process32NextW(raw(&snapshot), &mut entry) } != 0;
        }
    }
    None
}

pub(super) fn cmdline(pid: i32) -> Option<String> {
    with_sysinfo(pid, |p| {
        p.cmd()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    })
}

fn with_sysinfo<T>(pid: i32, f: impl FnOnce(&sysinfo::Process) -> T) -> Option<T> {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let spid = Pid::from_u32(u32::try_from(pid).ok()?);
    let mut sys = System::new();
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[spid]),
        true,
        ProcessRefreshKind::everything(),
    );
    sys.process(spid).map(f)
}

pub(super) fn exe_path(pid: i32) -> Option<(PathBuf, u64, u64)> {
    let handle = open_process(pid, PROCESS_QUERY_LIMITED_INFORMATION).ok()??;
    let mut buf = vec![0u16; 32 * 1024];
    let mut len = buf.len() as u32;
    // SAFETY: the handle is open; `buf` holds `len` writable UTF-16 units and `len` is a
    // writable local the call sets to the length written.
    #[allow(unsafe_code)]
    let ok = unsafe {
        QueryFullProcessImageNameW(raw(&handle), PROCESS_NAME_WIN32, buf.as_mut_ptr(), &mut len)
    };
    if ok == 0 {
        return None;
    }
    buf.truncate(len as usize);
    let path = PathBuf::from(std::ffi::OsString::from_wide(&buf));
    let (volume, index) = path_identity(&path)?;
    Some((path, volume, index))
}

pub(super) fn path_identity(path: &Path) -> Option<(u64, u64)> {
    use windows_sys::Win32::Storage::FileSystem::FILE_FLAG_BACKUP_SEMANTICS;
    // No access rights: enough to read the file's identity, and allowed on a running
    // executable and on a directory alike.
    let file = std::fs::OpenOptions::new()
        .access_mode(0)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
        .open(path)
        .ok()?;
    crate::platform::file_identity(&file).ok()
}

pub(super) const PINS: bool = true;

/// A process handle: the pid cannot be reused while it is open.
#[derive(Debug)]
pub(super) struct Pinned {
    pid: i32,
    handle: OwnedHandle,
}

impl Pinned {
    pub(super) fn open(pid: i32) -> io::Result<Option<Pinned>> {
        let access = PROCESS_TERMINATE | PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION;
        Ok(open_process(pid, access)?.map(|handle| Pinned { pid, handle }))
    }

    pub(super) fn signal(&self, sig: Signal) -> io::Result<bool> {
        if self.has_exited() {
            return Ok(false);
        }
        match sig {
            Signal::Term => {
                post_close(self.pid);
                Ok(true)
            }
            Signal::Kill => {
                // SAFETY: the handle is open with PROCESS_TERMINATE.
                #[allow(unsafe_code)]
                let ok = unsafe { TerminateProcess(raw(&self.handle), KILLED_EXIT_CODE) };
                if ok == 0 {
                    if self.has_exited() {
                        return Ok(false);
                    }
                    return Err(io::Error::last_os_error());
                }
                Ok(true)
            }
            Signal::Continue => Ok(false),
        }
    }

    pub(super) fn has_exited(&self) -> bool {
        signalled(raw(&self.handle))
    }

    pub(super) fn wait_step(&self, step: Duration) {
        // SAFETY: the handle is open with SYNCHRONIZE.
        #[allow(unsafe_code)]
        unsafe {
            WaitForSingleObject(raw(&self.handle), millis(step));
        }
    }
}

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX - 1)
}

/// Posts `WM_CLOSE` to every top-level window of process `pid`, as `taskkill` without `/F`
/// does; returns how many windows got it.
fn post_close(pid: i32) -> usize {
    struct Search {
        pid: u32,
        found: Vec<HWND>,
    }
    extern "system" fn each(hwnd: HWND, lparam: LPARAM) -> BOOL {
        // SAFETY: `lparam` is the address of the `Search` that `post_close` passes to
        // EnumWindows, alive and not otherwise borrowed for the whole enumeration.
        #[allow(unsafe_code)]
        let search = unsafe { &mut *(lparam as *mut Search) };
        let mut owner = 0u32;
        // SAFETY: `hwnd` comes from EnumWindows; `owner` is a writable local.
        #[allow(unsafe_code)]
        unsafe {
            GetWindowThreadProcessId(hwnd, &mut owner)
        };
        if owner == search.pid {
            search.found.push(hwnd);
        }
        1
    }
    let mut search = Search {
        pid: pid as u32,
        found: Vec::new(),
    };
    // SAFETY: `each` matches WNDENUMPROC and only uses `lparam` as the `Search` above,
    // which outlives the call.
    #[allow(unsafe_code)]
    unsafe {
        EnumWindows(Some(each), &mut search as *mut Search as LPARAM)
    };
    for hwnd in &search.found {
        // SAFETY: PostMessageW with a window handle that may have been destroyed since
        // only fails.
        #[allow(unsafe_code)]
        unsafe {
            PostMessageW(*hwnd, WM_CLOSE, 0, 0)
        };
    }
    search.found.len()
}

/// Resumes every thread of process `pid`, which was created suspended (its one thread).
fn resume_threads(pid: u32) -> io::Result<()> {
    // SAFETY: plain values in, a new handle or INVALID_HANDLE_VALUE out.
    #[allow(unsafe_code)]
    let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) };
    if snapshot == windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    let snapshot = owned(snapshot)?;
    let mut entry = THREADENTRY32 {
        dwSize: std::mem::size_of::<THREADENTRY32>() as u32,
        cntUsage: 0,
        th32ThreadID: 0,
        th32OwnerProcessID: 0,
        tpBasePri: 0,
        tpDeltaPri: 0,
        dwFlags: 0,
    };
    let mut resumed = 0;
    // SAFETY: the snapshot is open and `entry` is a writable THREADENTRY32 with its dwSize
    // set, as Thread32First and Thread32Next require.
    #[allow(unsafe_code)]
    let mut more = unsafe { Thread32First(raw(&snapshot), &mut entry) } != 0;
    while more {
        if entry.th32OwnerProcessID == pid {
            // SAFETY: plain values in, a new handle or null out.
            #[allow(unsafe_code)]
            let thread =
                owned(unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, entry.th32ThreadID) })?;
            // SAFETY: the thread handle is open with THREAD_SUSPEND_RESUME.
            #[allow(unsafe_code)]
            if unsafe { ResumeThread(raw(&thread)) } == u32::MAX {
                return Err(io::Error::last_os_error());
            }
            resumed += 1;
        }
        // SAFETY: as for Thread32First.
        #[allow(unsafe_code)]
        {
            more = unsafe { Thread32Next(raw(&snapshot), &mut entry) } != 0;
        }
    }
    if resumed == 0 {
        return Err(io::Error::other(format!(
            "process {pid} has no thread to resume"
        )));
    }
    Ok(())
}

/// Terminates `child` after a failed start (it never ran: it was created suspended).
fn abandon(child: &Child, err: io::Error) -> io::Error {
    // SAFETY: std's child handle is open with all access until the Child is dropped.
    #[allow(unsafe_code)]
    unsafe {
        TerminateProcess(raw(child), KILLED_EXIT_CODE)
    };
    err
}

pub(super) fn prepare_detached(cmd: &mut Command) {
    cmd.creation_flags(CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW | CREATE_SUSPENDED);
}

/// The name of the job of the backend `pid` started at `start_time`: the identity
/// `backend.json` records, so nothing else has to be remembered to find the job again, and a
/// reused pid names another job.
fn job_name(pid: i32, start_time: u64) -> Vec<u16> {
    wide(&format!("Local\\voxctl-backend-{pid}-{start_time}"))
}

fn open_job(pid: i32, start_time: u64, access: u32) -> Option<OwnedHandle> {
    let name = job_name(pid, start_time);
    // SAFETY: `name` is NUL-terminated UTF-16 and outlives the call.
    #[allow(unsafe_code)]
    let handle = unsafe { OpenJobObjectW(access, 0, name.as_ptr()) };
    owned(handle).ok()
}

pub(super) fn finish_detached(child: &Child) -> io::Result<()> {
    let start = creation_time(raw(child)).map_err(|e| abandon(child, e))?;
    let name = job_name(child.id() as i32, start);
    // SAFETY: default security; `name` is NUL-terminated UTF-16 and outlives the call.
    #[allow(unsafe_code)]
    let job = unsafe { CreateJobObjectW(std::ptr::null(), name.as_ptr()) };
    // SAFETY: GetLastError only reads this thread's last error.
    #[allow(unsafe_code)]
    let existed = !job.is_null() && unsafe { GetLastError() } == ERROR_ALREADY_EXISTS;
    let job = owned(job).map_err(|e| abandon(child, e))?;
    if existed {
        return Err(abandon(
            child,
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a job object named after the new backend already exists",
            ),
        ));
    }
    // SAFETY: both handles are open; std's child handle has PROCESS_SET_QUOTA and
    // PROCESS_TERMINATE (all access).
    #[allow(unsafe_code)]
    if unsafe { AssignProcessToJobObject(raw(&job), raw(child)) } == 0 {
        return Err(abandon(child, io::Error::last_os_error()));
    }
    // A named object keeps its name only while a handle on it is open, and voxctl exits long
    // before the backend: give the backend an inheritable handle on its own job, so the name
    // lives as long as the backend (and any child that inherits handles) does.
    let mut remote: HANDLE = std::ptr::null_mut();
    // SAFETY: all three process and object handles are open; `remote` is a writable local.
    // The duplicate lives in the child's handle table, which it never closes.
    #[allow(unsafe_code)]
    let ok = unsafe {
        DuplicateHandle(
            GetCurrentProcess(),
            raw(&job),
            raw(child),
            &mut remote,
            JOB_OBJECT_QUERY,
            1,
            0,
        )
    };
    if ok == 0 {
        return Err(abandon(child, io::Error::last_os_error()));
    }
    resume_threads(child.id()).map_err(|e| abandon(child, e))
}

pub(super) fn leads_group(pid: i32, start_time: u64) -> bool {
    open_job(pid, start_time, JOB_OBJECT_QUERY).is_some()
}

pub(super) fn in_group(member: i32, leader: i32, leader_start: u64) -> bool {
    let Some(job) = open_job(leader, leader_start, JOB_OBJECT_QUERY) else {
        return false;
    };
    // Wine asks for PROCESS_QUERY_INFORMATION here; Windows accepts the limited right too.
    let process = match open_process(member, PROCESS_QUERY_INFORMATION) {
        Ok(Some(p)) => p,
        _ => match open_process(member, PROCESS_QUERY_LIMITED_INFORMATION) {
            Ok(Some(p)) => p,
            _ => return false,
        },
    };
    let mut inside: BOOL = 0;
    // SAFETY: both handles are open; `inside` is a writable local.
    #[allow(unsafe_code)]
    let ok = unsafe { IsProcessInJob(raw(&process), raw(&job), &mut inside) };
    ok != 0 && inside != 0
}

/// How long attaching to another console may take before voxctl gives up on it (Wine 8 never
/// returns from `AttachConsole` to a console other than its own).
const ATTACH_TIMEOUT: Duration = Duration::from_secs(2);

/// Sends `CTRL_BREAK_EVENT` to console process group `group` (the pid of the process created
/// with `CREATE_NEW_PROCESS_GROUP`) from inside the console of process `console_of`: a
/// process can send control events only to its own console, so voxctl detaches from its
/// console, attaches to that one, sends, and attaches back to its parent's. This runs on a
/// thread of its own, given [`ATTACH_TIMEOUT`]; a timeout is an error of kind `TimedOut`
/// (voxctl is then left without a console, which its standard handles to files and pipes
/// do not need).
fn ctrl_break_in_console_of(console_of: i32, group: u32) -> io::Result<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: these calls take plain values and change only which console this process
        // is attached to; voxctl's standard handles to files and pipes are unaffected.
        #[allow(unsafe_code)]
        let result = unsafe {
            FreeConsole();
            if AttachConsole(console_of as u32) == 0 {
                let err = io::Error::last_os_error();
                AttachConsole(ATTACH_PARENT_PROCESS);
                Err(err)
            } else {
                let sent = GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, group);
                let err = io::Error::last_os_error();
                FreeConsole();
                AttachConsole(ATTACH_PARENT_PROCESS);
                if sent == 0 {
                    Err(err)
                } else {
                    Ok(())
                }
            }
        };
        let _ = tx.send(result);
    });
    rx.recv_timeout(ATTACH_TIMEOUT).unwrap_or_else(|_| {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("attaching to the console of pid {console_of} did not return"),
        ))
    })
}

pub(super) fn signal_group(leader: i32, leader_start: u64, sig: Signal) -> io::Result<bool> {
    match sig {
        Signal::Term => {
            if open_job(leader, leader_start, JOB_OBJECT_QUERY).is_none() {
                return Ok(false);
            }
            // A group without a console (a windowed backend) cannot get a control event;
            // its leader's windows are asked to close instead.
            if ctrl_break_in_console_of(leader, leader as u32).is_err() {
                post_close(leader);
            }
            Ok(true)
        }
        Signal::Kill => {
            let Some(job) = open_job(leader, leader_start, JOB_OBJECT_TERMINATE) else {
                return Ok(false);
            };
            // SAFETY: the job handle is open with JOB_OBJECT_TERMINATE.
            #[allow(unsafe_code)]
            if unsafe { TerminateJobObject(raw(&job), KILLED_EXIT_CODE) } == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(true)
        }
        Signal::Continue => Ok(false),
    }
}

pub(super) fn prepare_group_child(cmd: &mut Command) {
    cmd.creation_flags(CREATE_NEW_PROCESS_GROUP | CREATE_SUSPENDED);
}

/// The command's job (an unnamed one: only this voxctl signals it) and its console process
/// group, whose id is the child's pid.
#[derive(Debug)]
pub(super) struct GroupChild {
    job: OwnedHandle,
    group: u32,
}

impl GroupChild {
    pub(super) fn adopt(child: &Child) -> io::Result<GroupChild> {
        // SAFETY: default security, no name.
        #[allow(unsafe_code)]
        let job = owned(unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) })
            .map_err(|e| abandon(child, e))?;
        // SAFETY: both handles are open; std's child handle has all access.
        #[allow(unsafe_code)]
        if unsafe { AssignProcessToJobObject(raw(&job), raw(child)) } == 0 {
            return Err(abandon(child, io::Error::last_os_error()));
        }
        resume_threads(child.id()).map_err(|e| abandon(child, e))?;
        Ok(GroupChild {
            job,
            group: child.id(),
        })
    }

    pub(super) fn has_exited(&self, child: &Child) -> io::Result<bool> {
        Ok(signalled(raw(child)))
    }

    pub(super) fn signal(&self, sig: Signal) {
        match sig {
            Signal::Term => self.ctrl_break(),
            Signal::Kill => {
                // SAFETY: the job handle is open with all access.
                #[allow(unsafe_code)]
                unsafe {
                    TerminateJobObject(raw(&self.job), KILLED_EXIT_CODE)
                };
            }
            Signal::Continue => {}
        }
    }

    pub(super) fn forward(&self, _received: Received) {
        self.ctrl_break()
    }

    /// The command shares voxctl's console, so the event is sent directly.
    fn ctrl_break(&self) {
        // SAFETY: plain values in.
        #[allow(unsafe_code)]
        unsafe {
            GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, self.group)
        };
    }
}

/// [`super::Received::terminate`]: Ctrl-Break.
pub(super) const TERMINATE: i32 = CTRL_BREAK_EVENT as i32;

pub(super) fn boot_clock() -> io::Result<Duration> {
    // SAFETY: no arguments.
    #[allow(unsafe_code)]
    let ms = unsafe { windows_sys::Win32::System::SystemInformation::GetTickCount64() };
    Ok(Duration::from_millis(ms))
}

/// One `GetExtendedTcpTable` table of listeners for address family `family`, as bytes (u64
/// storage keeps the table's 4-byte alignment).
fn tcp_table(family: u16) -> io::Result<Vec<u8>> {
    use windows_sys::Win32::NetworkManagement::IpHelper::{
        GetExtendedTcpTable, TCP_TABLE_OWNER_PID_LISTENER,
    };
    let mut size = 0u32;
    let mut buf: Vec<u64> = Vec::new();
    loop {
        // SAFETY: `buf` holds at least `size` writable bytes (none on the first call, which
        // only asks for the size); `size` is a writable local.
        #[allow(unsafe_code)]
        let status = unsafe {
            GetExtendedTcpTable(
                buf.as_mut_ptr().cast::<c_void>(),
                &mut size,
                0,
                u32::from(family),
                TCP_TABLE_OWNER_PID_LISTENER,
                0,
            )
        };
        match status {
            NO_ERROR => break,
            ERROR_INSUFFICIENT_BUFFER => buf = vec![0u64; (size as usize).div_ceil(8) + 1],
            code => return Err(io::Error::from_raw_os_error(code as i32)),
        }
    }
    let bytes = buf.iter().flat_map(|w| w.to_ne_bytes()).collect();
    Ok(bytes)
}

/// The owning pids of the rows of `table` (a `MIB_TCPTABLE_OWNER_PID` or
/// `MIB_TCP6TABLE_OWNER_PID` as bytes, rows of `row` bytes) listening on `port`.
fn owners_on(table: &[u8], row: usize, port_at: usize, pid_at: usize, port: u16) -> Vec<u64> {
    let u32_at = |o: usize| {
        table
            .get(o..o + 4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    let count = u32_at(0).unwrap_or(0) as usize;
    (0..count)
        .filter_map(|i| {
            let base = 4 + i * row;
            // The port is in network byte order in the low 16 bits.
            let local = u32_at(base + port_at)?;
            let local = u16::from_be_bytes([local as u8, (local >> 8) as u8]);
            (local == port).then(|| u32_at(base + pid_at).map(u64::from))?
        })
        .collect()
}

pub(super) fn tcp_listeners(port: u16) -> anyhow::Result<Vec<u64>> {
    use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};
    let v4 = tcp_table(AF_INET)
        .map_err(|e| anyhow::Error::from(e).context("cannot read the IPv4 TCP table"))?;
    // MIB_TCPROW_OWNER_PID: state, local addr, local port, remote addr, remote port, pid.
    let mut out = owners_on(&v4, 24, 8, 20, port);
    match tcp_table(AF_INET6) {
        // MIB_TCP6ROW_OWNER_PID: local addr (16), scope, local port, remote addr (16),
        // scope, remote port, state, pid.
        Ok(v6) => out.extend(owners_on(&v6, 56, 20, 52, port)),
        // A system without IPv6 has no such table.
        Err(e) if e.raw_os_error() == Some(ERROR_INVALID_PARAMETER as i32) => {}
        Err(e) => return Err(anyhow::Error::from(e).context("cannot read the IPv6 TCP table")),
    }
    Ok(out)
}

pub(super) fn listener_holders(ids: &[u64]) -> Vec<(i32, String)> {
    let mut pids: Vec<i32> = ids.iter().filter_map(|p| i32::try_from(*p).ok()).collect();
    pids.sort_unstable();
    pids.dedup();
    pids.into_iter()
        .map(|pid| (pid, cmdline(pid).unwrap_or_default()))
        .collect()
}

#[cfg(feature = "testhook")]
pub(super) fn kill_self() {
    // SAFETY: terminates this process; the pseudo handle needs no closing.
    #[allow(unsafe_code)]
    unsafe {
        TerminateProcess(GetCurrentProcess(), KILLED_EXIT_CODE)
    };
}

#[cfg(feature = "testhook")]
pub(super) fn freeze_self() {
    use windows_sys::Win32::System::Threading::{
        GetCurrentThread, GetCurrentThreadId, SuspendThread,
    };
    let (pid, me) = (std::process::id(), {
        // SAFETY: no arguments.
        #[allow(unsafe_code)]
        unsafe {
            GetCurrentThreadId()
        }
    });
    // SAFETY: plain values in, a new handle or INVALID_HANDLE_VALUE out.
    #[allow(unsafe_code)]
    let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) };
    if snapshot != windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE {
        if let Ok(snapshot) = owned(snapshot) {
            let mut entry = THREADENTRY32 {
                dwSize: std::mem::size_of::<THREADENTRY32>() as u32,
                cntUsage: 0,
                th32ThreadID: 0,
                th32OwnerProcessID: 0,
                tpBasePri: 0,
                tpDeltaPri: 0,
                dwFlags: 0,
            };
            // SAFETY: the snapshot is open and `entry` is writable with its dwSize set.
            #[allow(unsafe_code)]
            let mut more = unsafe { Thread32First(raw(&snapshot), &mut entry) } != 0;
            while more {
                if entry.th32OwnerProcessID == pid && entry.th32ThreadID != me {
                    // SAFETY: plain values in, a new handle or null out.
                    #[allow(unsafe_code)]
                    let thread =
                        unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, entry.th32ThreadID) };
                    if let Ok(thread) = owned(thread) {
                        // SAFETY: the handle is open with THREAD_SUSPEND_RESUME.
                        #[allow(unsafe_code)]
                        unsafe {
                            SuspendThread(raw(&thread))
                        };
                    }
                }
                // SAFETY: as for Thread32First.
                #[allow(unsafe_code)]
                {
                    more = unsafe { Thread32Next(raw(&snapshot), &mut entry) } != 0;
                }
            }
        }
    }
    // SAFETY: suspends the calling thread through its pseudo handle; it runs again once
    // resumed from outside.
    #[allow(unsafe_code)]
    unsafe {
        SuspendThread(GetCurrentThread())
    };
}

/// voxctl's standard handles whose inherit flag was cleared, to set back on drop.
pub(super) struct StdHandles(Vec<windows_sys::Win32::Foundation::HANDLE>);

pub(super) fn private_std_handles() -> StdHandles {
    use windows_sys::Win32::Foundation::{
        GetHandleInformation, SetHandleInformation, HANDLE_FLAG_INHERIT,
    };
    use windows_sys::Win32::System::Console::{
        GetStdHandle, STD_ERROR_HANDLE, STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
    };
    let mut cleared = Vec::new();
    for which in [STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE] {
        // SAFETY: GetStdHandle only reads the process's parameters; the handle it returns
        // (possibly null or invalid, which the calls below refuse) is not closed here.
        #[allow(unsafe_code)]
        unsafe {
            let handle = GetStdHandle(which);
            let mut flags = 0u32;
            if !handle.is_null()
                && GetHandleInformation(handle, &mut flags) != 0
                && flags & HANDLE_FLAG_INHERIT != 0
                && SetHandleInformation(handle, HANDLE_FLAG_INHERIT, 0) != 0
            {
                cleared.push(handle);
            }
        }
    }
    StdHandles(cleared)
}

impl Drop for StdHandles {
    fn drop(&mut self) {
        use windows_sys::Win32::Foundation::{SetHandleInformation, HANDLE_FLAG_INHERIT};
        for &handle in &self.0 {
            // SAFETY: the handle is one of this process's standard handles, still open.
            #[allow(unsafe_code)]
            unsafe {
                SetHandleInformation(handle, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT)
            };
        }
    }
}
