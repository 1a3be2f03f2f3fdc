#pragma once

// The audit trail of the supervisor API (docs/api.md, "Audit trail"): every
// write through the API that changes the hub (reference changes, holds,
// acknowledge, resolve) carries who wrote it and when in its log record
// (LogRecord.origin), and GET /v1/audit reads them back from the store's
// audit index (store/key_format.h). The core ignores the origin, so
// replaying the log gives the same state whoever wrote it; a hold keeps its
// placed_by/placed_at_ms, which are part of the logged change.
//
// Thread safety: pure functions and store reads; any thread.

#include <cstdint>
#include <string>

#include "api/hub_queries.h"
#include "api/render.h"
#include "hub/v1/record.pb.h"
#include "store/rocksdb_store.h"

namespace hub::api {

// Marks `rec`, a record about to be submitted for an API write, as written
// by `who` (the token's name) at `now_ms` (hubd's clock): sets rec->origin
// and, for an add_hold, the hold's placed_by and placed_at_ms, whatever the
// client sent in them.
void StampOrigin(const std::string& who, int64_t now_ms, v1::LogRecord* rec);

// GET /v1/audit?from=..&to=..&who=..&after=..&limit=..: an AuditPage,
// oldest first; `next_after` when more may follow. Any role.
Answer ListAudit(const Params& q, store::RocksDbStore* store);

}  // namespace hub::api
