// Software prefetch for the booster's scattered reads and writes (GradientBoosting.swift):
// Swift has no prefetch of its own, and the hardware prefetcher does not follow a leaf's rows,
// which are ascending but scattered over records far larger than the caches.
#pragma once

/// Asks for the cache line holding `p`, to be read soon.
static inline void listwise_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Asks for the cache line holding `p`, to be written soon.
static inline void listwise_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }
