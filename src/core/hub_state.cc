#include "core/hub_state.h"

#include <algorithm>

#include "core/upu.h"
#include "core/validate.h"
#include "util/utc_time.h"

namespace hub::core {
namespace {

bool SortedContains(const std::vector<std::string>& sorted, const std::string& id) {
  return std::binary_search(sorted.begin(), sorted.end(), id);
}

void AppendOnce(std::vector<std::string>& list, const std::string& id) {
  if (std::find(list.begin(), list.end(), id) == list.end()) list.push_back(id);
}

void Remove(std::vector<std::string>& list, const std::string& id) {
  list.erase(std::remove(list.begin(), list.end(), id), list.end());
}

std::vector<std::string> Sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

// An advice's parcel weights sorted by parcel id, one per parcel (the first
// given), zeros ("not known") left out.
std::vector<std::pair<std::string, uint64_t>> SortedWeights(
    const google::protobuf::RepeatedPtrField<v1::ParcelWeight>& weights) {
  std::vector<std::pair<std::string, uint64_t>> out;
  out.reserve(weights.size());
  for (const auto& w : weights)
    if (w.weight_g() > 0) out.emplace_back(w.parcel_id(), w.weight_g());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const auto& a, const auto& b) { return a.first == b.first; }),
            out.end());
  return out;
}

void AddWeights(const std::vector<std::pair<std::string, uint64_t>>& weights, v1::BagAdvice* a) {
  for (const auto& [pid, grams] : weights) {
    auto* w = a->add_parcel_weights();
    w->set_parcel_id(pid);
    w->set_weight_g(grams);
  }
}

// "1.520 kg".
std::string Kilograms(uint64_t grams) {
  std::string frac = std::to_string(grams % 1000);
  return std::to_string(grams / 1000) + "." + std::string(3 - frac.size(), '0') + frac + " kg";
}

const char* WeightSourceWord(v1::WeightSource source) {
  switch (source) {
    case v1::WEIGHT_FROM_ADVICE: return "advice";
    case v1::WEIGHT_FROM_SCAN: return "scan";
    case v1::WEIGHT_FROM_READING: return "reading";
    default: return "unknown";
  }
}

// |measured - known| > max(tolerance_g, known * tolerance_percent / 100),
// exactly: for a whole number of grams d, d > x holds when d > floor(x), and
// floor(known * percent / 100) is computed without overflow (the percent is
// at most 100, ValidateReference).
bool OutsideTolerance(uint64_t known, uint64_t measured, const v1::HubSettings& s) {
  const uint64_t diff = known > measured ? known - measured : measured - known;
  const uint64_t percent = std::min<uint64_t>(s.weight_tolerance_percent(), 100);
  const uint64_t by_percent = known / 100 * percent + known % 100 * percent / 100;
  return diff > std::max<uint64_t>(s.weight_tolerance_g(), by_percent);
}

// "RR473124828GB, X1" (the codes of a read, as sent).
std::string JoinCodes(const google::protobuf::RepeatedPtrField<std::string>& codes) {
  std::string s;
  for (const auto& c : codes) s += (s.empty() ? "" : ", ") + c;
  return s;
}

// Fills missing = expected - seen and unexpected = seen - expected; `expected`
// must be sorted.
void Difference(const std::vector<std::string>& expected,
                const std::vector<std::string>& seen_in_order,
                v1::ExceptionCase* c) {
  std::vector<std::string> seen = Sorted(seen_in_order);
  std::set_difference(expected.begin(), expected.end(), seen.begin(), seen.end(),
                      google::protobuf::RepeatedFieldBackInserter(c->mutable_missing_ids()));
  std::set_difference(seen.begin(), seen.end(), expected.begin(), expected.end(),
                      google::protobuf::RepeatedFieldBackInserter(c->mutable_unexpected_ids()));
}

template <typename Map>
std::vector<typename Map::const_pointer> SortedEntries(const Map& map) {
  std::vector<typename Map::const_pointer> out;
  out.reserve(map.size());
  for (const auto& kv : map) out.push_back(&kv);
  std::sort(out.begin(), out.end(), [](auto a, auto b) { return a->first < b->first; });
  return out;
}

}  // namespace

void ApplyResult::Clear() {
  outcome = Outcome::kApplied;
  hub_seq = 0;
  reject_code = v1::REJECT_NONE;
  refusal = Refusal::kNone;
  reject_reason.clear();
  raised.clear();
  has_decision = false;
  decision.Clear();
  transition.reset();
  dispatch.reset();
  retired.clear();
}

void ApplyResult::Transition::ApplyTo(v1::ExceptionCase* c) const {
  c->set_status(action.to());
  *(action.to() == v1::RESOLVED ? c->mutable_resolved() : c->mutable_acknowledged()) = action.transition();
}

HubState::HubState() : settings_(DefaultSettings()) {}

v1::HubSettings HubState::DefaultSettings() {
  // Part of the log's meaning: a log replays with the settings in force
  // when it was written, so these values never change (a hub that wants
  // others logs a settings change).
  v1::HubSettings s;
  s.set_dwell_hours(48);
  s.set_forget_after_days(30);
  s.set_weight_tolerance_g(50);
  s.set_weight_tolerance_percent(5);
  s.set_overdue_grace_minutes(30);
  return s;
}

uint64_t HubState::ScannerMark(const std::string& scanner_id) const {
  auto it = scanners_.find(scanner_id);
  return it == scanners_.end() ? 0 : it->second;
}

void HubState::AdvanceScannerMark(const std::string& scanner_id, uint64_t seq) {
  uint64_t& mark = scanners_[scanner_id];
  mark = std::max(mark, seq);
}

uint64_t HubState::DispatchMark(const std::string& from_hub) const {
  auto it = dispatch_marks_.find(from_hub);
  return it == dispatch_marks_.end() ? 0 : it->second;
}

// ---------------------------------------------------------------------------
// Entry points

void HubState::Apply(const v1::LogRecord& rec, ApplyResult* result) {
  switch (rec.body_case()) {
    case v1::LogRecord::kEvent: ApplyEvent(rec.event(), result); break;
    case v1::LogRecord::kReference: ApplyReference(rec.reference(), result); break;
    case v1::LogRecord::kCaseAction: ApplyCaseAction(rec.case_action(), result); break;
    case v1::LogRecord::kRetention: ApplyRetention(rec.retention(), result); break;
    case v1::LogRecord::BODY_NOT_SET:
      result->Clear();
      result->outcome = ApplyResult::Outcome::kRejected;
      result->reject_code = v1::REJECT_UNKNOWN_KIND;
      result->reject_reason = "log record has no body";
      return;
  }
  if (rec.hub_seq() != 0 && result->outcome == ApplyResult::Outcome::kApplied &&
      result->hub_seq != rec.hub_seq()) {
    // The log and the state disagree; surface it rather than hide it.
    result->outcome = ApplyResult::Outcome::kRejected;
    result->reject_code = v1::REJECT_BAD_SEQ;
    result->reject_reason = "log record hub_seq " + std::to_string(rec.hub_seq()) +
                            " replayed as " + std::to_string(result->hub_seq);
  }
}

