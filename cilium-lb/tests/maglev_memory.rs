//! The Maglev builder's memory is O(M + N): a counting allocator measures the peak while the
//! largest table is built for 1000 backends. Cilium's permutation array alone would take
//! M × N × 8 bytes here (about 1 GB).
//!
//! This file holds a single test so that no other test allocates concurrently.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use cilium_core::Protocol;
use cilium_lb::maglev::{MaglevBackend, MaglevConfig, build_table};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` with the same arguments; the counters do not
// affect the allocations.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn peak_memory_is_linear_in_m_plus_n() {
    let m: u32 = 131_071;
    let n: u32 = 1000;
    let config = MaglevConfig::new(m, None).unwrap();
    let backends: Vec<MaglevBackend> = (0..n)
        .map(|i| {
            MaglevBackend::new(i, (0x0a00_0000 + i).to_be_bytes().into(), 80, Protocol::Tcp)
                .with_weight(1 + (i % 7) as u16)
        })
        .collect();

    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let table = build_table(&config, &backends).unwrap();
    let peak = PEAK.load(Ordering::SeqCst) - base;

    let table_bytes = m as usize * 4;
    // The table, plus per backend a hash string (< 64 bytes), its position in the sort and
    // its fill state (< 64 bytes); generous slack for allocator rounding.
    let bound = table_bytes + n as usize * 256 + 64 * 1024;
    println!(
        "M={m} N={n}: peak {peak} bytes (table {table_bytes}, bound {bound}; \
         an M x N permutation would be {} bytes)",
        m as usize * n as usize * 8
    );
    assert_eq!(table.len(), m as usize);
    assert!(peak <= bound, "peak {peak} > {bound}");
}
