#pragma once

// The audit trail (GET /v1/audit): what one write through the API did, read
// from its log record. A record written through the API carries its origin
// (LogRecord.origin: the token's name and hubd's clock); the core's state
// never depends on it, so replaying the log gives the same state whoever
// wrote it. Pure function: the store finds the records (its audit index).

#include <optional>

#include "hub/v1/desk.pb.h"
#include "hub/v1/record.pb.h"

namespace hub::core {

// The audit entry of `rec`; nullopt when it has no origin (a scan, a
// retention, a reference change hubd logged itself). Per kind:
//
//   record                   action           subject            note
//   case_action ACKNOWLEDGED acknowledge      the case id        the case note
//   case_action RESOLVED     resolve          the case id        the case note
//   upsert_route             upsert_route     the destination
//   replace_routes           replace_routes   "N routes"
//   vehicle_advice           vehicle_advice   the vehicle id
//   bag_advice               bag_advice       the bag id
//   dispatch_advice          dispatch_advice  the vehicle id     "from hub H (its hub_seq N), B bags"
//   add_hold                 add_hold         the parcel id      the hold note
//   remove_hold              remove_hold      the parcel id
//   settings                 settings         "dwell_hours=H forget_after_days=D"
std::optional<v1::AuditEntry> AuditEntryOf(const v1::LogRecord& rec);

}  // namespace hub::core