void HubState::ApplyEvent(const v1::ScanEvent& e, ApplyResult* result) {
  result->Clear();
  result->reject_code = ValidateEvent(e, &result->reject_reason);
  if (result->reject_code == v1::REJECT_NONE && time_horizon_ms_ > 0 &&
      e.event_time_ms() > time_horizon_ms_) {
    result->reject_code = v1::REJECT_BAD_TIME;
    result->reject_reason = "event_time_ms " + std::to_string(e.event_time_ms()) +
                            " is ahead of hubd's clock by more than the allowed skew: "
                            "set the scanner's clock";
  }
  if (result->reject_code != v1::REJECT_NONE) {
    result->outcome = ApplyResult::Outcome::kRejected;
    // A content reject consumes the seq (session.proto): the scanner moves
    // on, and its resume point must too. Not logged; the store keeps the
    // mark (see AdvanceScannerMark).
    if (ConsumesSeq(result->reject_code) && ValidScannerId(e.scanner_id()))
      AdvanceScannerMark(e.scanner_id(), e.seq());
    return;
  }
  uint64_t& mark = scanners_[e.scanner_id()];
  if (e.seq() <= mark) {
    result->outcome = ApplyResult::Outcome::kDuplicate;
    return;
  }
  mark = e.seq();
  result->hub_seq = ++last_hub_seq_;
  ctx_ = Context{&e, result};
  AdvanceClock(e.event_time_ms());

  using E = v1::ScanEvent;
  switch (e.body_case()) {
    case E::kVehicleArrived: OnVehicleArrived(e.vehicle_arrived()); break;
    case E::kBagUnloaded: OnBagUnloaded(e.bag_unloaded()); break;
    case E::kVehicleUnloaded: OnVehicleUnloaded(e.vehicle_unloaded()); break;
    case E::kBagOpened: OnBagOpened(e.bag_opened()); break;
    case E::kParcelUnbagged: OnParcelUnbagged(e.parcel_unbagged()); break;
    case E::kBagEmptied: OnBagEmptied(e.bag_emptied()); break;
    case E::kParcelSorted: OnParcelSorted(e.parcel_sorted()); break;
    case E::kBagCreated: OnBagCreated(e.bag_created()); break;
    case E::kParcelBagged: OnParcelBagged(e.parcel_bagged()); break;
    case E::kBagClosed: OnBagClosed(e.bag_closed()); break;
    case E::kLoadOpened: OnLoadOpened(e.load_opened()); break;
    case E::kBagLoaded: OnBagLoaded(e.bag_loaded()); break;
    case E::kLoadDeparted: OnLoadDeparted(e.load_departed()); break;
    case E::kHoldPlaced: {
      const auto& h = e.hold_placed();
      OnHoldPlaced(h.parcel_id(), Hold{h.reason(), h.note(), "", 0});  // scanned: no token's
      break;
    }
    case E::kHoldReleased: OnHoldReleased(e.hold_released().parcel_id()); break;
    case E::kParcelDamaged: OnParcelDamaged(e.parcel_damaged()); break;
    case E::BODY_NOT_SET: break;  // rejected by ValidateEvent
  }
  ctx_ = Context{};
}

void HubState::ApplyReference(const v1::ReferenceChange& change, ApplyResult* result) {
  result->Clear();
  result->reject_code = ValidateReference(change, &result->reject_reason);
  if (result->reject_code != v1::REJECT_NONE) {
    result->outcome = ApplyResult::Outcome::kRejected;
    result->refusal = Refusal::kInvalid;
    return;
  }
  using R = v1::ReferenceChange;
  if (change.body_case() == R::kDispatchAdvice) {
    // Once per advice: a re-delivered (or older) one changes nothing.
    const v1::DispatchAdvice& d = change.dispatch_advice();
    const uint64_t mark = DispatchMark(d.from_hub());
    if (d.from_hub_seq() <= mark) {
      result->outcome = ApplyResult::Outcome::kRejected;
      result->refusal = Refusal::kDuplicate;
      const std::string advice = "dispatch advice " + std::to_string(d.from_hub_seq()) +
                                 " from hub " + d.from_hub();
      result->reject_reason =
          d.from_hub_seq() == mark
              ? advice + " was applied already"
              : advice + " is older than advice " + std::to_string(mark) + ", applied already";
      return;
    }
  }
  result->hub_seq = ++last_hub_seq_;
  auto put_route = [this](const v1::RouteEntry& r) {
    routes_[r.destination()] = RouteOf(r);
    routes_copy_.reset();
  };
  switch (change.body_case()) {
    case R::kReplaceRoutes:
      routes_.clear();
      routes_copy_.reset();
      for (const auto& r : change.replace_routes().entries()) put_route(r);
      break;
    case R::kUpsertRoute: put_route(change.upsert_route()); break;
    case R::kVehicleAdvice: PutVehicleAdvice(change.vehicle_advice()); break;
    case R::kBagAdvice: PutBagAdvice(change.bag_advice()); break;
    case R::kDispatchAdvice: {
      // One record: the vehicle advice and every bag advice, and the mark.
      const v1::DispatchAdvice& d = change.dispatch_advice();
      PutVehicleAdvice(d.vehicle());
      for (const auto& b : d.bags()) PutBagAdvice(b);
      dispatch_marks_[d.from_hub()] = d.from_hub_seq();
      break;
    }
    case R::kSettings:
      settings_ = change.settings();
      RebuildDwellQueue();
      break;
    case R::kAddHold: {
      const auto& h = change.add_hold();
      OnHoldPlaced(h.parcel_id(), Hold{h.reason(), h.note(), h.placed_by(), h.placed_at_ms()});
      break;
    }
    case R::kRemoveHold: OnHoldReleased(change.remove_hold()); break;
    case R::BODY_NOT_SET: break;  // rejected by ValidateReference
  }
}

void HubState::PutVehicleAdvice(const v1::VehicleAdvice& a) {
  auto& advice = vehicle_advices_[a.vehicle_id()];
  for (const auto& b : advice.bags) advised_vehicle_of_bag_.erase(b);
  advice = VehicleAdvice{a.route_code(), a.seal_id(),
                         Sorted({a.bag_ids().begin(), a.bag_ids().end()}), hub_time_ms_,
                         a.expected_arrival_ms(), false};
  if (a.expected_arrival_ms() > 0) overdue_queue_.emplace(a.expected_arrival_ms(), a.vehicle_id());
  for (const auto& b : advice.bags) advised_vehicle_of_bag_[b] = a.vehicle_id();
}

void HubState::PutBagAdvice(const v1::BagAdvice& a) {
  BagAdvice& advice = bag_advices_[a.bag_id()] =
      BagAdvice{Sorted({a.parcel_ids().begin(), a.parcel_ids().end()}),
                SortedWeights(a.parcel_weights()),
                a.has_label_count() ? std::optional<uint32_t>(a.label_count()) : std::nullopt,
                hub_time_ms_};
  // A parcel already in the hub learns its weight now (the first weight
  // known in its stay wins); the others when they come out of the bag.
  for (const auto& [pid, grams] : advice.weights) {
    auto p = parcels_.find(pid);
    if (p != parcels_.end()) LearnWeight(p->second, grams, v1::WEIGHT_FROM_ADVICE);
  }
}

void HubState::ApplyRetention(const v1::Retention& r, ApplyResult* result) {
  result->Clear();
  if (r.through_hub_seq() > last_hub_seq_ || r.through_case_id() >= next_case_id_) {
    result->outcome = ApplyResult::Outcome::kRejected;
    result->reject_code = v1::REJECT_BAD_SEQ;
    result->reject_reason = "retention through hub_seq " + std::to_string(r.through_hub_seq()) +
                            " / case " + std::to_string(r.through_case_id()) + " is in the future";
    return;
  }
  result->hub_seq = ++last_hub_seq_;
  // Open cases that aged out go with their log records: nobody can act on
  // a case the hub no longer explains.
  open_cases_.erase(open_cases_.begin(), open_cases_.upper_bound(r.through_case_id()));
  aged_out_case_id_ = std::max(aged_out_case_id_, r.through_case_id());
}

void HubState::ApplyCaseAction(const v1::CaseAction& action, ApplyResult* result) {
  result->Clear();
  auto reject = [result](Refusal refusal, std::string reason) {
    result->outcome = ApplyResult::Outcome::kRejected;
    result->refusal = refusal;
    result->reject_reason = std::move(reason);
  };
  if (!ValidateCaseAction(action, &result->reject_reason)) {
    return reject(Refusal::kInvalid, result->reject_reason);
  }
  const uint64_t id = action.case_id();
  auto it = open_cases_.find(id);
  if (it == open_cases_.end()) {
    if (id >= next_case_id_) return reject(Refusal::kNotFound, "no case " + std::to_string(id));
    if (id <= aged_out_case_id_)
      return reject(Refusal::kAgedOut, "case " + std::to_string(id) + " has aged out (retention)");
    return reject(Refusal::kConflict, "case " + std::to_string(id) + " is already RESOLVED");
  }
  if (action.to() == v1::ACKNOWLEDGED && it->second != v1::OPEN) {
    return reject(Refusal::kConflict, "case " + std::to_string(id) + " is already ACKNOWLEDGED");
  }
  result->hub_seq = ++last_hub_seq_;
  result->transition = ApplyResult::Transition{id, it->second, action};
  if (action.to() == v1::RESOLVED) {
    open_cases_.erase(it);
  } else {
    it->second = action.to();
  }
}

