// Software prefetch for the booster's scattered reads and writes (GradientBoosting.swift):
// Swift has no prefetch of its own, and the hardware prefetcher does not follow a leaf's rows,
// which are ascending but scattered over records far larger than the caches. And the spin-wait
// hint of its pair of threads (ThreadPair.swift), which Swift has none of either.
#pragma once

/// Asks for the cache line holding `p`, to be read soon.
static inline void listwise_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Asks for the cache line holding `p`, to be written soon.
static inline void listwise_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

/// Tells the core that the thread is spinning on a flag (x86 `pause`, Arm `yield`): for the
/// booster's helper thread (ThreadPair.swift).
static inline void listwise_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
