#pragma once

// The hub's domain core: a deterministic state machine over the event log.
//
//   LogRecord (scan event | reference change | case action)
//        |
//        v
//   HubState::Apply(record, &result)
//        |-- result.hub_seq      hub-wide sequence number given to the record
//        |-- result.raised       exception cases raised (ids assigned in order)
//        |-- result.decision     for a sort scan: route/chute/load or divert
//        |-- result.transition   for a case action: the status change
//        |-- result.dispatch     for a departure on a route with a next hub:
//        |                       what the load carried, for that hub
//        `-- result.retired      entities that left the hub (for the archive)
//
// No sockets, threads, clocks or disk: the same sequence of records always
// produces the same results and the same Snapshot() bytes. Entities that
// leave the hub (a departed load with its bags and parcels, an emptied
// inbound bag, an unloaded vehicle) are dropped from memory and handed out in
// result.retired so the store can keep them queryable.
//
// Thread safety: none. A HubState belongs to one thread (the sequencer);
// callers must serialise every call.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/id_map.h"
#include "hub/v1/event.pb.h"
#include "hub/v1/exception.pb.h"
#include "hub/v1/record.pb.h"
#include "hub/v1/reference.pb.h"
#include "hub/v1/session.pb.h"

namespace hub::core {

inline constexpr int64_t kHourMs = 3'600'000;

// Why a command from the API (a reference change or a case action) was
// refused: the caller's error, in the core's terms (the API maps it to a
// status). Scanner events are refused with a v1::RejectCode instead.
enum class Refusal {
  kNone,
  kInvalid,   // malformed: a field missing or out of range
  kNotFound,  // no such case
  kAgedOut,   // the case was removed by retention
  kConflict,  // the case's life cycle forbids it (already acknowledged, resolved)
  // A dispatch advice whose from_hub_seq is not above every one applied
  // from its hub: a re-delivery (or an older advice), so nothing changes.
  // Kept apart from kInvalid and kConflict so that the feed's consumer can
  // take it as done (ack it) and report only invalid advices; the API
  // answers it with 409 Conflict, like kConflict.
  kDuplicate,
};

// What applying one record did. Reused across calls: Apply() clears it first,
// keeping vector capacity.
struct ApplyResult {
  enum class Outcome {
    kApplied,    // changed the state; hub_seq assigned; must be logged
    kDuplicate,  // a re-sent scan (seq <= the scanner's mark); no effect
    kRejected,   // invalid, or a case action the life cycle forbids; no effect
  };
  Outcome outcome = Outcome::kApplied;
  uint64_t hub_seq = 0;
  v1::RejectCode reject_code = v1::REJECT_NONE;
  Refusal refusal = Refusal::kNone;  // for a refused command
  std::string reject_reason;
  std::vector<v1::ExceptionCase> raised;
  bool has_decision = false;
  v1::SortDecision decision;
  // For an applied case action: the case, its status before, and the action.
  struct Transition {
    uint64_t case_id = 0;
    v1::ExceptionStatus from = v1::EXCEPTION_STATUS_UNSPECIFIED;
    v1::CaseAction action;
    // The case after the action: its new status, and who, when and why
    // (acknowledged or resolved). The core keeps only open cases' ids and
    // statuses, so the store reads the case and this changes it.
    void ApplyTo(v1::ExceptionCase* c) const;
  };
  std::optional<Transition> transition;
  // For a LOAD_DEPARTED whose route (LoadOpened.route_code) names a next
  // hub: the advice for that hub (from_hub left empty; the store logs it as
  // LogRecord.dispatch). Of the routing table's entries for the route code
  // that name a next hub, the one with the smallest destination counts.
  std::optional<v1::DispatchAdvice> dispatch;
  std::vector<v1::ArchivedEntity> retired;

  void Clear();
};

class HubState {
 public:
  HubState();
  HubState(const HubState&) = delete;
  HubState& operator=(const HubState&) = delete;

  // Applies one record. For live ingest leave rec.hub_seq() at 0: the next
  // hub sequence number is assigned. When replaying the log, rec.hub_seq()
  // must equal the number that will be assigned; a different one is reported
  // as kRejected with REJECT_BAD_SEQ (the log and the state disagree).
  void Apply(const v1::LogRecord& rec, ApplyResult* result);
  // Shorthands for the three record kinds.
  void ApplyEvent(const v1::ScanEvent& event, ApplyResult* result);
  void ApplyReference(const v1::ReferenceChange& change, ApplyResult* result);
  void ApplyCaseAction(const v1::CaseAction& action, ApplyResult* result);
  // Records and cases aged out: open cases up to through_case_id are gone.
  void ApplyRetention(const v1::Retention& retention, ApplyResult* result);

