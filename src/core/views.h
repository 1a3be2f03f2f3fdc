#pragma once

// Read models for the supervisor API, built from the log records that
// involved one entity (SPEC §5 "Supervisors"). Pure functions: the store
// finds the records (its entity index), the API adds the exception cases.
//
//   EntitiesOf(record)            which vehicles, bags, parcels and loads a
//                                 record involves (the entity index keys)
//   BuildParcelTrace(id, records) every scan, decision and hold, in hub order
//   BuildBagView / BuildVehicleView / BuildLoadView
//
// The records must be in hub order and carry their sort decisions
// (LogRecord.decision), as the log stores them.

#include <string>
#include <vector>

#include "core/entity_kind.h"
#include "hub/v1/record.pb.h"
#include "hub/v1/views.pb.h"

namespace hub::core {

struct EntityRef {
  EntityKind kind;
  const std::string* id;  // points into the record
};

// Appends to *out the entities `record` involves (each at most once). A sort
// scan involves the load its decision routes to; reference changes involve
// the vehicle, bag or parcel they name (a dispatch advice its vehicle and
// every bag); case actions and routes none.
void EntitiesOf(const v1::ScanEvent& event, const v1::SortDecision* decision,
                std::vector<EntityRef>* out);
void EntitiesOf(const v1::ReferenceChange& change, std::vector<EntityRef>* out);
void EntitiesOf(const v1::LogRecord& record, std::vector<EntityRef>* out);

// Index key of an entity: the kind byte, then the id.
std::string EntityKey(EntityKind kind, const std::string& id);

// Keeps only the records of the entity's latest life: those after its last
// retirement, or if none, those since the retirement before it. `retired_at`
// (ascending) holds the hub_seqs at which the entity left the hub.
void KeepLatestLife(const std::vector<uint64_t>& retired_at, std::vector<v1::LogRecord>* records);

v1::ParcelTrace BuildParcelTrace(const std::string& parcel_id,
                                 const std::vector<v1::LogRecord>& records);
v1::BagView BuildBagView(const std::string& bag_id, const std::vector<v1::LogRecord>& records);
// `bags` holds views of the entity's bags (any order): the bags unloaded
// from the vehicle, the bags loaded onto the load. A bag without a view
// appears in the manifest by id only.
v1::VehicleView BuildVehicleView(const std::string& vehicle_id,
                                 const std::vector<v1::LogRecord>& records,
                                 const std::vector<v1::BagView>& bags);
v1::LoadView BuildLoadView(const std::string& load_id, const std::vector<v1::LogRecord>& records,
                           const std::vector<v1::BagView>& bags);

}  // namespace hub::core
