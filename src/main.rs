/// mimalloc rather than the system allocator: glibc hands large freed blocks back to the
/// operating system (or trims its heaps) and the next training step faults them in again,
/// page by page. Whether that happens depends on the process's allocation history; with
/// mimalloc the step's buffers are reused every time (BENCHMARKS.md has the fault counts).
/// Built with `no_thp` (see Cargo.toml): transparent huge pages raised peak memory by 30 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(vae::cli::main());
}
