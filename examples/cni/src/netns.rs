//! Network namespaces by path (`/run/netns/<name>`, `/proc/<pid>/ns/net`).
//!
//! Work inside a namespace runs on a short-lived thread that `setns`es into it and ends
//! there ([`NetNs::run`]): the caller's thread never changes namespace, so nothing has to
//! be switched back on an error path. A netlink socket opened on that thread stays bound
//! to the namespace after the thread ends, which is how [`crate::netlink::Netlink::open_in`]
//! works; `/proc/sys/net` files opened there are that namespace's sysctls.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// `NS_GET_NSTYPE` (`_IO(0xb7, 0x3)`): which kind of namespace a file refers to.
const NS_GET_NSTYPE: u64 = 0xb703;

/// An open network namespace.
#[derive(Debug)]
pub struct NetNs {
    file: File,
    path: String,
}

impl NetNs {
    /// Opens the namespace at `path`.
    ///
    /// # Errors
    ///
    /// The open error; `InvalidInput` when the file is not a network namespace.
    pub fn open(path: &str) -> io::Result<NetNs> {
        let file = File::open(path)?;
        // SAFETY: an ioctl without argument on a descriptor we own.
        let kind = unsafe { libc::ioctl(file.as_raw_fd(), NS_GET_NSTYPE as _) };
        let errno = (kind < 0).then(|| io::Error::last_os_error().raw_os_error());
        // ENOTTY: not a namespace file at all (kernels since 4.11 answer for every nsfs
        // file). Other failures are left to `setns`, which checks again.
        if (kind >= 0 && kind != libc::CLONE_NEWNET) || errno == Some(Some(libc::ENOTTY)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a network namespace",
            ));
        }
        Ok(NetNs {
            file,
            path: path.to_owned(),
        })
    }

    /// The namespace of the calling thread.
    ///
    /// # Errors
    ///
    /// When `/proc` is not mounted.
    pub fn current() -> io::Result<NetNs> {
        NetNs::open("/proc/thread-self/ns/net")
    }

    /// The path it was opened from.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Runs `f` on a thread inside the namespace and returns its result.
    ///
    /// # Errors
    ///
    /// `setns` failing (no `CAP_SYS_ADMIN`); a panic of `f` is passed on.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> io::Result<T> {
        let fd = self.file.as_raw_fd();
        std::thread::scope(|s| {
            let worker = s.spawn(move || {
                // SAFETY: `fd` is a namespace descriptor that outlives the scope.
                if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(f())
            });
            worker
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }
}

impl AsFd for NetNs {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}