  uint64_t last_hub_seq() const { return last_hub_seq_; }
  // Hub time: the latest event time seen (ms since the epoch); the clock of
  // the dwell and forget rules.
  int64_t hub_time_ms() const { return hub_time_ms_; }
  // The time rules in force (HubSettings, set by a logged reference change).
  const v1::HubSettings& settings() const { return settings_; }
  // Events stamped later than this (ms since the epoch) are rejected with
  // REJECT_BAD_TIME, which consumes the seq: one scanner with its clock
  // years ahead would otherwise move hub time, and with it the dwell and
  // forget rules and retention, for everyone. 0 (the default, and during
  // recovery): no limit; logged events were within it when applied. The
  // sequencer sets it from the wall clock.
  void set_time_horizon_ms(int64_t ms) { time_horizon_ms_ = ms; }
  // The settings of a hub whose log never changed them: dwell 48 h, forget
  // after 30 days, weight tolerance 50 g / 5 %.
  static v1::HubSettings DefaultSettings();
  // Highest seq handled for `scanner_id` (applied, or rejected with a code
  // that consumes the seq); 0 when never seen. An event at or below it is a
  // re-send.
  uint64_t ScannerMark(const std::string& scanner_id) const;
  // Raises the scanner's mark to at least `seq`. Recovery calls it with the
  // store's durable marks, which also cover rejected events (they consume a
  // seq but are not in the log); never lowers a mark.
  void AdvanceScannerMark(const std::string& scanner_id, uint64_t seq);

  // The complete state, every list sorted by id: equal states give equal
  // bytes. Restore() replaces this state with a snapshot's.
  v1::HubSnapshot Snapshot() const;
  void Restore(const v1::HubSnapshot& snapshot);

  // Highest from_hub_seq of the dispatch advices applied from `from_hub`; 0
  // when none. An advice at or below it is refused (Refusal::kDuplicate).
  uint64_t DispatchMark(const std::string& from_hub) const;

  // Reference data in force, read back for supervisors (GET /v1/routes,
  // /v1/holds, /v1/advices/...). The routing table and the holds come as
  // immutable copies, in no particular order (sort them off this thread:
  // sorting 10,000 routes here took longer than copying them), shared with
  // later callers: the first call after a change builds the copy (about
  // half a microsecond per route or hold, bench/RESULTS.md), later calls
  // until the next change cost a reference count. The copies may be read on any thread
  // and outlive the state. A hold placed through the API carries who placed it
  // and when (HoldEntry.placed_by/placed_at_ms, from its log record); one
  // placed by a scan (HoldPlaced) carries neither.
  std::shared_ptr<const v1::RoutingTable> Routes() const;
  std::shared_ptr<const std::vector<v1::HoldEntry>> Holds() const;
  // The advice in force for one inbound vehicle / bag; nullopt when none
  // (never advised, or forgotten). Bag and parcel ids come sorted, and a bag
  // advice's parcel_weights sorted by parcel id (one per parcel: the first
  // the advice gave).
  std::optional<v1::VehicleAdvice> VehicleAdviceOf(const std::string& vehicle_id) const;
  std::optional<v1::BagAdvice> BagAdviceOf(const std::string& bag_id) const;

  // Live entity counts (for tests, metrics and the bounded-memory check).
  size_t live_parcels() const { return parcels_.size(); }
  size_t live_bags() const { return inbound_bags_.size() + outbound_bags_.size(); }
  size_t live_loads() const { return loads_.size(); }
  size_t live_vehicles() const { return vehicles_.size(); }
  size_t open_cases() const { return open_cases_.size(); }

