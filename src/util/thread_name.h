#pragma once

// Names the calling thread, as `top -H`, `perf` and /proc show it (at most
// 15 characters are kept).

#include <pthread.h>

namespace hub::util {

inline void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace hub::util
