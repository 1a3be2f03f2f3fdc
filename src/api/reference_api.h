#pragma once

// Reference data read back (docs/api.md, "Reference data"): the routing
// table, the holds and the advices in force. They live only in the core's
// memory (core::HubState), which only the sequencer thread may touch, so
// each request takes what it needs there (sequencer::Submission::inspect:
// an immutable copy of the routes or holds shared until they change, or one
// advice) and renders the JSON on its own thread; it sees every write
// answered before it. Ingest pauses only for the copy: a reference count
// while the table is unchanged, one copy of it after a change. Any role
// may read.
//
// Thread safety: any thread; each call blocks its caller (a query thread)
// until the sequencer has run the copy (or 503 after a few seconds, or at
// once when the store has failed or hubd is stopping).

#include <string>

#include "api/render.h"
#include "sequencer/sequencer.h"

namespace hub::api {

// GET /v1/routes: the RoutingTable, by destination.
Answer ListRoutes(sequencer::Sequencer* sequencer);
// GET /v1/holds: a HoldList, by parcel id, each with placed_by/placed_at_ms
// when placed through the API.
Answer ListHolds(sequencer::Sequencer* sequencer);
// GET /v1/advices/vehicles/{id} (a VehicleAdvice, `vehicle`) and
// GET /v1/advices/bags/{id} (a BagAdvice); 404 when the hub holds none.
Answer GetAdvice(sequencer::Sequencer* sequencer, bool vehicle, const std::string& id);

}  // namespace hub::api
