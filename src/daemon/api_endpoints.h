#pragma once

// The supervisor API (docs/api.md): exceptions (list with filters and cursor
// paging, get one, acknowledge, resolve), the parcel trace and the bag,
// vehicle and load views, the summary, and reference data, over HTTP/JSON
// (protobuf's JSON mapping of proto/hub/v1). Bearer tokens from the
// configuration carry a role: viewer reads, supervisor also acknowledges and
// resolves, admin also loads reference data. Writes go through the
// sequencer, so they are ordered and durable like scans; reads go to the
// store and never to the sequencer.

#include <atomic>
#include <string>
#include <vector>

#include "net/http_server.h"
#include "sequencer/sequencer.h"
#include "store/rocksdb_store.h"

namespace hub::daemon {

enum class Role { kViewer = 1, kSupervisor = 2, kAdmin = 3 };

// With no token configured, hubd's local admin token, in the data directory.
inline constexpr const char* kLocalTokenFile = "local-admin-token";

struct ApiToken {
  std::string name;   // recorded as "by" on acknowledge/resolve
  std::string token;  // the bearer secret
  Role role = Role::kViewer;
};

struct ApiSources {
  sequencer::Sequencer* sequencer = nullptr;
  store::RocksDbStore* store = nullptr;
  const std::atomic<bool>* ready = nullptr;
  std::vector<ApiToken> tokens;
};

// Handles every path under /v1/.
net::HttpResponse HandleApi(const net::HttpRequest& request, const ApiSources& sources);

}  // namespace hub::daemon
