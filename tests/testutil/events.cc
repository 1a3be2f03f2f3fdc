#include "testutil/events.h"

#include <algorithm>
#include <deque>
#include <map>
#include <random>

namespace hub::testutil {

Scanner::Scanner(std::string id, std::string station)
    : id_(std::move(id)), station_(station.empty() ? "ST-" + id_ : std::move(station)) {}

v1::ScanEvent Scanner::Next() {
  v1::ScanEvent e;
  e.set_scanner_id(id_);
  e.set_seq(++seq_);
  time_ms_ += 250;
  e.set_event_time_ms(time_ms_);
  e.set_station(station_);
  return e;
}

v1::ScanEvent Scanner::VehicleArrived(const std::string& vehicle, const std::string& seal,
                                      bool intact, std::optional<uint32_t> advised_bags) {
  v1::ScanEvent e = Next();
  auto* b = e.mutable_vehicle_arrived();
  b->set_vehicle_id(vehicle);
  b->set_route_code("R-IN");
  b->set_seal_id(seal);
  b->set_seal_intact(intact);
  if (advised_bags) b->set_advised_bag_count(*advised_bags);
  return e;
}

v1::ScanEvent Scanner::BagUnloaded(const std::string& bag, const std::string& vehicle,
                                   std::optional<uint32_t> label_count) {
  v1::ScanEvent e = Next();
  auto* b = e.mutable_bag_unloaded();
  b->set_bag_id(bag);
  b->set_vehicle_id(vehicle);
  if (label_count) b->set_label_count(*label_count);
  return e;
}

v1::ScanEvent Scanner::VehicleUnloaded(const std::string& vehicle) {
  v1::ScanEvent e = Next();
  e.mutable_vehicle_unloaded()->set_vehicle_id(vehicle);
  return e;
}

v1::ScanEvent Scanner::BagOpened(const std::string& bag) {
  v1::ScanEvent e = Next();
  e.mutable_bag_opened()->set_bag_id(bag);
  return e;
}

v1::ScanEvent Scanner::ParcelUnbagged(const std::string& parcel, const std::string& bag) {
  v1::ScanEvent e = Next();
  e.mutable_parcel_unbagged()->set_parcel_id(parcel);
  e.mutable_parcel_unbagged()->set_bag_id(bag);
  return e;
}

v1::ScanEvent Scanner::BagEmptied(const std::string& bag) {
  v1::ScanEvent e = Next();
  e.mutable_bag_emptied()->set_bag_id(bag);
  return e;
}

v1::ScanEvent Scanner::ParcelSorted(const std::string& parcel, const std::string& destination) {
  v1::ScanEvent e = Next();
  auto* b = e.mutable_parcel_sorted();
  b->set_parcel_id(parcel);
  b->set_destination(destination);
  b->set_weight_g(1200);
  b->set_service_class(v1::SERVICE_CLASS_STANDARD);
  return e;
}

v1::ScanEvent Scanner::BagCreated(const std::string& bag, const std::string& route) {
  v1::ScanEvent e = Next();
  e.mutable_bag_created()->set_bag_id(bag);
  e.mutable_bag_created()->set_destination(route);
  return e;
}

v1::ScanEvent Scanner::ParcelBagged(const std::string& parcel, const std::string& bag) {
  v1::ScanEvent e = Next();
  e.mutable_parcel_bagged()->set_parcel_id(parcel);
  e.mutable_parcel_bagged()->set_bag_id(bag);
  return e;
}

v1::ScanEvent Scanner::BagClosed(const std::string& bag, uint32_t count) {
  v1::ScanEvent e = Next();
  e.mutable_bag_closed()->set_bag_id(bag);
  e.mutable_bag_closed()->set_label_count(count);
  return e;
}

v1::ScanEvent Scanner::LoadOpened(const std::string& load, const std::string& vehicle,
                                  const std::string& route) {
  v1::ScanEvent e = Next();
  auto* b = e.mutable_load_opened();
  b->set_load_id(load);
  b->set_vehicle_id(vehicle);
  b->set_route_code(route);
  return e;
}

v1::ScanEvent Scanner::BagLoaded(const std::string& bag, const std::string& load) {
  v1::ScanEvent e = Next();
  e.mutable_bag_loaded()->set_bag_id(bag);
  e.mutable_bag_loaded()->set_load_id(load);
  return e;
}

v1::ScanEvent Scanner::LoadDeparted(const std::string& load, const std::string& seal) {
  v1::ScanEvent e = Next();
  e.mutable_load_departed()->set_load_id(load);
  e.mutable_load_departed()->set_seal_id(seal);
  return e;
}

v1::ScanEvent Scanner::HoldPlaced(const std::string& parcel, v1::HoldReason reason) {
  v1::ScanEvent e = Next();
  e.mutable_hold_placed()->set_parcel_id(parcel);
  e.mutable_hold_placed()->set_reason(reason);
  return e;
}

v1::ScanEvent Scanner::HoldReleased(const std::string& parcel) {
  v1::ScanEvent e = Next();
  e.mutable_hold_released()->set_parcel_id(parcel);
  return e;
}

v1::ScanEvent Scanner::ParcelDamaged(const std::string& parcel, uint64_t weight_g) {
  v1::ScanEvent e = Next();
  e.mutable_parcel_damaged()->set_parcel_id(parcel);
  e.mutable_parcel_damaged()->set_weight_g(weight_g);
  return e;
}

v1::ReferenceChange RouteRef(const std::string& destination, const std::string& route,
                             const std::string& chute, const std::string& load) {
  v1::ReferenceChange c;
  auto* r = c.mutable_upsert_route();
  r->set_destination(destination);
  r->set_route_code(route);
  r->set_chute(chute);
  r->set_load_id(load);
  return c;
}

v1::ReferenceChange VehicleAdviceRef(const std::string& vehicle, const std::string& seal,
                                     const std::vector<std::string>& bags) {
  v1::ReferenceChange c;
  auto* a = c.mutable_vehicle_advice();
  a->set_vehicle_id(vehicle);
  a->set_seal_id(seal);
  for (const auto& b : bags) a->add_bag_ids(b);
  return c;
}

v1::ReferenceChange BagAdviceRef(const std::string& bag, const std::vector<std::string>& parcels) {
  v1::ReferenceChange c;
  auto* a = c.mutable_bag_advice();
  a->set_bag_id(bag);
  for (const auto& p : parcels) a->add_parcel_ids(p);
  return c;
}

v1::ReferenceChange SettingsRef(uint32_t dwell_hours, uint32_t forget_after_days) {
  v1::ReferenceChange c;
  c.mutable_settings()->set_dwell_hours(dwell_hours);
  c.mutable_settings()->set_forget_after_days(forget_after_days);
  return c;
}

v1::ReferenceChange HoldRef(const std::string& parcel, v1::HoldReason reason) {
  v1::ReferenceChange c;
  c.mutable_add_hold()->set_parcel_id(parcel);
  c.mutable_add_hold()->set_reason(reason);
  return c;
}

v1::ScanEvent EventNumber(const std::string& scanner, uint64_t n) {
  Scanner s(scanner);
  s.Rewind(n - 1);
  const std::string p = scanner + "-P" + std::to_string(n);
  switch (n % 4) {
    case 0: return s.ParcelSorted(p, "D" + std::to_string(n % 7));
    case 1: return s.ParcelUnbagged(p, scanner + "-B" + std::to_string(n / 40));
    case 2: return s.ParcelBagged(p, scanner + "-OB" + std::to_string(n / 40));
    default: return s.ParcelDamaged(p, n);
  }
}

v1::LogRecord Record(const v1::ScanEvent& e) {
  v1::LogRecord r;
  *r.mutable_event() = e;
  return r;
}

v1::LogRecord Record(const v1::ReferenceChange& c) {
  v1::LogRecord r;
  *r.mutable_reference() = c;
  return r;
}

std::string Describe(const v1::ExceptionCase& c) {
  std::string s = v1::ExceptionType_Name(c.type());
  auto field = [&s](const char* name, const std::string& v) {
    if (!v.empty()) s += std::string(" ") + name + "=" + v;
  };
  field("vehicle", c.vehicle_id());
  field("bag", c.bag_id());
  field("parcel", c.parcel_id());
  field("load", c.load_id());
  if (c.has_expected_count()) s += " expected=" + std::to_string(c.expected_count());
  if (c.has_actual_count()) s += " actual=" + std::to_string(c.actual_count());
  auto list = [&s](const char* name, const auto& ids) {
    if (ids.empty()) return;
    s += std::string(" ") + name + "=[";
    for (int i = 0; i < ids.size(); ++i) s += (i ? "," : "") + ids[i];
    s += "]";
  };
  list("missing", c.missing_ids());
  list("unexpected", c.unexpected_ids());
  list("codes", c.read_codes());
  if (c.has_known_weight_g()) s += " known=" + std::to_string(c.known_weight_g()) + "g";
  if (c.has_measured_weight_g()) s += " measured=" + std::to_string(c.measured_weight_g()) + "g";
  return s;
}

std::string Describe(const std::vector<v1::ExceptionCase>& cases) {
  std::string s;
  for (const auto& c : cases) s += (s.empty() ? "" : "; ") + Describe(c);
  return s;
}

// ---------------------------------------------------------------------------
// GenerateDay

namespace {

class DayGenerator {
 public:
  DayGenerator(uint64_t seed, size_t events)
      : rng_(seed), extra_(seed ^ 0x9e3779b97f4a7c15ULL), budget_(events) {}

