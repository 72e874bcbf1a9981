// A cache hint Swift has no spelling for: start loading the line at `address` into the level-2 cache
// (x86 prefetcht1; a no-op where the target has no prefetch). The streaming kernel uses it to fetch the
// next tile's weights while the current tile computes, and one row's loop the weights 8 KiB ahead of its reads.
static inline void prefetch_to_l2(const void *address) { __builtin_prefetch(address, 0, 2); }