// ---------------------------------------------------------------------------
// Helpers

v1::ExceptionCase& HubState::Raise(v1::ExceptionType type) {
  const v1::ScanEvent& e = *ctx_.event;
  v1::ExceptionCase& c = ctx_.result->raised.emplace_back();
  c.set_id(next_case_id_++);
  c.set_type(type);
  c.set_status(v1::OPEN);
  c.set_hub_seq(last_hub_seq_);
  c.set_event_time_ms(e.event_time_ms());
  c.set_scanner_id(e.scanner_id());
  c.set_station(e.station());
  open_cases_.emplace(c.id(), v1::OPEN);
  return c;
}

bool HubState::RaiseIfHeld(const std::string& parcel_id, const char* where) {
  auto it = holds_.find(parcel_id);
  if (it == holds_.end()) return false;
  auto& c = Raise(v1::HELD_PARCEL);
  c.set_parcel_id(parcel_id);
  c.set_detail(std::string("held (") + v1::HoldReason_Name(it->second.reason) + ") parcel " +
               where + (it->second.note.empty() ? "" : ": " + it->second.note));
  return true;
}

HubState::Parcel& HubState::TouchParcel(const std::string& parcel_id) {
  auto [it, created] = parcels_.try_emplace(parcel_id);
  Parcel& p = it->second;
  if (created) {  // a new stay in the hub
    p.arrived_ms = hub_time_ms_;
    if (settings_.dwell_hours() > 0) dwell_queue_.emplace_back(hub_time_ms_, parcel_id);
  }
  p.last_hub_seq = last_hub_seq_;
  p.last_seen_ms = hub_time_ms_;
  return p;
}

HubState::InboundBag& HubState::TouchInboundBag(const std::string& bag_id) {
  auto [it, created] = inbound_bags_.try_emplace(bag_id);
  it->second.last_seen_ms = hub_time_ms_;
  if (created) {
    // First seen without its unload scan: a bag the sending hub advised on a
    // vehicle counts as present on that vehicle, so the unload reconciliation
    // does not report it missing.
    auto adv = advised_vehicle_of_bag_.find(bag_id);
    if (adv != advised_vehicle_of_bag_.end()) {
      it->second.vehicle_id = adv->second;
      AttachBagToVehicle(bag_id, adv->second);
    }
  }
  return it->second;
}

HubState::OutboundBag& HubState::TouchOutboundBag(const std::string& bag_id) {
  OutboundBag& b = outbound_bags_[bag_id];
  b.last_seen_ms = hub_time_ms_;
  return b;
}

HubState::Load& HubState::TouchLoad(const std::string& load_id) {
  Load& l = loads_[load_id];
  l.last_seen_ms = hub_time_ms_;
  return l;
}

HubState::Vehicle& HubState::TouchVehicle(const std::string& vehicle_id) {
  Vehicle& v = vehicles_[vehicle_id];
  v.last_seen_ms = hub_time_ms_;
  return v;
}

void HubState::AttachBagToVehicle(const std::string& bag_id, const std::string& vehicle_id) {
  AppendOnce(TouchVehicle(vehicle_id).bags, bag_id);
}

void HubState::Unroute(const std::string& parcel_id, Parcel& p) {
  if (p.load_id.empty()) return;
  auto it = loads_.find(p.load_id);
  if (it != loads_.end()) it->second.routed.erase(parcel_id);
  p.load_id.clear();
}

void HubState::CheckMissort(const std::string& parcel_id, const Parcel& p,
                            const std::string& bag_id, const OutboundBag& bag) {
  if (!p.sorted || p.route_code.empty() || bag.destination.empty() ||
      p.route_code == bag.destination)
    return;
  auto& c = Raise(v1::MISSORT);
  c.set_parcel_id(parcel_id);
  c.set_bag_id(bag_id);
  c.set_load_id(p.load_id);
  c.set_detail("parcel routed to " + p.route_code + ", bag is for " + bag.destination);
}

void HubState::CheckMisload(const std::string& bag_id, const OutboundBag& bag,
                            const std::string& load_id, const Load& load) {
  if (bag.destination.empty() || load.route_code.empty() ||
      bag.destination == load.route_code)
    return;
  auto& c = Raise(v1::MISLOAD);
  c.set_bag_id(bag_id);
  c.set_load_id(load_id);
  c.set_vehicle_id(load.vehicle_id);
  c.set_detail("bag is for " + bag.destination + ", load serves " + load.route_code);
}

// ---------------------------------------------------------------------------
// Time rules: hub time only moves forward, with the events' own times, so a
// replay of the log raises and forgets exactly the same.

void HubState::AdvanceClock(int64_t event_time_ms) {
  if (event_time_ms <= hub_time_ms_) {
    // Hub time never goes back.
  } else if (hub_time_ms_ == 0) {
    // The first scan: advices logged before it date from now, and no sweep
    // is due yet.
    hub_time_ms_ = event_time_ms;
    for (auto& [id, a] : vehicle_advices_) a.received_ms = hub_time_ms_;
    for (auto& [id, a] : bag_advices_) a.received_ms = hub_time_ms_;
    last_sweep_hour_ = hub_time_ms_ / kHourMs;
  } else {
    hub_time_ms_ = event_time_ms;
  }
  if (settings_.dwell_hours() > 0) RaiseDwellExceeded();
  RaiseVehicleOverdue();
  const int64_t hour = hub_time_ms_ / kHourMs;
  if (settings_.forget_after_days() > 0 && hour > last_sweep_hour_) {
    last_sweep_hour_ = hour;
    ForgetIdle();
  }
}

void HubState::RaiseDwellExceeded() {
  const int64_t limit = int64_t{settings_.dwell_hours()} * kHourMs;
  std::vector<std::pair<int64_t, std::string>> due;
  while (!dwell_queue_.empty() && dwell_queue_.front().first + limit <= hub_time_ms_) {
    auto entry = std::move(dwell_queue_.front());
    dwell_queue_.pop_front();
    auto it = parcels_.find(entry.second);
    if (it == parcels_.end() || it->second.arrived_ms != entry.first || it->second.dwell_flagged)
      continue;  // left, came back later, or flagged already
    it->second.dwell_flagged = true;
    due.push_back(std::move(entry));
  }
  // One order whatever order the queue held them in (a restored queue is
  // sorted by id within a millisecond), so case ids replay the same.
  std::sort(due.begin(), due.end());
  for (const auto& [arrived, pid] : due) {
    const Parcel& p = parcels_.at(pid);
    auto& c = Raise(v1::DWELL_EXCEEDED);
    c.clear_scanner_id();
    c.clear_station();
    c.set_event_time_ms(hub_time_ms_);
    c.set_parcel_id(pid);
    c.set_load_id(p.load_id);
    c.set_bag_id(!p.outbound_bag.empty() ? p.outbound_bag : p.inbound_bag);
    c.set_detail("in the hub since " + util::UtcIso(arrived) + ", over the dwell limit of " +
                 std::to_string(settings_.dwell_hours()) + " h; last scanned " +
                 util::UtcIso(p.last_seen_ms));
  }
}

