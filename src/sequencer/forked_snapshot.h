#pragma once

// The core's snapshot taken in a forked child, so a checkpoint costs the
// sequencer a fork() instead of serialising the whole live state on its own
// thread (measured: bench/RESULTS.md). The child is a copy-on-write image of
// the process at one instant between two commits; its one thread serialises
// the HubState into a pipe, with every other descriptor closed, and exits.
// The store's checkpoint writer reads the pipe on its own thread.
//
// What the child may touch: the HubState and malloc (glibc keeps malloc
// consistent across fork). It never logs, never touches RocksDB, sockets
// or locks of other threads, and leaves with _exit().
//
// Thread safety: ForkSnapshot() on the thread that owns `state` (the
// sequencer); the returned source on any one thread, once.

#include <functional>
#include <string>

#include "core/hub_state.h"
#include "store/status.h"

namespace hub::sequencer {

// Reads the serialised HubSnapshot into *out; reaps the child.
using SnapshotSource = std::function<store::Status(std::string* out)>;

// Forks the child. Null (and *error set) when fork or pipe fail; the caller
// can fall back to HubState::Snapshot() on its own thread.
SnapshotSource ForkSnapshot(const core::HubState& state, std::string* error);

}  // namespace hub::sequencer
