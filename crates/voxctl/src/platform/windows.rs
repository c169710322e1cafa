//! Windows implementations of [`crate::platform`]'s interface (Win32 through `windows-sys`).

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use windows_sys::Win32::Foundation::{
    ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED, ERROR_TOO_MANY_LINKS,
};
use windows_sys::Win32::Storage::FileSystem::{
    MoveFileExW, FILE_ATTRIBUTE_REPARSE_POINT, FILE_FLAG_BACKUP_SEMANTICS,
    FILE_FLAG_OPEN_REPARSE_POINT, MOVEFILE_REPLACE_EXISTING, MOVEFILE_WRITE_THROUGH,
};

use super::Refusal;

/// `s` as a NUL-terminated UTF-16 string for a `W` function.
fn wide(s: &OsStr) -> Vec<u16> {
    s.encode_wide().chain(std::iter::once(0)).collect()
}

/// Refuses a handle opened on a reparse point (a symbolic link, a junction, a mount point):
/// `FILE_FLAG_OPEN_REPARSE_POINT` opened the point itself instead of following it.
fn refuse_reparse_point(file: File) -> io::Result<File> {
    if file.metadata()?.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        return Err(Refusal {
            why: "it is a reparse point (a symbolic link or junction)",
        }
        .into_io(io::ErrorKind::InvalidInput));
    }
    Ok(file)
}

pub(super) fn open_state(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    let file = options
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path)?;
    refuse_reparse_point(file)
}

pub(super) fn open_state_dir(path: &Path) -> io::Result<File> {
    let dir = OpenOptions::new()
        .read(true)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path)?;
    let dir = refuse_reparse_point(dir)?;
    if !dir.metadata()?.is_dir() {
        return Err(Refusal {
            why: "it is not a directory",
        }
        .into_io(io::ErrorKind::InvalidInput));
    }
    Ok(dir)
}