  std::vector<v1::LogRecord> Run() {
    for (int d = 0; d < kRoutes; ++d) Ref(Route(d));
    for (int d = 0; d < kRoutes; ++d) OpenLoad(d);
    size_t vehicle = 0;
    while (out_.size() < budget_) {
      Inbound(vehicle++);
      Outbound();
    }
    return std::move(out_);
  }

 private:
  static constexpr int kRoutes = 12;

  bool Chance(int per_mille) { return static_cast<int>(rng_() % 1000) < per_mille; }
  size_t Pick(size_t n) { return static_cast<size_t>(rng_() % n); }
  void Ref(const v1::ReferenceChange& c) { out_.push_back(Record(c)); }
  void Emit(const v1::ScanEvent& e) { out_.push_back(Record(e)); }
  Scanner& Any(std::vector<Scanner>& pool) { return pool[Pick(pool.size())]; }
  std::string LoadId(int d) { return "L" + std::to_string(d) + "-" + std::to_string(load_gen_[d]); }

  // Every third route goes on to a next hub (its departures carry a
  // dispatch advice), most of them with a planned transit time.
  v1::ReferenceChange Route(int d) {
    const std::string n = std::to_string(d);
    v1::ReferenceChange c = RouteRef("D" + n, "R" + n, "C" + n, LoadId(d));
    if (d % 3 == 0) {
      c.mutable_upsert_route()->set_next_hub("HUB-N" + n);
      c.mutable_upsert_route()->set_transit_minutes(d == 0 ? 0 : 30 * d);
    }
    return c;
  }