 private:
  struct Parcel {
    std::string destination, route_code, load_id, inbound_bag, outbound_bag;
    bool sorted = false;
    bool damaged = false;
    bool dwell_flagged = false;  // DWELL_EXCEEDED raised for this stay
    bool weight_flagged = false;  // WEIGHT_MISMATCH raised for this stay
    uint64_t known_weight_g = 0;  // the first weight learned in this stay; 0: none
    v1::WeightSource known_weight_source = v1::WEIGHT_SOURCE_UNSPECIFIED;
    uint64_t last_hub_seq = 0;
    int64_t arrived_ms = 0, last_seen_ms = 0;  // hub time
  };
  struct InboundBag {
    std::string vehicle_id;
    std::optional<uint32_t> label_count;
    bool unloaded = false, opened = false;
    std::vector<std::string> parcels;  // scan order, no repeats
    int64_t last_seen_ms = 0;
  };
  struct OutboundBag {
    std::string destination, load_id;
    bool closed = false;
    uint32_t written_count = 0;
    std::vector<std::string> parcels;  // bagging order, no repeats
    int64_t last_seen_ms = 0;
  };
  struct Load {
    std::string vehicle_id, route_code, seal_id;
    bool opened = false;
    std::vector<std::string> bags;               // load order
    std::unordered_set<std::string> routed;      // sorted here, still in hub
    int64_t last_seen_ms = 0;
  };
  struct Vehicle {
    std::string route_code, seal_id;
    bool arrived = false, seal_intact = true;
    std::optional<uint32_t> advised_bag_count;
    uint64_t gross_weight_g = 0;
    std::vector<std::string> bags;  // seen for this vehicle, scan order
    int64_t last_seen_ms = 0;
  };
  struct Route {
    std::string route_code, chute, load_id, next_hub;
    uint32_t transit_minutes = 0;
  };
  struct VehicleAdvice {
    std::string route_code, seal_id;
    std::vector<std::string> bags;  // sorted
    int64_t received_ms = 0;        // hub time
    int64_t expected_arrival_ms = 0;
    bool overdue_raised = false;    // VEHICLE_OVERDUE raised for this advice
  };
  struct BagAdvice {
    std::vector<std::string> parcels;  // sorted
    std::vector<std::pair<std::string, uint64_t>> weights;  // by parcel id, unique
    std::optional<uint32_t> label_count;  // written at the sending hub
    int64_t received_ms = 0;           // hub time
  };
  struct Hold {
    v1::HoldReason reason = v1::HOLD_REASON_UNSPECIFIED;
    std::string note;
    std::string placed_by;  // the API token's name; empty for a scanned hold
    int64_t placed_at_ms = 0;
  };
  // The event being applied: copied into every case it raises.
  struct Context {
    const v1::ScanEvent* event = nullptr;
    ApplyResult* result = nullptr;
  };

  // Event handlers, one per kind.
  void OnVehicleArrived(const v1::VehicleArrived& e);
  void OnBagUnloaded(const v1::BagUnloaded& e);
  void OnVehicleUnloaded(const v1::VehicleUnloaded& e);
  void OnBagOpened(const v1::BagOpened& e);
  void OnParcelUnbagged(const v1::ParcelUnbagged& e);
  void OnBagEmptied(const v1::BagEmptied& e);
  void OnParcelSorted(const v1::ParcelSorted& e);
  void OnBagCreated(const v1::BagCreated& e);
  void OnParcelBagged(const v1::ParcelBagged& e);
  void OnBagClosed(const v1::BagClosed& e);
  void OnLoadOpened(const v1::LoadOpened& e);
  void OnBagLoaded(const v1::BagLoaded& e);
  void OnLoadDeparted(const v1::LoadDeparted& e);
  void OnHoldPlaced(const std::string& parcel_id, Hold hold);
  // Reference changes that replace one advice; a dispatch advice is its
  // vehicle advice and each of its bag advices.
  void PutVehicleAdvice(const v1::VehicleAdvice& a);
  void PutBagAdvice(const v1::BagAdvice& a);
  void OnHoldReleased(const std::string& parcel_id);
  void OnParcelDamaged(const v1::ParcelDamaged& e);
  // Sort scans that did not yield one parcel id (no-read, invalid id,
  // ambiguous read): a case and a divert, no parcel.
  void OnUnreadSort(const v1::ParcelSorted& e);

