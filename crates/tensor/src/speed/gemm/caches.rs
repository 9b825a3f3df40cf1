//! The data caches the CPU reports, read once from CPUID: what block sizes are chosen from
//! on a machine the kernel was never measured on, and what `kernel_report` prints.
//!
//! Both vendors describe each cache with the same four fields — ways, partitions, line
//! size and sets, each stored minus one — in CPUID leaf 4 (Intel) and leaf `0x8000001D`
//! (AMD, where the CPU has the topology extensions); the size is their product. A CPU
//! or a virtual machine that reports nothing usable gets [`Caches::FALLBACK`].

use std::sync::OnceLock;

/// A core's data caches, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caches {
    /// The level-1 data cache.
    pub l1d: usize,
    /// The level-2 cache (one core's).
    pub l2: usize,
    /// The level-3 cache (shared by several cores), when there is one.
    pub l3: Option<usize>,
}

impl Caches {
    /// What a CPU that reports nothing is taken to have: the smallest of the machines the
    /// kernel was measured on (a Zen 3: 32 KiB L1d, 512 KiB L2).
    pub const FALLBACK: Caches = Caches {
        l1d: 32 << 10,
        l2: 512 << 10,
        l3: None,
    };

    /// This CPU's caches (read once).
    pub fn of_this_cpu() -> Caches {
        static CACHES: OnceLock<Caches> = OnceLock::new();
        *CACHES.get_or_init(|| read().unwrap_or(Caches::FALLBACK))
    }

    /// "L1d 32 KiB, L2 512 KiB, L3 32 MiB", for reports.
    pub fn describe(&self) -> String {
        let size = |b: usize| match b {
            b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
            b => format!("{} KiB", b >> 10),
        };
        let l3 = self.l3.map(|b| format!(", L3 {}", size(b)));
        format!(
            "L1d {}, L2 {}{}",
            size(self.l1d),
            size(self.l2),
            l3.unwrap_or_default()
        )
    }
}

/// One cache as CPUID's `eax`, `ebx`, `ecx` of leaf 4 / `0x8000001D` describe it:
/// `(level, is data or unified, bytes)`, or `None` past the last cache.
pub(super) fn decode(eax: u32, ebx: u32, ecx: u32) -> Option<(u32, bool, usize)> {
    let kind = eax & 0x1f; // 0: no more caches, 1: data, 2: instruction, 3: unified
    if kind == 0 {
        return None;
    }
    let level = (eax >> 5) & 0x7;
    let ways = ((ebx >> 22) & 0x3ff) as usize + 1;
    let partitions = ((ebx >> 12) & 0x3ff) as usize + 1;
    let line = (ebx & 0xfff) as usize + 1;
    let sets = ecx as usize + 1;
    Some((level, kind != 2, ways * partitions * line * sets))
}

/// The caches from CPUID, if it describes an L1 data cache and an L2.
#[cfg(target_arch = "x86_64")]
fn read() -> Option<Caches> {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    // SAFETY: every x86-64 CPU has CPUID; the leaves asked for are checked to exist first.
    #[allow(unused_unsafe)]
    let (max, max_extended) = unsafe { (__cpuid(0).eax, __cpuid(0x8000_0000).eax) };
    let leaf = if super::path::intel() && max >= 4 {
        4
    } else if max_extended >= 0x8000_001d {
        0x8000_001d
    } else {
        return None;
    };
    let mut caches = Caches {
        l1d: 0,
        l2: 0,
        l3: None,
    };
    for sub in 0..16 {
        // SAFETY: as above; a subleaf past the last cache reads as kind 0.
        #[allow(unused_unsafe)]
        let r = unsafe { __cpuid_count(leaf, sub) };
        let Some((level, data, bytes)) = decode(r.eax, r.ebx, r.ecx) else {
            break;
        };
        match (level, data) {
            (1, true) => caches.l1d = bytes,
            (2, true) => caches.l2 = bytes,
            (3, true) => caches.l3 = Some(bytes),
            _ => {}
        }
    }
    let plausible = (4 << 10..=1 << 20).contains(&caches.l1d) && caches.l2 > caches.l1d;
    plausible.then_some(caches)
}

#[cfg(not(target_arch = "x86_64"))]
fn read() -> Option<Caches> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_is_decoded_as_the_manuals_say() {
        // A Zen 3's L1d: data (1), level 1, 8 ways, 1 partition, 64-byte lines, 64 sets.
        let (eax, ebx, ecx) = (1 | 1 << 5, 7 << 22 | 63, 63);
        assert_eq!(decode(eax, ebx, ecx), Some((1, true, 32 << 10)));
        // Its L2: unified (3), level 2, 8 ways, 1024 sets: 512 KiB.
        assert_eq!(
            decode(3 | 2 << 5, 7 << 22 | 63, 1023),
            Some((2, true, 512 << 10))
        );
        assert_eq!(
            decode(2 | 1 << 5, 7 << 22 | 63, 63).map(|c| c.1),
            Some(false)
        );
        assert_eq!(decode(0, 123, 456), None, "kind 0 ends the list");
    }

    #[test]
    fn this_cpus_caches_are_plausible_and_described() {
        let c = Caches::of_this_cpu();
        assert!(c.l1d >= 4 << 10 && c.l2 > c.l1d, "{c:?}");
        assert!(c.l3.is_none_or(|l3| l3 >= c.l2), "{c:?}");
        assert_eq!(
            Caches::FALLBACK.describe(),
            "L1d 32 KiB, L2 512 KiB",
            "the fallback reads as it should"
        );
        let big = Caches {
            l3: Some(32 << 20),
            ..Caches::FALLBACK
        };
        assert_eq!(big.describe(), "L1d 32 KiB, L2 512 KiB, L3 32 MiB");
    }
}
