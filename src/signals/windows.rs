//! `lease run`'s interrupts on Windows: a console control handler for Ctrl-C, Ctrl-Break and
//! the console's closing, setting flags and an event that wakes the supervisor.

use std::ffi::c_void;
use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use voxctl::cancel::Cancel;
use voxctl::lease::run::{Interrupts, Received};
use windows_sys::core::BOOL;
use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::System::Console::{
    SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_C_EVENT,
};
use windows_sys::Win32::System::Threading::{CreateEventW, SetEvent, WaitForMultipleObjects};

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

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX - 1)
}

/// What the console control handler saw: Ctrl-C, Ctrl-Break, the console closing.
static RECEIVED: [AtomicBool; 3] = [
    AtomicBool::new(false),
    AtomicBool::new(false),
    AtomicBool::new(false),
];
/// The flags a received interrupt sets besides [`RECEIVED`] (the installers' cancels).
static CANCELS: Mutex<Vec<Arc<AtomicBool>>> = Mutex::new(Vec::new());
/// The event that wakes [`Forwarded`]'s nap.
static WAKE: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// The console control handler (Windows runs it on a thread of its own).
extern "system" fn on_ctrl(ctrl: u32) -> BOOL {
    let slot = match ctrl {
        CTRL_C_EVENT => 0,
        CTRL_BREAK_EVENT => 1,
        CTRL_CLOSE_EVENT => 2,
        _ => return 0,
    };
    RECEIVED[slot].store(true, Ordering::SeqCst);
    if let Ok(cancels) = CANCELS.lock() {
        for flag in cancels.iter() {
            flag.store(true, Ordering::SeqCst);
        }
    }
    let wake = WAKE.load(Ordering::SeqCst);
    if !wake.is_null() {
        // SAFETY: WAKE holds the event of the installed Forwarded, which clears WAKE before it
        // closes the event.
        #[allow(unsafe_code)]
        unsafe {
            SetEvent(wake)
        };
    }
    if ctrl == CTRL_CLOSE_EVENT {
        // The process ends when this handler returns: give the supervisor a moment to forward
        // the event to the command first.
        std::thread::sleep(Duration::from_millis(500));
    }
    1
}

/// The installed console control handler and its wake-up event.
#[derive(Debug)]
pub struct Forwarded {
    wake: OwnedHandle,
}

impl Forwarded {
    pub fn install(cancel: &Cancel) -> io::Result<Forwarded> {
        // SAFETY: default security, auto-reset, not signalled, no name.
        #[allow(unsafe_code)]
        let wake = owned(unsafe { CreateEventW(std::ptr::null(), 0, 0, std::ptr::null()) })?;
        for flag in &RECEIVED {
            flag.store(false, Ordering::SeqCst);
        }
        CANCELS
            .lock()
            .map_err(|_| io::Error::other("interrupt state poisoned"))?
            .push(cancel.flag());
        WAKE.store(raw(&wake), Ordering::SeqCst);
        // SAFETY: `on_ctrl` matches PHANDLER_ROUTINE and stays valid for the program's life.
        #[allow(unsafe_code)]
        if unsafe { SetConsoleCtrlHandler(Some(on_ctrl), 1) } == 0 {
            WAKE.store(std::ptr::null_mut(), Ordering::SeqCst);
            return Err(io::Error::last_os_error());
        }
        Ok(Forwarded { wake })
    }
}

impl Interrupts for Forwarded {
    fn take(&self) -> Vec<Received> {
        [CTRL_C_EVENT, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT]
            .into_iter()
            .zip(&RECEIVED)
            .filter(|(_, f)| f.swap(false, Ordering::SeqCst))
            .map(|(ctrl, _)| Received::from_raw(ctrl as i32))
            .collect()
    }

    fn nap(&self, timeout: Duration, child: &Child) {
        let handles = [raw(&self.wake), raw(child)];
        // SAFETY: both handles are open with SYNCHRONIZE for the call.
        #[allow(unsafe_code)]
        unsafe {
            WaitForMultipleObjects(2, handles.as_ptr(), 0, millis(timeout))
        };
    }
}

impl Drop for Forwarded {
    fn drop(&mut self) {
        // SAFETY: removes the handler installed by `install`.
        #[allow(unsafe_code)]
        unsafe {
            SetConsoleCtrlHandler(Some(on_ctrl), 0)
        };
        WAKE.store(std::ptr::null_mut(), Ordering::SeqCst);
        if let Ok(mut cancels) = CANCELS.lock() {
            cancels.clear();
        }
    }
}