  // Helpers.
  v1::ExceptionCase& Raise(v1::ExceptionType type);
  bool RaiseIfHeld(const std::string& parcel_id, const char* where);
  Parcel& TouchParcel(const std::string& parcel_id);
  InboundBag& TouchInboundBag(const std::string& bag_id);
  OutboundBag& TouchOutboundBag(const std::string& bag_id);
  Load& TouchLoad(const std::string& load_id);
  Vehicle& TouchVehicle(const std::string& vehicle_id);
  void AttachBagToVehicle(const std::string& bag_id, const std::string& vehicle_id);
  void Unroute(const std::string& parcel_id, Parcel& p);
  void CheckMissort(const std::string& parcel_id, const Parcel& p,
                    const std::string& bag_id, const OutboundBag& bag);
  void CheckMisload(const std::string& bag_id, const OutboundBag& bag,
                    const std::string& load_id, const Load& load);
  void RetireParcel(const std::string& parcel_id, const std::string& load_id);
  // The route entry that names the next hub of `route_code` (of those that
  // name one, the smallest destination); nullptr when none does.
  const Route* NextHubOf(const std::string& route_code) const;
  // What departing load `load_id` carries, for the next hub (before its
  // bags and parcels are retired).
  v1::DispatchAdvice DispatchOf(const std::string& load_id, const Load& load, const Route& next);
  // DWS: the weight rules of one sort scan (known weight, WEIGHT_MISMATCH).
  void CheckWeight(const std::string& parcel_id, Parcel& p, const v1::ParcelSorted& e);
  // Sets a parcel's known weight unless it already has one (first wins).
  static void LearnWeight(Parcel& p, uint64_t weight_g, v1::WeightSource source);
  // The advised weight of `parcel_id` in `advice`; 0 when it gives none.
  static uint64_t AdvisedWeight(const BagAdvice& advice, const std::string& parcel_id);
  // The time rules, run as hub time moves to `event_time_ms`.
  void AdvanceClock(int64_t event_time_ms);
  void RaiseDwellExceeded();
  void RaiseVehicleOverdue();
  void RebuildOverdueQueue();
  void ForgetIdle();
  void RebuildDwellQueue();
  void RetireOutboundBag(const std::string& bag_id);
  v1::ArchivedEntity& Retired();

  // Conversions to and from the snapshot/archive records.
  static Route RouteOf(const v1::RouteEntry& r);
  static void ToEntry(const std::string& destination, const Route& r, v1::RouteEntry* e);
  static void ToAdvice(const std::string& bag_id, const BagAdvice& b, v1::BagAdvice* a);
  static void ToState(const std::string& id, const Parcel& p, v1::ParcelState* s);
  static void ToState(const std::string& id, const InboundBag& b, v1::BagState* s);
  static void ToState(const std::string& id, const OutboundBag& b, v1::BagState* s);
  static void ToState(const std::string& id, const Load& l, v1::LoadState* s);
  static void ToState(const std::string& id, const Vehicle& v, v1::VehicleState* s);

  uint64_t last_hub_seq_ = 0;
  uint64_t next_case_id_ = 1;
  Context ctx_;

  // Entity tables grow shard by shard (core/id_map.h): a hub of millions of
  // parcels never stops to rehash them all.
  std::unordered_map<std::string, uint64_t> scanners_;
  std::unordered_map<std::string, Route> routes_;
  IdMap<VehicleAdvice> vehicle_advices_;
  IdMap<std::string> advised_vehicle_of_bag_;
  IdMap<BagAdvice> bag_advices_;
  IdMap<Hold> holds_;
  // Dispatch advices applied: the highest from_hub_seq per sending hub.
  std::map<std::string, uint64_t> dispatch_marks_;
  // Read-back copies of routes_ and holds_ (Routes(), Holds()); reset by
  // every change of what they copy.
  mutable std::shared_ptr<const v1::RoutingTable> routes_copy_;
  mutable std::shared_ptr<const std::vector<v1::HoldEntry>> holds_copy_;
  IdMap<Vehicle> vehicles_;
  IdMap<InboundBag> inbound_bags_;
  IdMap<OutboundBag> outbound_bags_;
  IdMap<Parcel> parcels_;
  IdMap<Load> loads_;
  // Cases not yet RESOLVED, by id, with their status (the life cycle needs
  // it; resolved cases live only in the store).
  std::map<uint64_t, v1::ExceptionStatus> open_cases_;
  // Time rules.
  int64_t hub_time_ms_ = 0;
  int64_t time_horizon_ms_ = 0;
  uint64_t aged_out_case_id_ = 0;  // cases up to this id aged out
  v1::HubSettings settings_;
  int64_t last_sweep_hour_ = 0;
  // Parcels by the hub time their stay began (oldest first); entries of
  // parcels that left or were flagged are skipped when they come up.
  std::deque<std::pair<int64_t, std::string>> dwell_queue_;
  // Vehicle advices by expected arrival (earliest first); entries of advices
  // replaced, removed, arrived or raised already are skipped when they come up.
  std::set<std::pair<int64_t, std::string>> overdue_queue_;
};

}  // namespace hub::core