  void OpenLoad(int d) {
    Emit(Any(loaders_).LoadOpened(LoadId(d), "TRUCK-" + LoadId(d), "R" + std::to_string(d)));
  }

  void Inbound(size_t v) {
    const std::string vid = "V" + std::to_string(v);
    const size_t nbags = 2 + Pick(4);
    std::vector<std::string> bags;
    for (size_t b = 0; b < nbags; ++b) bags.push_back(vid + "-B" + std::to_string(b));
    // Every fourth vehicle comes from a hub running hubd: one dispatch
    // advice (vehicle and bags together, in the vehicle advice's place)
    // from one of three previous hubs, numbered as their departures were.
    const size_t advice_at = out_.size();
    const bool dispatched = v % 4 == 1;
    v1::ReferenceChange dispatch;
    Ref(VehicleAdviceRef(vid, "SEAL-" + vid, bags));
    if (Extra(20)) {  // a vehicle advised by a sending hub that never comes
      v1::ReferenceChange ghost = VehicleAdviceRef("GHOST-" + vid, "SEAL-G", {"GHOST-" + vid + "-B0"});
      // Due (expected + the 30 min grace) from a minute ago to five minutes
      // ahead of the docks' clock: most are raised soon, some later.
      ghost.mutable_vehicle_advice()->set_expected_arrival_ms(docks_[0].time_ms() - 31 * 60'000 +
                                                              static_cast<int64_t>(extra_() % 360'000));
      Ref(ghost);
    }
    const bool mismatch = Chance(20);
    Emit(Any(docks_).VehicleArrived(vid, mismatch ? "SEAL-X" : "SEAL-" + vid, !Chance(20)));
    std::vector<std::pair<std::string, std::vector<std::string>>> contents;
    for (const auto& bid : bags) {
      std::vector<std::string> parcels;
      const size_t n = 5 + Pick(20);
      for (size_t p = 0; p < n; ++p) parcels.push_back("P" + std::to_string(next_parcel_++));
      v1::ReferenceChange advice = BagAdviceRef(bid, parcels);
      for (const auto& pid : parcels) {  // the sending hub's weights
        auto* w = advice.mutable_bag_advice()->add_parcel_weights();
        w->set_parcel_id(pid);
        w->set_weight_g(weight_[pid] = 200 + extra_() % 5000);
      }
      if (dispatched) {
        advice.mutable_bag_advice()->set_label_count(static_cast<uint32_t>(n));
        *dispatch.mutable_dispatch_advice()->add_bags() = advice.bag_advice();
      } else {
        Ref(advice);
      }
      contents.emplace_back(bid, parcels);
    }
    if (dispatched) {
      v1::DispatchAdvice* d = dispatch.mutable_dispatch_advice();
      d->set_from_hub("HUB-UP" + std::to_string(v % 3));
      d->set_from_hub_seq(v + 1);
      d->set_to_hub("HUB-HERE");
      d->set_load_id("UL-" + vid);
      *d->mutable_vehicle() = out_[advice_at].reference().vehicle_advice();
      out_[advice_at] = Record(dispatch);
    }
    for (const auto& [bid, parcels] : contents) {
      if (Chance(30)) continue;  // unload scan missed
      Emit(Any(docks_).BagUnloaded(bid, vid, static_cast<uint32_t>(parcels.size())));
    }
    if (Chance(30)) Emit(Any(docks_).BagUnloaded(vid + "-BX", vid, 3));
    Emit(Any(docks_).VehicleUnloaded(vid));
    for (auto& [bid, parcels] : contents) {
      Scanner& table = Any(tables_);
      Emit(table.BagOpened(bid));
      for (const auto& pid : parcels) {
        if (Chance(15)) continue;  // short
        Emit(table.ParcelUnbagged(pid, bid));
        floor_.push_back(pid);
      }
      if (Chance(15)) {
        const std::string foreign = "P" + std::to_string(next_parcel_++);
        Emit(table.ParcelUnbagged(foreign, bid));
        floor_.push_back(foreign);
      }
      Emit(table.BagEmptied(bid));
    }
  }

  void Outbound() {
    // Sort everything on the floor, in a shuffled order.
    for (size_t i = floor_.size(); i > 1; --i) std::swap(floor_[i - 1], floor_[Pick(i)]);
    for (const auto& pid : floor_) {
      Scanner& sorter = Any(sorters_);
      if (Chance(10)) {
        Emit(sorter.ParcelSorted("", "D1"));
        continue;
      }
      if (Chance(5)) Ref(HoldRef(pid, v1::HOLD_REASON_CUSTOMER_INTERCEPT));
      if (Chance(5)) Emit(Any(tables_).ParcelDamaged(pid, 800));
      const int d = static_cast<int>(Pick(kRoutes));
      v1::ScanEvent sort = sorter.ParcelSorted(pid, Chance(10) ? "D-UNKNOWN" : "D" + std::to_string(d));
      Read(pid, sort.mutable_parcel_sorted());
      Emit(sort);
      if (!Chance(20)) pending_[Chance(10) ? (d + 1) % kRoutes : d].push_back(pid);
    }
    floor_.clear();
    // Bag per route, load, and depart now and then.
    for (int d = 0; d < kRoutes; ++d) {
      if (pending_[d].size() < 20 && !Chance(100)) continue;
      Scanner& bagger = Any(baggers_);
      const std::string bid = "OB" + std::to_string(next_bag_++);
      Emit(bagger.BagCreated(bid, "R" + std::to_string(d)));
      for (const auto& pid : pending_[d]) Emit(bagger.ParcelBagged(pid, bid));
      const auto n = static_cast<uint32_t>(pending_[d].size());
      pending_[d].clear();
      const bool unclosed = Chance(20);
      if (!unclosed) Emit(bagger.BagClosed(bid, Chance(20) ? n + 1 : n));
      const int load_route = Chance(20) ? (d + 1) % kRoutes : d;
      Emit(Any(loaders_).BagLoaded(bid, LoadId(load_route)));
      if (Chance(300)) {
        Emit(Any(loaders_).LoadDeparted(LoadId(d), "S-" + LoadId(d)));
        ++load_gen_[d];
        Ref(Route(d));
        OpenLoad(d);
      }
    }
  }

  // DWS readings (within tolerance, far off, scale errors) and reads with
  // several codes (a routing label; now and then two parcel labels: an
  // ambiguous read, the parcel then diverted).
  void Read(const std::string& pid, v1::ParcelSorted* s) {
    if (Extra(10)) {
      s->set_parcel_id("");
      s->set_read(v1::READ_AMBIGUOUS);
      for (const std::string& code : {pid, "P" + std::to_string(next_parcel_ + 7), s->destination()})
        s->add_read_codes(code);
      return;
    }
    if (Extra(100)) {
      s->set_read(v1::READ_SINGLE);
      s->add_read_codes(pid);
      s->add_read_codes(s->destination());
    }
    auto known = weight_.find(pid);
    if (known == weight_.end() || !Extra(300)) return;
    auto* m = s->mutable_measurement();
    m->set_length_mm(300);
    m->set_width_mm(200);
    m->set_height_mm(100);
    if (Extra(50)) {
      m->set_scale_error(true);
      m->set_weight_g(99'000);
    } else {
      m->set_weight_g(Extra(50) ? 2 * known->second + 1000 : known->second + extra_() % 21);
    }
  }
  bool Extra(int per_mille) { return static_cast<int>(extra_() % 1000) < per_mille; }

  std::mt19937_64 rng_;
  // A second stream for the readings, read codes and ghost vehicles, so the
  // draws of the rest of the day stay as they were.
  std::mt19937_64 extra_;
  std::map<std::string, uint64_t> weight_;  // advised weights
  size_t budget_;
  std::vector<v1::LogRecord> out_;
  std::vector<Scanner> docks_{Scanner("DOCK-1"), Scanner("DOCK-2")};
  std::vector<Scanner> tables_{Scanner("TABLE-1"), Scanner("TABLE-2"), Scanner("TABLE-3")};
  std::vector<Scanner> sorters_{Scanner("SORTER-1"), Scanner("SORTER-2")};
  std::vector<Scanner> baggers_{Scanner("BAGGER-1"), Scanner("BAGGER-2")};
  std::vector<Scanner> loaders_{Scanner("LOADER-1")};
  std::vector<std::string> floor_;
  std::vector<std::string> pending_[kRoutes];
  int load_gen_[kRoutes] = {};
  size_t next_parcel_ = 0, next_bag_ = 0;
};

}  // namespace

std::vector<v1::LogRecord> GenerateDay(uint64_t seed, size_t events) {
  return DayGenerator(seed, events).Run();
}

}  // namespace hub::testutil
