// jemalloc's settings for sipprobe, read by jemalloc at start-up (linked only with
// SIPPROBE_JEMALLOC, see CMakeLists.txt). A run is short and its peak is what it needs:
// freed pages are kept instead of being purged back to the kernel (each purge is a
// madvise and, later, page faults), and the per-thread cache takes blocks up to 4 KiB (a
// registration's largest objects) so they come back without touching an arena.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1,tcache_max:4096,background_thread:false";
}
