#pragma once
// The allocator's settings for every sluice command, applied first thing in main().

namespace sluice::cli {

// With mimalloc (the release binary), freed memory goes back to the system a second after it was
// freed, not mimalloc's 25 ms: a burst of new streams (the gateway's, the simulator's) frees its
// connections' buffers and coroutine frames as the streams end, and the next burst took the same
// memory back page fault by page fault, each return costing a madvise and a TLB flush on every
// core. MIMALLOC_DECOMMIT_DELAY in the environment still wins. Without mimalloc (sanitizer and fuzz
// builds) it does nothing.
void apply_allocator_settings();

}  // namespace sluice::cli
