//! BPF links by raw syscall: create, pin, re-open and atomically update.
//!
//! aya 0.14 covers link creation per program type, but not re-opening a pinned link of any type
//! and pointing it at a newly loaded program (`BPF_LINK_UPDATE`), which is what a restarted
//! agent needs. Every attachment of the datapath is therefore made here, uniformly, with
//! `BPF_LINK_CREATE` and pinned with `BPF_OBJ_PIN`: a pinned link outlives the process that
//! made it, and a new process swaps the program under it in one step, so traffic never runs
//! without a program.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const BPF_OBJ_PIN: libc::c_long = 6;
const BPF_OBJ_GET: libc::c_long = 7;
const BPF_LINK_CREATE: libc::c_long = 28;
const BPF_LINK_UPDATE: libc::c_long = 29;

/// Kernel attach types (`enum bpf_attach_type`) the datapath uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum AttachType {
    SockOps = 3,
    Connect4 = 10,
    Sendmsg4 = 14,
    Recvmsg4 = 19,
    Getpeername4 = 29,
    Xdp = 37,
    TcxIngress = 46,
    TcxEgress = 47,
}

fn sys_bpf(cmd: libc::c_long, attr: &mut [u64; 8]) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a zero-initialised buffer at least as large as each bpf_attr variant
    // used here, and the kernel reads at most the size passed.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr.as_mut_ptr(),
            std::mem::size_of_val(attr),
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn words(attr: &mut [u64; 8]) -> &mut [u32; 16] {
    bytemuck::cast_mut(attr)
}

fn to_fd(rc: libc::c_long) -> OwnedFd {
    // SAFETY: the syscall returned a new file descriptor that nothing else owns.
    unsafe { OwnedFd::from_raw_fd(rc as i32) }
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// `BPF_LINK_CREATE`: attaches `prog` to `target` (an interface index, or a cgroup fd).
pub(crate) fn create(prog: BorrowedFd<'_>, target: u32, kind: AttachType) -> io::Result<OwnedFd> {
    let mut attr = [0u64; 8];
    let w = words(&mut attr);
    w[0] = prog.as_raw_fd() as u32;
    w[1] = target;
    w[2] = kind as u32;
    sys_bpf(BPF_LINK_CREATE, &mut attr).map(to_fd)
}

/// `BPF_LINK_UPDATE`: the link runs `prog` from now on, atomically.
pub(crate) fn update(link: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    let mut attr = [0u64; 8];
    let w = words(&mut attr);
    w[0] = link.as_raw_fd() as u32;
    w[1] = prog.as_raw_fd() as u32;
    sys_bpf(BPF_LINK_UPDATE, &mut attr).map(|_| ())
}

/// `BPF_OBJ_PIN`: pins `fd` (a link) at `path` on a bpffs.
pub(crate) fn pin(fd: impl AsFd, path: &Path) -> io::Result<()> {
    let c = c_path(path)?;
    let mut attr = [0u64; 8];
    attr[0] = c.as_ptr() as u64;
    words(&mut attr)[2] = fd.as_fd().as_raw_fd() as u32;
    sys_bpf(BPF_OBJ_PIN, &mut attr).map(|_| ())
}

/// `BPF_OBJ_GET`: opens the object pinned at `path`.
pub(crate) fn open_pinned(path: &Path) -> io::Result<OwnedFd> {
    let c = c_path(path)?;
    let mut attr = [0u64; 8];
    attr[0] = c.as_ptr() as u64;
    sys_bpf(BPF_OBJ_GET, &mut attr).map(to_fd)
}