void HubState::RaiseVehicleOverdue() {
  const int64_t grace = int64_t{settings_.overdue_grace_minutes()} * 60'000;
  while (!overdue_queue_.empty() && overdue_queue_.begin()->first + grace <= hub_time_ms_) {
    const auto [expected, vid] = *overdue_queue_.begin();
    overdue_queue_.erase(overdue_queue_.begin());
    auto a = vehicle_advices_.find(vid);
    if (a == vehicle_advices_.end() || a->second.expected_arrival_ms != expected || a->second.overdue_raised)
      continue;  // unloaded, forgotten, advised anew, or raised already
    // Here: its arrival was scanned, or a bag came off it (a missed dock scan).
    auto v = vehicles_.find(vid);
    if (v != vehicles_.end() && (v->second.arrived || !v->second.bags.empty())) continue;
    a->second.overdue_raised = true;
    auto& c = Raise(v1::VEHICLE_OVERDUE);
    c.clear_scanner_id();
    c.clear_station();
    c.set_event_time_ms(hub_time_ms_);
    c.set_vehicle_id(vid);
    c.set_detail("advised to arrive by " + util::UtcIso(expected) + " (route " +
                 (a->second.route_code.empty() ? "-" : a->second.route_code) + ", seal " +
                 (a->second.seal_id.empty() ? "-" : a->second.seal_id) + ", " +
                 std::to_string(a->second.bags.size()) + " bags), not arrived " +
                 std::to_string(settings_.overdue_grace_minutes()) + " min later");
  }
}

// After a restore: every advice still waiting for its vehicle.
void HubState::RebuildOverdueQueue() {
  overdue_queue_.clear();
  for (const auto& [vid, a] : vehicle_advices_)
    if (a.expected_arrival_ms > 0 && !a.overdue_raised) overdue_queue_.emplace(a.expected_arrival_ms, vid);
}

