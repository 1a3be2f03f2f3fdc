#pragma once

// `hubd --export DIR`: the data directory's log as a day hubreplay can send
// to another daemon (proto/hub/v1/replay.proto): the scan events in hub
// order as wire frames, the reference changes, and a plan whose epochs keep
// every order that matters: a new epoch starts where an event involves a
// vehicle, bag, parcel or load that another scanner's event in the open
// epoch involved, and around reference changes. Case actions are not
// exported. Each scanner's events are renumbered 1, 2, 3, ... (rejected
// events left gaps).

#include <string>

#include "store/rocksdb_store.h"

namespace hub::daemon {

// Returns "" or what went wrong. *events gets the number of events written.
std::string ExportDay(store::RocksDbStore* store, const std::string& out_dir, uint64_t* events);

}  // namespace hub::daemon
