#include "core/views.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/upu.h"

namespace hub::core {
namespace {

void Add(std::vector<EntityRef>* out, EntityKind kind, const std::string& id) {
  if (id.empty()) return;
  for (const auto& e : *out)
    if (e.kind == kind && *e.id == id) return;
  out->push_back(EntityRef{kind, &id});
}

// A list of ids in first-seen order, each once, in O(1) per id.
class UniqueList {
 public:
  explicit UniqueList(google::protobuf::RepeatedPtrField<std::string>* list) : list_(list) {}
  void Add(const std::string& id) {
    if (seen_.insert(id).second) *list_->Add() = id;
  }

 private:
  google::protobuf::RepeatedPtrField<std::string>* list_;
  std::unordered_set<std::string> seen_;
};

// Appends to *out the ids of `from` that are not in `not_in`, in `from`'s order.
void Minus(const google::protobuf::RepeatedPtrField<std::string>& from,
           const google::protobuf::RepeatedPtrField<std::string>& not_in,
           google::protobuf::RepeatedPtrField<std::string>* out) {
  const std::unordered_set<std::string> exclude(not_in.begin(), not_in.end());
  for (const auto& id : from)
    if (!exclude.count(id)) *out->Add() = id;
}

// The advice for bag `bag_id` in a reference change: a bag advice, or its
// part of a dispatch advice; nullptr when the change holds none.
const v1::BagAdvice* BagAdviceIn(const v1::ReferenceChange& c, const std::string& bag_id) {
  if (c.has_bag_advice()) return &c.bag_advice();
  if (!c.has_dispatch_advice()) return nullptr;
  for (const auto& b : c.dispatch_advice().bags())
    if (b.bag_id() == bag_id) return &b;
  return nullptr;
}

// The vehicle advice in a reference change (alone or in a dispatch advice).
const v1::VehicleAdvice* VehicleAdviceIn(const v1::ReferenceChange& c) {
  if (c.has_vehicle_advice()) return &c.vehicle_advice();
  if (c.has_dispatch_advice()) return &c.dispatch_advice().vehicle();
  return nullptr;
}

v1::TraceEntry ToEntry(const v1::LogRecord& rec) {
  v1::TraceEntry e;
  e.set_hub_seq(rec.hub_seq());
  if (rec.has_event()) *e.mutable_event() = rec.event();
  if (rec.has_reference()) *e.mutable_reference() = rec.reference();
  if (rec.has_decision()) *e.mutable_decision() = rec.decision();
  return e;
}

v1::ManifestBag ToManifest(const v1::BagView& bag, bool with_parcels) {
  v1::ManifestBag m;
  m.set_bag_id(bag.bag_id());
  if (bag.has_label_count()) m.set_label_count(bag.label_count());
  m.set_scanned_count(bag.scanned_count());
  if (with_parcels) {
    *m.mutable_parcel_ids() = bag.members();
    m.set_destination(bag.destination());
    m.set_closed(bag.closed());
  }
  return m;
}

}  // namespace

std::string EntityKey(EntityKind kind, const std::string& id) {
  std::string key(1, static_cast<char>(kind));
  key += id;
  return key;
}

void EntitiesOf(const v1::ScanEvent& e, const v1::SortDecision* decision,
                std::vector<EntityRef>* out) {
  using E = v1::ScanEvent;
  constexpr auto V = EntityKind::kVehicle, B = EntityKind::kBag, P = EntityKind::kParcel,
                 L = EntityKind::kLoad;
  switch (e.body_case()) {
    case E::kVehicleArrived: Add(out, V, e.vehicle_arrived().vehicle_id()); break;
    case E::kBagUnloaded:
      Add(out, B, e.bag_unloaded().bag_id());
      Add(out, V, e.bag_unloaded().vehicle_id());
      break;
    case E::kVehicleUnloaded: Add(out, V, e.vehicle_unloaded().vehicle_id()); break;
    case E::kBagOpened: Add(out, B, e.bag_opened().bag_id()); break;
    case E::kParcelUnbagged:
      Add(out, P, e.parcel_unbagged().parcel_id());
      Add(out, B, e.parcel_unbagged().bag_id());
      break;
    case E::kBagEmptied: Add(out, B, e.bag_emptied().bag_id()); break;
    case E::kParcelSorted:
      Add(out, P, e.parcel_sorted().parcel_id());
      if (decision != nullptr) Add(out, L, decision->load_id());
      break;
    case E::kBagCreated: Add(out, B, e.bag_created().bag_id()); break;
    case E::kParcelBagged:
      Add(out, P, e.parcel_bagged().parcel_id());
      Add(out, B, e.parcel_bagged().bag_id());
      break;
    case E::kBagClosed: Add(out, B, e.bag_closed().bag_id()); break;
    case E::kLoadOpened: Add(out, L, e.load_opened().load_id()); break;
    case E::kBagLoaded:
      Add(out, B, e.bag_loaded().bag_id());
      Add(out, L, e.bag_loaded().load_id());
      break;
    case E::kLoadDeparted: Add(out, L, e.load_departed().load_id()); break;
    case E::kHoldPlaced: Add(out, P, e.hold_placed().parcel_id()); break;
    case E::kHoldReleased: Add(out, P, e.hold_released().parcel_id()); break;
    case E::kParcelDamaged: Add(out, P, e.parcel_damaged().parcel_id()); break;
    case E::BODY_NOT_SET: break;
  }
}

void EntitiesOf(const v1::ReferenceChange& c, std::vector<EntityRef>* out) {
  using R = v1::ReferenceChange;
  switch (c.body_case()) {
    case R::kVehicleAdvice: Add(out, EntityKind::kVehicle, c.vehicle_advice().vehicle_id()); break;
    case R::kBagAdvice: Add(out, EntityKind::kBag, c.bag_advice().bag_id()); break;
    case R::kDispatchAdvice:
      Add(out, EntityKind::kVehicle, c.dispatch_advice().vehicle().vehicle_id());
      for (const auto& b : c.dispatch_advice().bags()) Add(out, EntityKind::kBag, b.bag_id());
      break;
    case R::kAddHold: Add(out, EntityKind::kParcel, c.add_hold().parcel_id()); break;
    case R::kRemoveHold: Add(out, EntityKind::kParcel, c.remove_hold()); break;
    case R::kReplaceRoutes:
    case R::kUpsertRoute:
    case R::kSettings:
    case R::BODY_NOT_SET: break;
  }
}

void EntitiesOf(const v1::LogRecord& rec, std::vector<EntityRef>* out) {
  if (rec.has_event()) EntitiesOf(rec.event(), rec.has_decision() ? &rec.decision() : nullptr, out);
  if (rec.has_reference()) EntitiesOf(rec.reference(), out);
}

void KeepLatestLife(const std::vector<uint64_t>& retired_at, std::vector<v1::LogRecord>* records) {
  if (retired_at.empty() || records->empty()) return;
  uint64_t after = retired_at.back(), through = UINT64_MAX;
  if (records->back().hub_seq() <= after) {  // the latest life has ended
    through = after;
    after = retired_at.size() >= 2 ? retired_at[retired_at.size() - 2] : 0;
  }
  std::erase_if(*records, [&](const v1::LogRecord& r) {
    return r.hub_seq() <= after || r.hub_seq() > through;
  });
}

v1::ParcelTrace BuildParcelTrace(const std::string& parcel_id,
                                 const std::vector<v1::LogRecord>& records) {
  v1::ParcelTrace t;
  t.set_parcel_id(parcel_id);
  for (const auto& rec : records) {
    *t.add_entries() = ToEntry(rec);
    if (rec.has_reference()) {
      if (rec.reference().has_add_hold()) t.set_held(true);
      if (rec.reference().has_remove_hold()) t.set_held(false);
      continue;
    }
    if (!rec.has_event()) continue;
    const v1::ScanEvent& e = rec.event();
    using E = v1::ScanEvent;
    switch (e.body_case()) {
      case E::kParcelUnbagged: t.set_inbound_bag(e.parcel_unbagged().bag_id()); break;
      case E::kParcelSorted:
        t.set_destination(e.parcel_sorted().destination());
        t.set_load_id(rec.decision().load_id());
        break;
      case E::kParcelBagged: t.set_outbound_bag(e.parcel_bagged().bag_id()); break;
      case E::kHoldPlaced: t.set_held(true); break;
      case E::kHoldReleased: t.set_held(false); break;
      case E::kParcelDamaged: t.set_damaged(true); break;
      default: break;
    }
  }
  return t;
}

v1::BagView BuildBagView(const std::string& bag_id, const std::vector<v1::LogRecord>& records) {
  v1::BagView b;
  b.set_bag_id(bag_id);
  if (auto receptacle = ParseS9(bag_id)) *b.mutable_receptacle() = std::move(*receptacle);
  bool advised = false;
  UniqueList members(b.mutable_members());
  for (const auto& rec : records) {
    *b.add_history() = ToEntry(rec);
    const v1::BagAdvice* advice = rec.has_reference() ? BagAdviceIn(rec.reference(), bag_id) : nullptr;
    if (advice != nullptr) {
      advised = true;
      *b.mutable_advised() = advice->parcel_ids();
      if (b.direction() == v1::BAG_DIRECTION_UNSPECIFIED) b.set_direction(v1::INBOUND);
      continue;
    }
    if (!rec.has_event()) continue;
    const v1::ScanEvent& e = rec.event();
    using E = v1::ScanEvent;
    switch (e.body_case()) {
      case E::kBagUnloaded:
        b.set_direction(v1::INBOUND);
        b.set_vehicle_id(e.bag_unloaded().vehicle_id());
        if (e.bag_unloaded().has_label_count()) b.set_label_count(e.bag_unloaded().label_count());
        b.set_unloaded(true);
        break;
      case E::kBagOpened: b.set_direction(v1::INBOUND); b.set_opened(true); break;
      case E::kParcelUnbagged:
        b.set_direction(v1::INBOUND);
        members.Add(e.parcel_unbagged().parcel_id());
        break;
      case E::kBagEmptied: b.set_emptied(true); break;
      case E::kBagCreated:
        b.set_direction(v1::OUTBOUND);
        b.set_destination(e.bag_created().destination());
        break;
      case E::kParcelBagged:
        b.set_direction(v1::OUTBOUND);
        members.Add(e.parcel_bagged().parcel_id());
        break;
      case E::kBagClosed:
        b.set_direction(v1::OUTBOUND);
        b.set_closed(true);
        b.set_label_count(e.bag_closed().label_count());
        break;
      case E::kBagLoaded: b.set_load_id(e.bag_loaded().load_id()); break;
      default: break;
    }
  }
  b.set_scanned_count(static_cast<uint32_t>(b.members_size()));
  if (advised) {
    Minus(b.advised(), b.members(), b.mutable_missing());
    Minus(b.members(), b.advised(), b.mutable_foreign());
  }
  return b;
}

v1::VehicleView BuildVehicleView(const std::string& vehicle_id,
                                 const std::vector<v1::LogRecord>& records,
                                 const std::vector<v1::BagView>& bags) {
  v1::VehicleView v;
  v.set_vehicle_id(vehicle_id);
  std::unordered_map<std::string, const v1::BagView*> by_id;
  for (const auto& bag : bags) by_id[bag.bag_id()] = &bag;
  google::protobuf::RepeatedPtrField<std::string> unloaded;
  UniqueList unloaded_once(&unloaded);
  for (const auto& rec : records) {
    *v.add_history() = ToEntry(rec);
    if (const v1::VehicleAdvice* advice = rec.has_reference() ? VehicleAdviceIn(rec.reference()) : nullptr) {
      const auto& a = *advice;
      v.set_advised(true);
      v.set_advised_route_code(a.route_code());
      v.set_advised_seal_id(a.seal_id());
      *v.mutable_advised_bags() = a.bag_ids();
      continue;
    }
    if (!rec.has_event()) continue;
    const v1::ScanEvent& e = rec.event();
    using E = v1::ScanEvent;
    switch (e.body_case()) {
      case E::kVehicleArrived: {
        const auto& a = e.vehicle_arrived();
        v.set_arrived(true);
        v.set_arrived_ms(e.event_time_ms());
        v.set_route_code(a.route_code());
        v.set_seal_id(a.seal_id());
        v.set_seal_intact(a.seal_intact());
        if (a.has_advised_bag_count()) v.set_advised_bag_count(a.advised_bag_count());
        v.set_gross_weight_g(a.gross_weight_g());
        break;
      }
      case E::kBagUnloaded:
        if (e.bag_unloaded().vehicle_id() == vehicle_id)
          unloaded_once.Add(e.bag_unloaded().bag_id());
        break;
      case E::kVehicleUnloaded: v.set_unloaded(true); break;
      default: break;
    }
  }
  for (const auto& id : unloaded) {
    auto it = by_id.find(id);
    if (it != by_id.end()) {
      *v.add_bags() = ToManifest(*it->second, /*with_parcels=*/false);
    } else {
      v.add_bags()->set_bag_id(id);
    }
  }
  if (v.advised_bags_size() > 0) {
    Minus(v.advised_bags(), unloaded, v.mutable_missing_bags());
    Minus(unloaded, v.advised_bags(), v.mutable_unexpected_bags());
  }
  return v;
}

v1::LoadView BuildLoadView(const std::string& load_id, const std::vector<v1::LogRecord>& records,
                           const std::vector<v1::BagView>& bags) {
  v1::LoadView l;
  l.set_load_id(load_id);
  google::protobuf::RepeatedPtrField<std::string> loaded;
  UniqueList loaded_once(&loaded), routed(l.mutable_routed());
  for (const auto& rec : records) {
    if (!rec.has_event()) continue;
    const v1::ScanEvent& e = rec.event();
    using E = v1::ScanEvent;
    switch (e.body_case()) {
      case E::kLoadOpened:
        l.set_opened(true);
        l.set_vehicle_id(e.load_opened().vehicle_id());
        l.set_route_code(e.load_opened().route_code());
        break;
      case E::kBagLoaded: loaded_once.Add(e.bag_loaded().bag_id()); break;
      case E::kLoadDeparted:
        l.set_departed(true);
        l.set_departed_ms(e.event_time_ms());
        l.set_seal_id(e.load_departed().seal_id());
        break;
      case E::kParcelSorted:
        if (rec.decision().load_id() == load_id)
          routed.Add(e.parcel_sorted().parcel_id());
        break;
      default: break;
    }
  }
  std::unordered_map<std::string, const v1::BagView*> by_id;
  for (const auto& bag : bags) by_id[bag.bag_id()] = &bag;
  google::protobuf::RepeatedPtrField<std::string> on_board;
  for (const auto& id : loaded) {
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      l.add_bags()->set_bag_id(id);
      continue;
    }
    *l.add_bags() = ToManifest(*it->second, /*with_parcels=*/true);
    for (const auto& p : it->second->members()) *on_board.Add() = p;
  }
  l.set_parcel_count(static_cast<uint32_t>(on_board.size()));
  Minus(l.routed(), on_board, l.mutable_not_loaded());
  return l;
}

}  // namespace hub::core