void HubState::ForgetIdle() {
  const int64_t cutoff = hub_time_ms_ - int64_t{settings_.forget_after_days()} * 24 * kHourMs;
  // Only the shards whose floor the cutoff has passed are looked through
  // (IdMap::Older): every time below is set to hub time, which never goes
  // back, and Restore() clears the tables. Sorted, so the retired rows come
  // out in the same order whatever the tables' layout.
  auto idle = [&](auto& map, auto time) {
    auto ids = map.Older(cutoff, hub_time_ms_, time);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  auto seen = [](const auto& x) { return x.last_seen_ms; };
  for (const auto& id : idle(parcels_, seen)) {
    Parcel& p = parcels_.at(id);
    Unroute(id, p);
    v1::ArchivedEntity& a = Retired();
    a.set_forgotten(true);
    ToState(id, p, a.mutable_parcel());
    parcels_.erase(id);
  }
  auto forget = [&](auto& map, auto state_of) {
    for (const auto& id : idle(map, seen)) {
      v1::ArchivedEntity& a = Retired();
      a.set_forgotten(true);
      ToState(id, map.at(id), state_of(a));
      map.erase(id);
    }
  };
  forget(inbound_bags_, [](v1::ArchivedEntity& a) { return a.mutable_bag(); });
  forget(outbound_bags_, [](v1::ArchivedEntity& a) { return a.mutable_bag(); });
  forget(loads_, [](v1::ArchivedEntity& a) { return a.mutable_load(); });
  forget(vehicles_, [](v1::ArchivedEntity& a) { return a.mutable_vehicle(); });
  auto received = [](const auto& x) { return x.received_ms; };
  for (const auto& id : idle(vehicle_advices_, received)) {
    for (const auto& b : vehicle_advices_.at(id).bags) {
      auto r = advised_vehicle_of_bag_.find(b);
      if (r != advised_vehicle_of_bag_.end() && r->second == id) advised_vehicle_of_bag_.erase(r);
    }
    vehicle_advices_.erase(id);
  }
  for (const auto& id : idle(bag_advices_, received)) bag_advices_.erase(id);
}

v1::ArchivedEntity& HubState::Retired() {
  v1::ArchivedEntity& a = ctx_.result->retired.emplace_back();
  a.set_retired_at_hub_seq(last_hub_seq_);
  return a;
}

void HubState::RetireParcel(const std::string& parcel_id, const std::string& load_id) {
  auto it = parcels_.find(parcel_id);
  if (it == parcels_.end()) return;
  Unroute(parcel_id, it->second);
  it->second.load_id = load_id;  // the load it actually left on
  ToState(parcel_id, it->second, Retired().mutable_parcel());
  parcels_.erase(it);
}

void HubState::RetireOutboundBag(const std::string& bag_id) {
  auto it = outbound_bags_.find(bag_id);
  if (it == outbound_bags_.end()) return;
  for (const auto& pid : it->second.parcels) {
    auto p = parcels_.find(pid);
    // A parcel later bagged elsewhere (a duplicate label) stays live there.
    if (p != parcels_.end() && p->second.outbound_bag == bag_id)
      RetireParcel(pid, it->second.load_id);
  }
  ToState(bag_id, it->second, Retired().mutable_bag());
  outbound_bags_.erase(it);
}

// ---------------------------------------------------------------------------
// Inbound: vehicles, unloading, unbagging

void HubState::OnVehicleArrived(const v1::VehicleArrived& e) {
  Vehicle& v = TouchVehicle(e.vehicle_id());
  v.arrived = true;
  v.route_code = e.route_code();
  v.seal_id = e.seal_id();
  v.seal_intact = e.seal_intact();
  v.gross_weight_g = e.gross_weight_g();
  if (e.has_advised_bag_count()) v.advised_bag_count = e.advised_bag_count();
  if (!e.seal_intact()) {
    auto& c = Raise(v1::SEAL_BROKEN);
    c.set_vehicle_id(e.vehicle_id());
    c.set_detail("seal " + e.seal_id() + " not intact");
  }
  auto adv = vehicle_advices_.find(e.vehicle_id());
  if (adv != vehicle_advices_.end() && !adv->second.seal_id.empty() &&
      adv->second.seal_id != e.seal_id()) {
    auto& c = Raise(v1::SEAL_MISMATCH);
    c.set_vehicle_id(e.vehicle_id());
    c.set_detail("advised seal " + adv->second.seal_id + ", scanned " + e.seal_id());
  }
}

void HubState::OnBagUnloaded(const v1::BagUnloaded& e) {
  InboundBag& b = TouchInboundBag(e.bag_id());
  if (b.vehicle_id != e.vehicle_id()) {
    // The scan names the vehicle the bag really came off.
    if (!b.vehicle_id.empty()) {
      auto old = vehicles_.find(b.vehicle_id);
      if (old != vehicles_.end()) Remove(old->second.bags, e.bag_id());
    }
    b.vehicle_id = e.vehicle_id();
  }
  b.unloaded = true;
  if (e.has_label_count()) b.label_count = e.label_count();
  AttachBagToVehicle(e.bag_id(), e.vehicle_id());
}

void HubState::OnVehicleUnloaded(const v1::VehicleUnloaded& e) {
  const std::string& vid = e.vehicle_id();
  Vehicle& v = TouchVehicle(vid);
  auto adv = vehicle_advices_.find(vid);
  const bool advised_ids = adv != vehicle_advices_.end() && !adv->second.bags.empty();
  std::optional<uint32_t> expected = v.advised_bag_count;
  if (advised_ids) expected = static_cast<uint32_t>(adv->second.bags.size());
  const auto actual = static_cast<uint32_t>(v.bags.size());

  if (expected) {
    v1::ExceptionCase diff;
    if (advised_ids) Difference(adv->second.bags, v.bags, &diff);
    const bool missing = advised_ids ? diff.missing_ids_size() > 0 : actual < *expected;
    const bool extra = advised_ids ? diff.unexpected_ids_size() > 0 : actual > *expected;
    auto fill = [&](v1::ExceptionType type) {
      auto& c = Raise(type);
      c.set_vehicle_id(vid);
      c.set_expected_count(*expected);
      c.set_actual_count(actual);
      if (type == v1::BAGS_MISSING) *c.mutable_missing_ids() = diff.missing_ids();
      if (type == v1::BAGS_EXTRA) *c.mutable_unexpected_ids() = diff.unexpected_ids();
    };
    if (missing) fill(v1::BAGS_MISSING);
    if (extra) fill(v1::BAGS_EXTRA);
  }
  // The vehicle's inbound life is over.
  ToState(vid, v, Retired().mutable_vehicle());
  if (adv != vehicle_advices_.end()) {
    for (const auto& b : adv->second.bags) {
      auto r = advised_vehicle_of_bag_.find(b);
      if (r != advised_vehicle_of_bag_.end() && r->second == vid) advised_vehicle_of_bag_.erase(r);
    }
    vehicle_advices_.erase(adv);
  }
  vehicles_.erase(vid);
}

void HubState::OnBagOpened(const v1::BagOpened& e) {
  TouchInboundBag(e.bag_id()).opened = true;
}

void HubState::OnParcelUnbagged(const v1::ParcelUnbagged& e) {
  const std::string& pid = e.parcel_id();
  InboundBag& b = TouchInboundBag(e.bag_id());
  AppendOnce(b.parcels, pid);
  auto adv = bag_advices_.find(e.bag_id());
  if (adv != bag_advices_.end() && !SortedContains(adv->second.parcels, pid)) {
    auto& c = Raise(v1::MISBAGGED);
    c.set_parcel_id(pid);
    c.set_bag_id(e.bag_id());
    c.set_vehicle_id(b.vehicle_id);
    c.set_detail("parcel not on the advice of bag " + e.bag_id());
  }
  Parcel& p = TouchParcel(pid);
  if (adv != bag_advices_.end())
    LearnWeight(p, AdvisedWeight(adv->second, pid), v1::WEIGHT_FROM_ADVICE);
  if (!p.inbound_bag.empty() && p.inbound_bag != e.bag_id()) {
    auto& c = Raise(v1::DUPLICATE_PARCEL);
    c.set_parcel_id(pid);
    c.set_bag_id(e.bag_id());
    c.set_detail("already unbagged from bag " + p.inbound_bag);
  }
  p.inbound_bag = e.bag_id();
  RaiseIfHeld(pid, "unbagged");
}

void HubState::OnBagEmptied(const v1::BagEmptied& e) {
  const std::string& bid = e.bag_id();
  InboundBag& b = TouchInboundBag(bid);
  auto adv = bag_advices_.find(bid);
  // The label read at unloading, else the one written at the sending hub,
  // else the parcels advised.
  std::optional<uint32_t> expected = b.label_count;
  if (!expected && adv != bag_advices_.end())
    expected = adv->second.label_count.value_or(static_cast<uint32_t>(adv->second.parcels.size()));
  const auto actual = static_cast<uint32_t>(b.parcels.size());
  if (expected && actual != *expected) {
    auto& c = Raise(actual < *expected ? v1::BAG_SHORT : v1::BAG_OVER);
    c.set_bag_id(bid);
    c.set_vehicle_id(b.vehicle_id);
    c.set_expected_count(*expected);
    c.set_actual_count(actual);
    if (adv != bag_advices_.end()) Difference(adv->second.parcels, b.parcels, &c);
  }
  v1::ArchivedEntity& a = Retired();
  ToState(bid, b, a.mutable_bag());
  a.mutable_bag()->set_emptied(true);
  if (adv != bag_advices_.end()) bag_advices_.erase(adv);
  inbound_bags_.erase(bid);
}

// ---------------------------------------------------------------------------
// Sort

void HubState::OnParcelSorted(const v1::ParcelSorted& e) {
  const std::string& pid = e.parcel_id();
  v1::SortDecision& d = ctx_.result->decision;
  ctx_.result->has_decision = true;
  d.set_seq(ctx_.event->seq());
  d.set_parcel_id(pid);
  if (pid.empty()) return OnUnreadSort(e);
  Parcel& p = TouchParcel(pid);
  CheckWeight(pid, p, e);
  if (RaiseIfHeld(pid, "on the sorter")) {
    d.set_divert(v1::DIVERT_HELD);
    return;
  }
  auto route = routes_.find(e.destination());
  if (e.destination().empty() || route == routes_.end()) {
    d.set_divert(v1::DIVERT_NO_ROUTE);
    auto& c = Raise(v1::NO_ROUTE);
    c.set_parcel_id(pid);
    c.set_detail(e.destination().empty() ? "destination unreadable"
                                         : "no route for destination " + e.destination());
    Unroute(pid, p);
    p.destination = e.destination();
    p.route_code.clear();
    p.sorted = false;
    return;
  }
  const Route& r = route->second;
  d.set_route_code(r.route_code);
  d.set_chute(r.chute);
  d.set_load_id(r.load_id);
  if (p.load_id != r.load_id) {
    Unroute(pid, p);
    if (!r.load_id.empty()) TouchLoad(r.load_id).routed.insert(pid);
  }
  p.destination = e.destination();
  p.route_code = r.route_code;
  p.load_id = r.load_id;
  p.sorted = true;
  // Bagged before its sort scan arrived: check the bag now.
  if (!p.outbound_bag.empty()) {
    auto bag = outbound_bags_.find(p.outbound_bag);
    if (bag != outbound_bags_.end()) CheckMissort(pid, p, bag->first, bag->second);
  }
}

void HubState::OnUnreadSort(const v1::ParcelSorted& e) {
  ctx_.result->decision.set_divert(v1::DIVERT_NO_READ);
  const std::string destination =
      "destination read: " + (e.destination().empty() ? "none" : e.destination());
  if (e.read() == v1::READ_AMBIGUOUS) {
    auto& c = Raise(v1::AMBIGUOUS_READ);
    *c.mutable_read_codes() = e.read_codes();
    c.set_detail(std::to_string(e.read_codes_size()) + " codes that disagree in one read: " +
                 JoinCodes(e.read_codes()) + "; " + destination);
    return;
  }
  auto& c = Raise(v1::NO_READ);
  *c.mutable_read_codes() = e.read_codes();
  if (e.read() != v1::READ_INVALID_ID) {
    c.set_detail("no readable label; " + destination);
    return;
  }
  // Name the code that failed its check: an S10 id with a wrong check digit
  // if there is one, else the first code read.
  std::string why = "id check failed for " + e.read_codes(0);
  for (const auto& code : e.read_codes()) {
    if (LooksLikeS10(code) && !ValidS10(code)) {
      why = "S10 check digit wrong in " + code;
      break;
    }
  }
  c.set_detail(why + "; " + destination);
}

// ---------------------------------------------------------------------------
// DWS: known weights and WEIGHT_MISMATCH

void HubState::LearnWeight(Parcel& p, uint64_t weight_g, v1::WeightSource source) {
  if (p.known_weight_g > 0 || weight_g == 0) return;
  p.known_weight_g = weight_g;
  p.known_weight_source = source;
}

uint64_t HubState::AdvisedWeight(const BagAdvice& advice, const std::string& parcel_id) {
  auto it = std::lower_bound(advice.weights.begin(), advice.weights.end(), parcel_id,
                             [](const auto& w, const std::string& id) { return w.first < id; });
  return it != advice.weights.end() && it->first == parcel_id ? it->second : 0;
}

void HubState::CheckWeight(const std::string& parcel_id, Parcel& p, const v1::ParcelSorted& e) {
  if (!e.has_measurement()) {
    LearnWeight(p, e.weight_g(), v1::WEIGHT_FROM_SCAN);
    return;
  }
  const v1::Measurement& m = e.measurement();
  if (m.weight_g() == 0 || m.scale_error()) return;  // nothing trusted measured
  if (p.known_weight_g == 0) {
    LearnWeight(p, m.weight_g(), v1::WEIGHT_FROM_READING);
    return;
  }
  if (p.weight_flagged || !OutsideTolerance(p.known_weight_g, m.weight_g(), settings_)) return;
  p.weight_flagged = true;
  auto& c = Raise(v1::WEIGHT_MISMATCH);
  c.set_parcel_id(parcel_id);
  c.set_bag_id(p.outbound_bag.empty() ? p.inbound_bag : p.outbound_bag);
  c.set_known_weight_g(p.known_weight_g);
  c.set_measured_weight_g(m.weight_g());
  c.set_detail("measured " + Kilograms(m.weight_g()) + ", known " + Kilograms(p.known_weight_g) +
               " (" + WeightSourceWord(p.known_weight_source) + "), tolerance " +
               std::to_string(settings_.weight_tolerance_g()) + " g / " +
               std::to_string(settings_.weight_tolerance_percent()) + " %");
}

// ---------------------------------------------------------------------------
// Outbound: bagging and loading

void HubState::OnBagCreated(const v1::BagCreated& e) {
  OutboundBag& b = TouchOutboundBag(e.bag_id());
  b.destination = e.destination();
  // Parcels bagged (or the bag loaded) before the bag's creation arrived.
  for (const auto& pid : b.parcels) {
    auto p = parcels_.find(pid);
    if (p != parcels_.end()) CheckMissort(pid, p->second, e.bag_id(), b);
  }
  if (!b.load_id.empty()) {
    auto load = loads_.find(b.load_id);
    if (load != loads_.end()) CheckMisload(e.bag_id(), b, load->first, load->second);
  }
}

void HubState::OnParcelBagged(const v1::ParcelBagged& e) {
  const std::string& pid = e.parcel_id();
  const std::string& bid = e.bag_id();
  OutboundBag& b = TouchOutboundBag(bid);
  Parcel& p = TouchParcel(pid);
  RaiseIfHeld(pid, "bagged");
  if (!p.outbound_bag.empty() && p.outbound_bag != bid) {
    auto old = outbound_bags_.find(p.outbound_bag);
    if (old != outbound_bags_.end() && old->second.closed) {
      auto& c = Raise(v1::DUPLICATE_PARCEL);
      c.set_parcel_id(pid);
      c.set_bag_id(bid);
      c.set_detail("already in closed bag " + p.outbound_bag);
    } else if (old != outbound_bags_.end()) {
      Remove(old->second.parcels, pid);  // moved between open bags
    }
  }
  p.outbound_bag = bid;
  const bool added = std::find(b.parcels.begin(), b.parcels.end(), pid) == b.parcels.end();
  if (added) b.parcels.push_back(pid);
  CheckMissort(pid, p, bid, b);
  if (added && b.closed) {
    auto& c = Raise(v1::BAG_LABEL_MISMATCH);
    c.set_bag_id(bid);
    c.set_parcel_id(pid);
    c.set_expected_count(b.written_count);
    c.set_actual_count(static_cast<uint32_t>(b.parcels.size()));
    c.set_detail("parcel bagged after the bag was closed");
  }
}

void HubState::OnBagClosed(const v1::BagClosed& e) {
  OutboundBag& b = TouchOutboundBag(e.bag_id());
  b.closed = true;
  b.written_count = e.label_count();
  if (b.written_count != b.parcels.size()) {
    auto& c = Raise(v1::BAG_LABEL_MISMATCH);
    c.set_bag_id(e.bag_id());
    c.set_load_id(b.load_id);
    c.set_expected_count(b.written_count);
    c.set_actual_count(static_cast<uint32_t>(b.parcels.size()));
    c.set_detail("label says " + std::to_string(b.written_count) + ", " +
                 std::to_string(b.parcels.size()) + " parcels bagged");
  }
}

void HubState::OnLoadOpened(const v1::LoadOpened& e) {
  Load& l = TouchLoad(e.load_id());
  l.opened = true;
  l.vehicle_id = e.vehicle_id();
  l.route_code = e.route_code();
  // Bags loaded before the load's opening arrived.
  for (const auto& bid : l.bags) {
    auto b = outbound_bags_.find(bid);
    if (b != outbound_bags_.end()) CheckMisload(bid, b->second, e.load_id(), l);
  }
}

void HubState::OnBagLoaded(const v1::BagLoaded& e) {
  const std::string& bid = e.bag_id();
  OutboundBag& b = TouchOutboundBag(bid);
  Load& l = TouchLoad(e.load_id());
  if (!b.load_id.empty() && b.load_id != e.load_id()) {
    auto old = loads_.find(b.load_id);
    if (old != loads_.end()) Remove(old->second.bags, bid);
  }
  b.load_id = e.load_id();
  AppendOnce(l.bags, bid);
  if (!b.closed) {
    auto& c = Raise(v1::UNCLOSED_BAG_LOADED);
    c.set_bag_id(bid);
    c.set_load_id(e.load_id());
    c.set_vehicle_id(l.vehicle_id);
  }
  CheckMisload(bid, b, e.load_id(), l);
  // A hold placed after bagging stops the parcel at the bag's next scan.
  for (const auto& pid : b.parcels) {
    if (RaiseIfHeld(pid, "in a bag being loaded")) {
      auto& c = ctx_.result->raised.back();
      c.set_bag_id(bid);
      c.set_load_id(e.load_id());
    }
  }
}

void HubState::OnLoadDeparted(const v1::LoadDeparted& e) {
  const std::string& lid = e.load_id();
  Load& l = TouchLoad(lid);
  l.seal_id = e.seal_id();
  // Parcels routed here that are not in a bag on this load stay behind.
  std::unordered_set<std::string> on_load;
  for (const auto& bid : l.bags) {
    auto b = outbound_bags_.find(bid);
    if (b == outbound_bags_.end()) continue;
    on_load.insert(b->second.parcels.begin(), b->second.parcels.end());
  }
  std::vector<std::string> behind;
  for (const auto& pid : l.routed)
    if (!on_load.count(pid)) behind.push_back(pid);
  std::sort(behind.begin(), behind.end());
  for (const auto& pid : behind) {
    auto& c = Raise(v1::LEFT_BEHIND);
    c.set_parcel_id(pid);
    c.set_load_id(lid);
    c.set_vehicle_id(l.vehicle_id);
    auto p = parcels_.find(pid);
    if (p != parcels_.end()) {
      c.set_bag_id(p->second.outbound_bag);
      p->second.load_id.clear();  // must be routed again
    }
  }
  l.routed.clear();
  // The next hub's advice, while the bags and parcels are still here.
  if (const Route* next = NextHubOf(l.route_code)) ctx_.result->dispatch = DispatchOf(lid, l, *next);
  // The load, its bags and their parcels have left the hub.
  std::vector<std::string> bags = l.bags;
  for (const auto& bid : bags) RetireOutboundBag(bid);
  auto it = loads_.find(lid);
  v1::LoadState* s = Retired().mutable_load();
  ToState(lid, it->second, s);
  s->set_departed(true);
  loads_.erase(it);
}

const HubState::Route* HubState::NextHubOf(const std::string& route_code) const {
  if (route_code.empty()) return nullptr;
  // A scan of the whole table, once per departure (rare next to the sort
  // scans, which find their route by destination).
  const std::string* best_destination = nullptr;
  const Route* best = nullptr;
  for (const auto& [destination, r] : routes_) {
    if (r.route_code != route_code || r.next_hub.empty()) continue;
    if (best == nullptr || destination < *best_destination) {
      best = &r;
      best_destination = &destination;
    }
  }
  return best;
}

v1::DispatchAdvice HubState::DispatchOf(const std::string& load_id, const Load& l, const Route& next) {
  const int64_t departed_ms = ctx_.event->event_time_ms();
  v1::DispatchAdvice d;
  d.set_from_hub_seq(last_hub_seq_);
  d.set_to_hub(next.next_hub);
  d.set_load_id(load_id);
  d.set_departed_ms(departed_ms);
  v1::VehicleAdvice* v = d.mutable_vehicle();
  v->set_vehicle_id(l.vehicle_id);
  v->set_route_code(l.route_code);
  v->set_seal_id(l.seal_id);
  v->mutable_bag_ids()->Add(l.bags.begin(), l.bags.end());
  if (next.transit_minutes > 0)
    v->set_expected_arrival_ms(departed_ms + int64_t{next.transit_minutes} * 60'000);
  for (const auto& bid : l.bags) {
    auto b = outbound_bags_.find(bid);
    // A bag forgotten while on the load: no manifest to give (an empty one
    // would make every parcel in it foreign at the next hub).
    if (b == outbound_bags_.end()) continue;
    const OutboundBag& bag = b->second;
    v1::BagAdvice* a = d.add_bags();
    a->set_bag_id(bid);
    a->mutable_parcel_ids()->Add(bag.parcels.begin(), bag.parcels.end());
    for (const auto& pid : bag.parcels) {
      auto p = parcels_.find(pid);
      if (p == parcels_.end() || p->second.known_weight_g == 0) continue;
      v1::ParcelWeight* w = a->add_parcel_weights();
      w->set_parcel_id(pid);
      w->set_weight_g(p->second.known_weight_g);
    }
    if (bag.closed) a->set_label_count(bag.written_count);
  }
  return d;
}

// ---------------------------------------------------------------------------
// Holds and problem parcels

void HubState::OnHoldPlaced(const std::string& parcel_id, Hold hold) {
  holds_[parcel_id] = std::move(hold);
  holds_copy_.reset();
  // A held parcel is not expected on its load: it must not count as left
  // behind, and it needs a new sort once released.
  auto p = parcels_.find(parcel_id);
  if (p != parcels_.end()) Unroute(parcel_id, p->second);
}

void HubState::OnHoldReleased(const std::string& parcel_id) {
  if (holds_.erase(parcel_id) > 0) holds_copy_.reset();
}

void HubState::OnParcelDamaged(const v1::ParcelDamaged& e) {
  Parcel& p = TouchParcel(e.parcel_id());
  p.damaged = true;
  auto& c = Raise(v1::DAMAGED);
  c.set_parcel_id(e.parcel_id());
  c.set_bag_id(p.outbound_bag.empty() ? p.inbound_bag : p.outbound_bag);
  c.set_detail("weighed " + std::to_string(e.weight_g()) + " g" +
               (e.note().empty() ? "" : ": " + e.note()));
}

// ---------------------------------------------------------------------------
// Reference data, read back

std::shared_ptr<const v1::RoutingTable> HubState::Routes() const {
  if (routes_copy_) return routes_copy_;
  auto t = std::make_shared<v1::RoutingTable>();
  t->mutable_entries()->Reserve(static_cast<int>(routes_.size()));
  for (const auto& [destination, route] : routes_) ToEntry(destination, route, t->add_entries());
  return routes_copy_ = std::move(t);
}

std::shared_ptr<const std::vector<v1::HoldEntry>> HubState::Holds() const {
  if (holds_copy_) return holds_copy_;
  auto out = std::make_shared<std::vector<v1::HoldEntry>>();
  out->reserve(holds_.size());
  for (const auto& [parcel_id, hold] : holds_) {
    v1::HoldEntry& h = out->emplace_back();
    h.set_parcel_id(parcel_id);
    h.set_reason(hold.reason);
    h.set_note(hold.note);
    h.set_placed_by(hold.placed_by);
    h.set_placed_at_ms(hold.placed_at_ms);
  }
  return holds_copy_ = std::move(out);
}

std::optional<v1::VehicleAdvice> HubState::VehicleAdviceOf(const std::string& vehicle_id) const {
  auto it = vehicle_advices_.find(vehicle_id);
  if (it == vehicle_advices_.end()) return std::nullopt;
  v1::VehicleAdvice a;
  a.set_vehicle_id(vehicle_id);
  a.set_route_code(it->second.route_code);
  a.set_seal_id(it->second.seal_id);
  a.mutable_bag_ids()->Add(it->second.bags.begin(), it->second.bags.end());
  a.set_expected_arrival_ms(it->second.expected_arrival_ms);
  return a;
}

std::optional<v1::BagAdvice> HubState::BagAdviceOf(const std::string& bag_id) const {
  auto it = bag_advices_.find(bag_id);
  if (it == bag_advices_.end()) return std::nullopt;
  v1::BagAdvice a;
  ToAdvice(bag_id, it->second, &a);
  return a;
}

// ---------------------------------------------------------------------------
// Snapshot

HubState::Route HubState::RouteOf(const v1::RouteEntry& r) {
  return Route{r.route_code(), r.chute(), r.load_id(), r.next_hub(), r.transit_minutes()};
}

void HubState::ToEntry(const std::string& destination, const Route& r, v1::RouteEntry* e) {
  e->set_destination(destination);
  e->set_route_code(r.route_code);
  e->set_chute(r.chute);
  e->set_load_id(r.load_id);
  e->set_next_hub(r.next_hub);
  e->set_transit_minutes(r.transit_minutes);
}

void HubState::ToAdvice(const std::string& bag_id, const BagAdvice& b, v1::BagAdvice* a) {
  a->set_bag_id(bag_id);
  a->mutable_parcel_ids()->Add(b.parcels.begin(), b.parcels.end());
  AddWeights(b.weights, a);
  if (b.label_count) a->set_label_count(*b.label_count);
}

void HubState::ToState(const std::string& id, const Parcel& p, v1::ParcelState* s) {
  s->set_parcel_id(id);
  s->set_destination(p.destination);
  s->set_route_code(p.route_code);
  s->set_load_id(p.load_id);
  s->set_inbound_bag(p.inbound_bag);
  s->set_outbound_bag(p.outbound_bag);
  s->set_sorted(p.sorted);
  s->set_damaged(p.damaged);
  s->set_last_hub_seq(p.last_hub_seq);
  s->set_arrived_ms(p.arrived_ms);
  s->set_last_seen_ms(p.last_seen_ms);
  s->set_dwell_flagged(p.dwell_flagged);
  s->set_known_weight_g(p.known_weight_g);
  s->set_known_weight_source(p.known_weight_source);
  s->set_weight_flagged(p.weight_flagged);
}

void HubState::ToState(const std::string& id, const InboundBag& b, v1::BagState* s) {
  s->set_bag_id(id);
  s->set_outbound(false);
  s->set_vehicle_id(b.vehicle_id);
  if (b.label_count) s->set_label_count(*b.label_count);
  s->set_opened(b.opened);
  s->set_unloaded(b.unloaded);
  s->mutable_parcel_ids()->Add(b.parcels.begin(), b.parcels.end());
  s->set_last_seen_ms(b.last_seen_ms);
}

void HubState::ToState(const std::string& id, const OutboundBag& b, v1::BagState* s) {
  s->set_bag_id(id);
  s->set_outbound(true);
  s->set_destination(b.destination);
  s->set_closed(b.closed);
  if (b.closed) s->set_label_count(b.written_count);
  s->set_load_id(b.load_id);
  s->mutable_parcel_ids()->Add(b.parcels.begin(), b.parcels.end());
  s->set_last_seen_ms(b.last_seen_ms);
}

void HubState::ToState(const std::string& id, const Load& l, v1::LoadState* s) {
  s->set_load_id(id);
  s->set_vehicle_id(l.vehicle_id);
  s->set_route_code(l.route_code);
  s->set_opened(l.opened);
  s->set_seal_id(l.seal_id);
  s->mutable_bag_ids()->Add(l.bags.begin(), l.bags.end());
  std::vector<std::string> routed(l.routed.begin(), l.routed.end());
  std::sort(routed.begin(), routed.end());
  s->mutable_routed_parcels()->Add(routed.begin(), routed.end());
  s->set_last_seen_ms(l.last_seen_ms);
}

void HubState::ToState(const std::string& id, const Vehicle& v, v1::VehicleState* s) {
  s->set_vehicle_id(id);
  s->set_route_code(v.route_code);
  s->set_seal_id(v.seal_id);
  s->set_arrived(v.arrived);
  s->set_seal_intact(v.seal_intact);
  if (v.advised_bag_count) s->set_advised_bag_count(*v.advised_bag_count);
  s->set_gross_weight_g(v.gross_weight_g);
  s->mutable_bag_ids()->Add(v.bags.begin(), v.bags.end());
  s->set_last_seen_ms(v.last_seen_ms);
}

v1::HubSnapshot HubState::Snapshot() const {
  v1::HubSnapshot s;
  s.set_last_hub_seq(last_hub_seq_);
  s.set_next_case_id(next_case_id_);
  for (auto* kv : SortedEntries(scanners_)) {
    auto* m = s.add_scanners();
    m->set_scanner_id(kv->first);
    m->set_seq(kv->second);
  }
  for (auto* kv : SortedEntries(routes_)) ToEntry(kv->first, kv->second, s.add_routes());
  for (auto* kv : SortedEntries(vehicle_advices_)) {
    auto* a = s.add_vehicle_advices();
    a->set_vehicle_id(kv->first);
    a->set_route_code(kv->second.route_code);
    a->set_seal_id(kv->second.seal_id);
    a->mutable_bag_ids()->Add(kv->second.bags.begin(), kv->second.bags.end());
    a->set_expected_arrival_ms(kv->second.expected_arrival_ms);
  }
  for (auto* kv : SortedEntries(bag_advices_)) ToAdvice(kv->first, kv->second, s.add_bag_advices());
  for (auto* kv : SortedEntries(vehicle_advices_)) {
    auto* t = s.add_advice_times();
    t->set_id(kv->first);
    t->set_received_ms(kv->second.received_ms);
    t->set_overdue_raised(kv->second.overdue_raised);
  }
  for (auto* kv : SortedEntries(bag_advices_)) {
    auto* t = s.add_advice_times();
    t->set_bag(true);
    t->set_id(kv->first);
    t->set_received_ms(kv->second.received_ms);
  }
  for (auto* kv : SortedEntries(holds_)) {
    auto* h = s.add_holds();
    h->set_parcel_id(kv->first);
    h->set_reason(kv->second.reason);
    h->set_note(kv->second.note);
    h->set_placed_by(kv->second.placed_by);
    h->set_placed_at_ms(kv->second.placed_at_ms);
  }
  for (const auto& [from_hub, seq] : dispatch_marks_) {  // sorted by from_hub
    auto* m = s.add_dispatch_marks();
    m->set_from_hub(from_hub);
    m->set_hub_seq(seq);
  }
  for (auto* kv : SortedEntries(vehicles_)) ToState(kv->first, kv->second, s.add_vehicles());
  // Bags: inbound ones first, then outbound, each sorted by id.
  for (auto* kv : SortedEntries(inbound_bags_)) ToState(kv->first, kv->second, s.add_bags());
  for (auto* kv : SortedEntries(outbound_bags_)) ToState(kv->first, kv->second, s.add_bags());
  for (auto* kv : SortedEntries(parcels_)) ToState(kv->first, kv->second, s.add_parcels());
  for (auto* kv : SortedEntries(loads_)) ToState(kv->first, kv->second, s.add_loads());
  for (const auto& [id, status] : open_cases_) {
    auto* c = s.add_open_cases();
    c->set_case_id(id);
    c->set_status(status);
  }
  s.set_hub_time_ms(hub_time_ms_);
  *s.mutable_settings() = settings_;
  s.set_last_sweep_hour(last_sweep_hour_);
  s.set_aged_out_case_id(aged_out_case_id_);
  return s;
}

void HubState::Restore(const v1::HubSnapshot& s) {
  last_hub_seq_ = s.last_hub_seq();
  next_case_id_ = s.next_case_id();
  scanners_.clear();
  for (const auto& m : s.scanners()) scanners_[m.scanner_id()] = m.seq();
  routes_.clear();
  routes_copy_.reset();
  for (const auto& r : s.routes()) routes_[r.destination()] = RouteOf(r);
  vehicle_advices_.clear();
  advised_vehicle_of_bag_.clear();
  for (const auto& a : s.vehicle_advices()) {
    vehicle_advices_[a.vehicle_id()] = VehicleAdvice{
        a.route_code(), a.seal_id(), {a.bag_ids().begin(), a.bag_ids().end()}, 0, a.expected_arrival_ms(), false};
    for (const auto& b : a.bag_ids()) advised_vehicle_of_bag_[b] = a.vehicle_id();
  }
  bag_advices_.clear();
  for (const auto& a : s.bag_advices()) {
    BagAdvice& x = bag_advices_[a.bag_id()];
    x.parcels.assign(a.parcel_ids().begin(), a.parcel_ids().end());
    x.weights = SortedWeights(a.parcel_weights());
    if (a.has_label_count()) x.label_count = a.label_count();
  }
  for (const auto& t : s.advice_times()) {
    if (t.bag()) {
      if (auto it = bag_advices_.find(t.id()); it != bag_advices_.end()) it->second.received_ms = t.received_ms();
    } else if (auto it = vehicle_advices_.find(t.id()); it != vehicle_advices_.end()) {
      it->second.received_ms = t.received_ms();
      it->second.overdue_raised = t.overdue_raised();
    }
  }
  holds_.clear();
  holds_copy_.reset();
  for (const auto& h : s.holds())
    holds_[h.parcel_id()] = Hold{h.reason(), h.note(), h.placed_by(), h.placed_at_ms()};
  dispatch_marks_.clear();
  for (const auto& m : s.dispatch_marks()) dispatch_marks_[m.from_hub()] = m.hub_seq();
  vehicles_.clear();
  for (const auto& v : s.vehicles()) {
    Vehicle& x = vehicles_[v.vehicle_id()];
    x.route_code = v.route_code();
    x.seal_id = v.seal_id();
    x.arrived = v.arrived();
    x.seal_intact = v.seal_intact();
    if (v.has_advised_bag_count()) x.advised_bag_count = v.advised_bag_count();
    x.gross_weight_g = v.gross_weight_g();
    x.bags.assign(v.bag_ids().begin(), v.bag_ids().end());
    x.last_seen_ms = v.last_seen_ms();
  }
  inbound_bags_.clear();
  outbound_bags_.clear();
  for (const auto& b : s.bags()) {
    if (b.outbound()) {
      OutboundBag& x = outbound_bags_[b.bag_id()];
      x.destination = b.destination();
      x.closed = b.closed();
      x.written_count = b.closed() ? b.label_count() : 0;
      x.load_id = b.load_id();
      x.parcels.assign(b.parcel_ids().begin(), b.parcel_ids().end());
      x.last_seen_ms = b.last_seen_ms();
    } else {
      InboundBag& x = inbound_bags_[b.bag_id()];
      x.vehicle_id = b.vehicle_id();
      if (b.has_label_count()) x.label_count = b.label_count();
      x.opened = b.opened();
      x.unloaded = b.unloaded();
      x.parcels.assign(b.parcel_ids().begin(), b.parcel_ids().end());
      x.last_seen_ms = b.last_seen_ms();
    }
  }
  parcels_.clear();
  for (const auto& p : s.parcels()) {
    Parcel& x = parcels_[p.parcel_id()];
    x.destination = p.destination();
    x.route_code = p.route_code();
    x.load_id = p.load_id();
    x.inbound_bag = p.inbound_bag();
    x.outbound_bag = p.outbound_bag();
    x.sorted = p.sorted();
    x.damaged = p.damaged();
    x.last_hub_seq = p.last_hub_seq();
    x.arrived_ms = p.arrived_ms();
    x.last_seen_ms = p.last_seen_ms();
    x.dwell_flagged = p.dwell_flagged();
    x.known_weight_g = p.known_weight_g();
    x.known_weight_source = p.known_weight_source();
    x.weight_flagged = p.weight_flagged();
  }
  loads_.clear();
  for (const auto& l : s.loads()) {
    Load& x = loads_[l.load_id()];
    x.vehicle_id = l.vehicle_id();
    x.route_code = l.route_code();
    x.seal_id = l.seal_id();
    x.opened = l.opened();
    x.bags.assign(l.bag_ids().begin(), l.bag_ids().end());
    x.routed.insert(l.routed_parcels().begin(), l.routed_parcels().end());
    x.last_seen_ms = l.last_seen_ms();
  }
  open_cases_.clear();
  for (const auto& c : s.open_cases()) open_cases_[c.case_id()] = c.status();
  hub_time_ms_ = s.hub_time_ms();
  settings_ = s.has_settings() ? s.settings() : DefaultSettings();
  last_sweep_hour_ = s.last_sweep_hour();
  aged_out_case_id_ = s.aged_out_case_id();
  RebuildDwellQueue();
  RebuildOverdueQueue();
}

void HubState::RebuildDwellQueue() {
  // Every parcel not yet flagged, oldest stay first; empty while the rule
  // is off.
  dwell_queue_.clear();
  if (settings_.dwell_hours() == 0) return;
  for (const auto& [id, p] : parcels_)
    if (!p.dwell_flagged) dwell_queue_.emplace_back(p.arrived_ms, id);
  std::sort(dwell_queue_.begin(), dwell_queue_.end());
}

}  // namespace hub::core