pub(super) fn replace_file(from: &Path, to: &Path) -> io::Result<()> {
    let (from, to) = (wide(from.as_os_str()), wide(to.as_os_str()));
    #[allow(unsafe_code)]
    // SAFETY: both are NUL-terminated UTF-16 strings that outlive the call; MoveFileExW
    // reads them and keeps no pointer.
    let ok = unsafe {
        MoveFileExW(
            from.as_ptr(),
            to.as_ptr(),
            MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub(super) fn lock_holder(_meta: &std::fs::Metadata) -> io::Result<Option<i32>> {
    Err(io::ErrorKind::Unsupported.into())
}

pub(super) fn write_all_at(file: &File, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_write(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub(super) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::windows::fs::FileExt;
    file.seek_read(buf, offset)
}

pub(super) fn space(dir: &Path) -> io::Result<super::Space> {
    use windows_sys::Win32::Storage::FileSystem::GetDiskFreeSpaceExW;
    let dir = wide(dir.as_os_str());
    let (mut available, mut total) = (0u64, 0u64);
    // SAFETY: `dir` is a NUL-terminated UTF-16 string and both outputs are writable u64s
    // for the duration of the call; the third output may be null.
    #[allow(unsafe_code)]
    let ok = unsafe {
        GetDiskFreeSpaceExW(
            dir.as_ptr(),
            &mut available,
            &mut total,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(super::Space { available, total })
}

pub(super) fn allocated(file: &File) -> io::Result<u64> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Storage::FileSystem::{
        FileStandardInfo, GetFileInformationByHandleEx, FILE_STANDARD_INFO,
    };
    // SAFETY: an all-zero FILE_STANDARD_INFO is a valid value of the plain-data struct.
    #[allow(unsafe_code)]
    let mut info: FILE_STANDARD_INFO = unsafe { std::mem::zeroed() };
    // SAFETY: the handle is open for the call and `info` is writable for the size passed.
    #[allow(unsafe_code)]
    let ok = unsafe {
        GetFileInformationByHandleEx(
            file.as_raw_handle() as _,
            FileStandardInfo,
            (&mut info as *mut FILE_STANDARD_INFO).cast(),
            std::mem::size_of::<FILE_STANDARD_INFO>() as u32,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(u64::try_from(info.AllocationSize).unwrap_or(0))
}

pub(super) fn preallocate(file: &File, size: u64) -> io::Result<()> {
    file.set_len(size)
}

pub(super) fn punch_hole(_file: &File, _offset: u64, _len: u64) -> io::Result<bool> {
    Ok(false)
}

pub(super) fn file_identity(file: &File) -> io::Result<(u64, u64)> {
    let info = handle_information(file)?;
    let index = (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow);
    Ok((u64::from(info.dwVolumeSerialNumber), index))
}

pub(super) fn make_inheritable(file: &File) -> io::Result<()> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Foundation::{SetHandleInformation, HANDLE_FLAG_INHERIT};
    // SAFETY: the handle is open for the duration of the call.
    #[allow(unsafe_code)]
    let ok = unsafe {
        SetHandleInformation(
            file.as_raw_handle() as _,
            HANDLE_FLAG_INHERIT,
            HANDLE_FLAG_INHERIT,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub(super) fn make_executable(_path: &Path) -> io::Result<()> {
    Ok(())
}

pub(super) fn hard_link_unsupported(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error().map(|code| code as u32),
        Some(ERROR_NOT_SUPPORTED | ERROR_INVALID_FUNCTION | ERROR_TOO_MANY_LINKS)
    )
}

pub(super) fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

pub(super) fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

pub(super) fn clear_nonblocking(_file: &File) -> io::Result<()> {
    Ok(())
}

pub(super) fn special_kind(_t: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// `GetFileInformationByHandle` of the open `file`.
fn handle_information(
    file: &File,
) -> io::Result<windows_sys::Win32::Storage::FileSystem::BY_HANDLE_FILE_INFORMATION> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Storage::FileSystem::GetFileInformationByHandle;
    // SAFETY: an all-zero BY_HANDLE_FILE_INFORMATION is a valid value of the plain-data struct.
    #[allow(unsafe_code)]
    let mut info = unsafe { std::mem::zeroed() };
    // SAFETY: the handle is open for the duration of the call and `info` is writable.
    #[allow(unsafe_code)]
    let ok = unsafe { GetFileInformationByHandle(file.as_raw_handle() as _, &mut info) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(info)
}

pub(super) fn link_count(file: &File) -> io::Result<u64> {
    Ok(u64::from(handle_information(file)?.nNumberOfLinks))
}

/// The SID at `sid` as text (`S-1-5-21-...`), or `"?"` if it cannot be converted.
fn sid_text(sid: windows_sys::Win32::Security::PSID) -> String {
    use windows_sys::Win32::Foundation::LocalFree;
    use windows_sys::Win32::Security::Authorization::ConvertSidToStringSidW;
    let mut text: *mut u16 = std::ptr::null_mut();
    // SAFETY: `sid` points at a valid SID for the duration of the call; on success `text`
    // is a NUL-terminated string allocated with LocalAlloc, freed below.
    #[allow(unsafe_code)]
    unsafe {
        if ConvertSidToStringSidW(sid, &mut text) == 0 {
            return "?".to_string();
        }
        let len = (0..).take_while(|&i| *text.add(i) != 0).count();
        let s = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
        LocalFree(text as _);
        s
    }
}

pub(super) fn foreign_owner(file: &File) -> io::Result<Option<String>> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Foundation::{CloseHandle, LocalFree, HANDLE};
    use windows_sys::Win32::Security::Authorization::{GetSecurityInfo, SE_FILE_OBJECT};
    use windows_sys::Win32::Security::{
        EqualSid, GetTokenInformation, TokenOwner, TokenUser, OWNER_SECURITY_INFORMATION, PSID,
        TOKEN_OWNER, TOKEN_QUERY, TOKEN_USER,
    };
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    let mut owner: PSID = std::ptr::null_mut();
    let mut descriptor = std::ptr::null_mut();
    // SAFETY: the handle is open for the call; on success `owner` points into `descriptor`,
    // which is allocated with LocalAlloc and freed once the comparison is done.
    #[allow(unsafe_code)]
    let status = unsafe {
        GetSecurityInfo(
            file.as_raw_handle() as HANDLE,
            SE_FILE_OBJECT,
            OWNER_SECURITY_INFORMATION,
            &mut owner,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut descriptor,
        )
    };
    if status != 0 {
        return Err(io::Error::from_raw_os_error(status as i32));
    }
    let mut token: HANDLE = std::ptr::null_mut();
    // Token buffers of u64 so the TOKEN_USER/TOKEN_OWNER read from their start is aligned.
    let (mut user, mut default_owner) = ([0u64; 64], [0u64; 64]);
    #[allow(unsafe_code)]
    // SAFETY: the pseudo handle of GetCurrentProcess needs no closing; `token` is closed
    // below; each buffer is writable for the length passed, and the SIDs the token structs
    // point at live inside those buffers.
    let result = unsafe {
        let result = if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
            Err(io::Error::last_os_error())
        } else {
            let mut len = 0u32;
            let ok = GetTokenInformation(
                token,
                TokenUser,
                user.as_mut_ptr().cast(),
                std::mem::size_of_val(&user) as u32,
                &mut len,
            ) != 0
                && GetTokenInformation(
                    token,
                    TokenOwner,
                    default_owner.as_mut_ptr().cast(),
                    std::mem::size_of_val(&default_owner) as u32,
                    &mut len,
                ) != 0;
            let result = if ok {
                let user_sid = (*user.as_ptr().cast::<TOKEN_USER>()).User.Sid;
                let owner_sid = (*default_owner.as_ptr().cast::<TOKEN_OWNER>()).Owner;
                if EqualSid(owner, user_sid) != 0 || EqualSid(owner, owner_sid) != 0 {
                    Ok(None)
                } else {
                    Ok(Some(format!(
                        "owned by {}, not by this user ({})",
                        sid_text(owner),
                        sid_text(user_sid)
                    )))
                }
            } else {
                Err(io::Error::last_os_error())
            };
            CloseHandle(token);
            result
        };
        LocalFree(descriptor as _);
        result
    };
    result
}

pub(super) fn mode_bits(_meta: &std::fs::Metadata) -> Option<u32> {
    None
}

pub(super) fn open_dir(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
        .open(path)
}

pub(super) fn own_group(command: &mut std::process::Command) {
    use std::os::windows::process::CommandExt;
    use windows_sys::Win32::System::Threading::CREATE_NEW_PROCESS_GROUP;
    command.creation_flags(CREATE_NEW_PROCESS_GROUP);
}

pub(super) fn kill_group(child: &mut std::process::Child) {
    let _ = child.kill();
}

pub(super) fn create_mode(options: &mut OpenOptions, _mode: u32) -> &mut OpenOptions {
    options
}

pub(super) fn create_dir(path: &Path, _mode: u32, recursive: bool) -> io::Result<()> {
    std::fs::DirBuilder::new().recursive(recursive).create(path)
}

pub(super) fn held_without_sharing(path: &Path) -> io::Result<bool> {
    use windows_sys::Win32::Foundation::ERROR_SHARING_VIOLATION;
    use windows_sys::Win32::Storage::FileSystem::{
        FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
    };
    let opened = OpenOptions::new()
        .read(true)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path);
    match opened {
        Ok(_) => Ok(false),
        Err(e) if e.raw_os_error() == Some(ERROR_SHARING_VIOLATION as i32) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

pub(super) fn held_open_elsewhere(err: &io::Error) -> bool {
    use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION};
    matches!(
        err.raw_os_error(),
        Some(c) if c == ERROR_ACCESS_DENIED as i32 || c == ERROR_SHARING_VIOLATION as i32
    )
}
