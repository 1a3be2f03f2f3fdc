#include "tools/day_generator.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

#include "core/upu.h"

namespace hub::tools {
namespace {

using T = v1::ExceptionType;

// Which unit each anomaly is drawn for; a unit gets at most one.
const std::vector<T> kVehicleAnomalies = {v1::SEAL_BROKEN, v1::SEAL_MISMATCH, v1::BAGS_MISSING,
                                          v1::BAGS_EXTRA};
const std::vector<T> kBagAnomalies = {v1::BAG_SHORT, v1::BAG_OVER, v1::MISBAGGED};
const std::vector<T> kParcelAnomalies = {v1::NO_ROUTE,    v1::NO_READ,     v1::HELD_PARCEL,
                                         v1::MISSORT,     v1::LEFT_BEHIND, v1::DAMAGED,
                                         v1::DUPLICATE_PARCEL, v1::WEIGHT_MISMATCH,
                                         v1::AMBIGUOUS_READ};
// Drawn only at the rate `rates` names (0 otherwise): a day made without
// them stays what it was before hubs knew them.
bool OptIn(T type) { return type == v1::WEIGHT_MISMATCH || type == v1::AMBIGUOUS_READ; }
const std::vector<T> kOutboundAnomalies = {v1::BAG_LABEL_MISMATCH, v1::MISLOAD,
                                           v1::UNCLOSED_BAG_LOADED};
constexpr T kNone = v1::EXCEPTION_TYPE_UNSPECIFIED;
constexpr int64_t kEpochMs = 60'000;

std::string Id(const char* prefix, uint64_t n, int width = 6) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%s%0*llu", prefix, width, static_cast<unsigned long long>(n));
  return buf;
}

struct Parcel {
  std::string id;
  uint64_t serial = 0;
  uint64_t weight_g = 0;   // what it weighs (and its bag advice says, when advised)
  bool advised = false;    // on some bag advice: the hub knows its weight
  uint32_t dest = 0;
  T anomaly = kNone;
  int inbound_bag = -1;
  bool lost = false;       // advised, never unbagged (BAG_SHORT)
  int route = -1;          // routed by its sort scan
  int outbound_bag = -1;
  bool live = true;
};

struct InboundBag {
  std::string id;
  int vehicle = -1;
  std::vector<int> advised;   // parcel indexes on the bag advice
  std::vector<int> physical;  // parcel indexes unbagged, in scan order
  T anomaly = kNone;
};

struct Vehicle {
  std::string id, seal;
  std::vector<int> bags;
  T anomaly = kNone;
};

struct OutboundBag {
  std::string id;
  int route = 0;
  std::vector<int> parcels;
  T anomaly = kNone;
  int load_route = -1;  // the load it is put on
};

struct Wave {
  int index = 0;
  std::vector<Parcel> parcels;
  std::vector<InboundBag> bags;
  std::vector<Vehicle> vehicles;
  std::vector<int> sorted;  // parcels with a sort scan, in sort order
  std::vector<OutboundBag> out;
};

struct Scanner {
  std::string id, station;
  uint64_t seq = 0;
  int64_t time_ms = 0;
  std::vector<v1::ScanEvent> pending;  // this epoch's events
};

class Generator {
 public:
  Generator(const DayOptions& o, DaySink* sink)
      : o_(o), sink_(sink), rng_(o.seed), aux_(o.seed ^ 0x9e3779b97f4a7c15ull) {
    const auto scanners = DayScanners(o);
    auto add = [&](uint32_t n, std::vector<int>* group) {
      for (uint32_t i = 0; i < n; ++i) {
        const DayScanner& d = scanners[scanners_.size()];
        group->push_back(static_cast<int>(scanners_.size()));
        scanners_.push_back(Scanner{d.id, d.station, 0, o.start_ms, {}});
      }
    };
    add(o.docks, &docks_);
    add(o.tables, &tables_);
    add(o.sorters, &sorters_);
    add(o.baggers, &baggers_);
    add(o.loaders, &loaders_);
  }

  Day Run() {
    const uint64_t per_vehicle = uint64_t{o_.parcels_per_bag} * o_.bags_per_vehicle;
    const uint64_t vehicles_per_wave = std::max<uint64_t>(1, o_.wave_parcels / per_vehicle);
    uint64_t made = 0;
    std::vector<Wave> waves;
    while (made < o_.parcels) {
      waves.push_back(MakeWave(static_cast<int>(waves.size()), vehicles_per_wave, &made));
    }
    const int epochs = static_cast<int>(waves.size()) + 4;
    for (int k = 0; k < epochs; ++k) {
      const int64_t start = o_.start_ms + k * kEpochMs;
      for (auto& s : scanners_) s.time_ms = std::max(s.time_ms, start);
      if (k < static_cast<int>(waves.size())) ReferenceFor(waves[k]);
      if (k - 2 >= 0 && k - 2 < static_cast<int>(waves.size())) Routes(waves[k - 2]);
      if (k < static_cast<int>(waves.size())) Docks(waves[k]);
      if (k - 1 >= 0 && k - 1 < static_cast<int>(waves.size())) Tables(waves[k - 1]);
      if (k - 2 >= 0 && k - 2 < static_cast<int>(waves.size())) Sorters(waves[k - 2]);
      if (k - 3 >= 0 && k - 3 < static_cast<int>(waves.size())) Baggers(waves[k - 3]);
      if (k - 4 >= 0 && k - 4 < static_cast<int>(waves.size())) {
        Loader(waves[k - 4]);
        waves[k - 4] = Wave();  // done: free it
      }
      EmitEpoch(static_cast<uint32_t>(k));
    }
    day_.plan.set_events(events_);
    day_.plan.set_reference_changes(references_);
    day_.plan.set_parcels(made);
    day_.plan.set_scanners(static_cast<uint32_t>(scanners_.size()));
    std::sort(day_.expected.begin(), day_.expected.end(),
              [](const auto& a, const auto& b) { return CaseKey(a) < CaseKey(b); });
    return std::move(day_);
  }

 private:
  double Rate(T type) const {
    auto it = o_.rates.find(type);
    return it == o_.rates.end() ? (OptIn(type) ? 0 : o_.anomaly_percent) : it->second;
  }
  // One draw for a unit: an anomaly from `types` or kNone.
  T Draw(const std::vector<T>& types) {
    double u = std::uniform_real_distribution<double>(0, 100)(rng_);
    for (T t : types) {
      u -= Rate(t);
      if (u < 0) return t;
    }
    return kNone;
  }
  uint64_t Below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  // Draws for weights, readings and codes come from their own stream, so
  // that turning them on leaves the day's anomalies where they were.
  uint64_t AuxBelow(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(aux_); }
  bool AuxPercent(double pct) { return std::uniform_real_distribution<double>(0, 100)(aux_) < pct; }

  std::string ParcelId(uint64_t serial) const {
    if (!o_.s10_ids) return o_.id_prefix + Id("P", serial, 8);
    const std::string digits = Id("", serial, 8);
    return "CP" + digits + std::to_string(core::S10CheckDigit(digits)) + "CN";
  }
  // A parcel id that no parcel of the day has: the second label of an
  // ambiguous read.
  std::string StrangerId(uint64_t serial) const { return ParcelId(serial + 50'000'000); }
  v1::ExceptionCase& Expect(T type) {
    auto& c = day_.expected.emplace_back();
    c.set_type(type);
    return c;
  }

  int NewParcel(Wave& w, uint64_t* made) {
    Parcel p;
    p.serial = ++parcel_counter_;
    p.id = ParcelId(p.serial);
    p.dest = static_cast<uint32_t>(Below(o_.destinations));
    p.weight_g = 200 + AuxBelow(5000);
    w.parcels.push_back(std::move(p));
    ++*made;
    return static_cast<int>(w.parcels.size()) - 1;
  }

  Wave MakeWave(int index, uint64_t vehicles, uint64_t* made) {
    Wave w;
    w.index = index;
    for (uint64_t v = 0; v < vehicles && *made < o_.parcels; ++v) {
      Vehicle veh;
      veh.id = o_.id_prefix + Id("V", ++vehicle_counter_, 5);
      veh.seal = o_.id_prefix + Id("SEAL-", vehicle_counter_, 5);
      veh.anomaly = Draw(kVehicleAnomalies);
      for (uint32_t b = 0; b < o_.bags_per_vehicle && *made < o_.parcels; ++b) {
        InboundBag bag;
        bag.id = o_.id_prefix + Id("IB", ++bag_counter_, 7);
        bag.vehicle = static_cast<int>(w.vehicles.size());
        for (uint32_t i = 0; i < o_.parcels_per_bag && *made < o_.parcels; ++i) {
          const int p = NewParcel(w, made);
          w.parcels[p].inbound_bag = static_cast<int>(w.bags.size());
          w.parcels[p].advised = true;
          bag.advised.push_back(p);
          bag.physical.push_back(p);
        }
        veh.bags.push_back(static_cast<int>(w.bags.size()));
        w.bags.push_back(std::move(bag));
      }
      // An extra bag needs an advice that names the others.
      if (veh.anomaly == v1::BAGS_EXTRA && veh.bags.size() < 2) veh.anomaly = kNone;
      w.vehicles.push_back(std::move(veh));
    }
    // Bag anomalies.
    for (auto& bag : w.bags) {
      if (bag.physical.size() < 2) continue;
      bag.anomaly = Draw(kBagAnomalies);
      if (bag.anomaly == v1::BAG_SHORT) {
        w.parcels[bag.physical.back()].lost = true;
        bag.physical.pop_back();
      } else if (bag.anomaly == v1::BAG_OVER || bag.anomaly == v1::MISBAGGED) {
        // A parcel in the bag that its advice does not name; for BAG_OVER the
        // label counts only the advised ones.
        const int p = NewParcel(w, made);
        w.parcels[p].inbound_bag = static_cast<int>(&bag - w.bags.data());
        bag.physical.insert(bag.physical.begin() + static_cast<long>(Below(bag.physical.size() + 1)), p);
      }
    }
    // Parcel anomalies, for every parcel that is unbagged.
    for (size_t b = 0; b < w.bags.size(); ++b) {
      for (int p : w.bags[b].physical) {
        Parcel& parcel = w.parcels[p];
        if (parcel.inbound_bag != static_cast<int>(b)) continue;  // a duplicate's second bag
        parcel.anomaly = Draw(kParcelAnomalies);
        // A weight the hub does not know cannot be wrong: the first
        // reading becomes the known weight.
        if (parcel.anomaly == v1::WEIGHT_MISMATCH && !parcel.advised) parcel.anomaly = kNone;
        if (parcel.anomaly != v1::DUPLICATE_PARCEL) continue;
        // Also in the next bag on the same table, advised and labelled there.
        const size_t twin = b + o_.tables;
        if (twin >= w.bags.size() || w.bags[twin].anomaly != kNone) {
          parcel.anomaly = kNone;
          continue;
        }
        w.bags[twin].advised.push_back(p);
        w.bags[twin].physical.push_back(p);
      }
    }
    return w;
  }

  std::string LoadId(const Wave& w, int route) const {
    return o_.id_prefix + "L-R" + std::to_string(route) + "-W" + std::to_string(w.index);
  }
  std::string Truck(const Wave& w, int route) const {
    return "TRUCK-R" + std::to_string(route) + "-W" + std::to_string(w.index);
  }
  static std::string RouteCode(int route) { return "R" + std::to_string(route); }
  static std::string Dest(uint32_t d) { return "D" + std::to_string(d); }

  void Reference(const v1::ReferenceChange& c) {
    sink_->Reference(c);
    ++references_;
  }

  // Advices and holds for a wave, before its vehicles arrive.
  void ReferenceFor(const Wave& w) {
    for (size_t v = 0; v < w.vehicles.size(); ++v) {
      const Vehicle& veh = w.vehicles[v];
      v1::ReferenceChange c;
      auto* a = c.mutable_vehicle_advice();
      a->set_vehicle_id(veh.id);
      a->set_route_code("R-IN");
      a->set_seal_id(veh.seal);
      for (size_t i = 0; i < veh.bags.size(); ++i) {
        if (veh.anomaly == v1::BAGS_EXTRA && i == veh.bags.size() - 1) continue;  // not advised
        a->add_bag_ids(w.bags[veh.bags[i]].id);
      }
      if (veh.anomaly == v1::BAGS_MISSING) a->add_bag_ids(veh.id + "-GHOST");
      Reference(c);
    }
    for (const auto& bag : w.bags) {
      v1::ReferenceChange c;
      auto* a = c.mutable_bag_advice();
      a->set_bag_id(bag.id);
      for (int p : bag.advised) a->add_parcel_ids(w.parcels[p].id);
      for (int p : bag.advised) {
        auto* pw = a->add_parcel_weights();
        pw->set_parcel_id(w.parcels[p].id);
        pw->set_weight_g(w.parcels[p].weight_g);
      }
      Reference(c);
    }
    for (const auto& p : w.parcels) {
      if (p.anomaly != v1::HELD_PARCEL) continue;
      v1::ReferenceChange c;
      c.mutable_add_hold()->set_parcel_id(p.id);
      c.mutable_add_hold()->set_reason(v1::HOLD_REASON_CUSTOMER_INTERCEPT);
      Reference(c);
    }
  }

  // The routing table for a wave's sort: every destination to its route and
  // this wave's load on that route.
  void Routes(const Wave& w) {
    v1::ReferenceChange c;
    for (uint32_t d = 0; d < o_.destinations; ++d) {
      auto* e = c.mutable_replace_routes()->add_entries();
      const int route = static_cast<int>(d % o_.routes);
      e->set_destination(Dest(d));
      e->set_route_code(RouteCode(route));
      e->set_chute("C" + std::to_string(d));
      e->set_load_id(LoadId(w, route));
    }
    Reference(c);
  }

  v1::ScanEvent& Scan(int scanner) {
    Scanner& s = scanners_[scanner];
    auto& e = s.pending.emplace_back();
    e.set_scanner_id(s.id);
    e.set_seq(++s.seq);
    s.time_ms += 50;
    e.set_event_time_ms(s.time_ms);
    e.set_station(s.station);
    return e;
  }

  void Docks(const Wave& w) {
    for (size_t v = 0; v < w.vehicles.size(); ++v) {
      const Vehicle& veh = w.vehicles[v];
      const int dock = docks_[v % docks_.size()];
      auto* a = Scan(dock).mutable_vehicle_arrived();
      a->set_vehicle_id(veh.id);
      a->set_route_code("R-IN");
      a->set_seal_id(veh.anomaly == v1::SEAL_MISMATCH ? veh.seal + "-X" : veh.seal);
      a->set_seal_intact(veh.anomaly != v1::SEAL_BROKEN);
      a->set_gross_weight_g(8'000'000 + Below(4'000'000));
      for (int b : veh.bags) {
        const InboundBag& bag = w.bags[b];
        auto* u = Scan(dock).mutable_bag_unloaded();
        u->set_bag_id(bag.id);
        u->set_vehicle_id(veh.id);
        // BAG_OVER's label counts the advised parcels; MISBAGGED's all.
        uint32_t label = static_cast<uint32_t>(bag.advised.size());
        if (bag.anomaly == v1::MISBAGGED) label = static_cast<uint32_t>(bag.physical.size());
        u->set_label_count(label);
        u->set_weight_g(label * 900);
      }
      Scan(dock).mutable_vehicle_unloaded()->set_vehicle_id(veh.id);
      if (veh.anomaly != kNone) Expect(veh.anomaly).set_vehicle_id(veh.id);
    }
  }

  void Tables(Wave& w) {
    for (size_t b = 0; b < w.bags.size(); ++b) {
      const InboundBag& bag = w.bags[b];
      const std::string& vid = w.vehicles[bag.vehicle].id;
      const int table = tables_[b % tables_.size()];
      Scan(table).mutable_bag_opened()->set_bag_id(bag.id);
      for (int p : bag.physical) {
        Parcel& parcel = w.parcels[p];
        auto* u = Scan(table).mutable_parcel_unbagged();
        u->set_parcel_id(parcel.id);
        u->set_bag_id(bag.id);
        if (std::find(bag.advised.begin(), bag.advised.end(), p) == bag.advised.end()) {
          auto& c = Expect(v1::MISBAGGED);
          c.set_parcel_id(parcel.id);
          c.set_bag_id(bag.id);
          c.set_vehicle_id(vid);
        }
        if (parcel.anomaly == v1::DUPLICATE_PARCEL && parcel.inbound_bag != static_cast<int>(b)) {
          auto& c = Expect(v1::DUPLICATE_PARCEL);
          c.set_parcel_id(parcel.id);
          c.set_bag_id(bag.id);
        }
        if (parcel.anomaly == v1::HELD_PARCEL) Expect(v1::HELD_PARCEL).set_parcel_id(parcel.id);
        if (parcel.anomaly == v1::DAMAGED && parcel.inbound_bag == static_cast<int>(b)) {
          auto* d = Scan(table).mutable_parcel_damaged();
          d->set_parcel_id(parcel.id);
          d->set_weight_g(700);
          d->set_note("torn wrapping");
          auto& c = Expect(v1::DAMAGED);
          c.set_parcel_id(parcel.id);
          c.set_bag_id(bag.id);
        }
      }
      Scan(table).mutable_bag_emptied()->set_bag_id(bag.id);
      if (bag.anomaly == v1::BAG_SHORT || bag.anomaly == v1::BAG_OVER) {
        auto& c = Expect(bag.anomaly);
        c.set_bag_id(bag.id);
        c.set_vehicle_id(vid);
      }
    }
  }

  void Sorters(Wave& w) {
    size_t n = 0;
    for (const auto& bag : w.bags) {
      for (int p : bag.physical) {
        Parcel& parcel = w.parcels[p];
        if (&bag - w.bags.data() != parcel.inbound_bag) continue;  // a duplicate's twin: sorted once
        auto* s = Scan(sorters_[n++ % sorters_.size()]).mutable_parcel_sorted();
        s->set_parcel_id(parcel.id);
        s->set_destination(Dest(parcel.dest));
        s->set_weight_g(parcel.weight_g);
        s->set_service_class(v1::SERVICE_CLASS_STANDARD);
        Reading(parcel, s);
        switch (parcel.anomaly) {
          case v1::NO_READ:
            s->clear_parcel_id();
            s->set_read(v1::READ_NO_READ);
            Expect(v1::NO_READ);
            continue;
          case v1::AMBIGUOUS_READ: {
            // Two parcel labels (and the destination label) in one read:
            // diverted like a no-read, the case names every code.
            s->clear_parcel_id();
            s->set_read(v1::READ_AMBIGUOUS);
            s->add_read_codes(parcel.id);
            s->add_read_codes(StrangerId(parcel.serial));
            s->add_read_codes(Dest(parcel.dest));
            auto& c = Expect(v1::AMBIGUOUS_READ);
            *c.mutable_read_codes() = s->read_codes();
            continue;
          }
          case v1::WEIGHT_MISMATCH: {
            // The case names the bag the parcel came out of.
            auto& c = Expect(v1::WEIGHT_MISMATCH);
            c.set_parcel_id(parcel.id);
            c.set_bag_id(bag.id);
            break;
          }
          case v1::NO_ROUTE:
            s->set_destination("D-UNKNOWN");
            Expect(v1::NO_ROUTE).set_parcel_id(parcel.id);
            continue;
          case v1::HELD_PARCEL:
            Expect(v1::HELD_PARCEL).set_parcel_id(parcel.id);
            continue;
          default: break;
        }
        parcel.route = static_cast<int>(parcel.dest % o_.routes);
        w.sorted.push_back(p);
      }
    }
  }

  // The DWS reading and the extra codes of a sort scan (aux draws, made for
  // every scan whatever its anomaly, so the stream stays aligned).
  void Reading(const Parcel& parcel, v1::ParcelSorted* s) {
    const bool measured = AuxPercent(o_.dws_percent);
    const bool scale_error = AuxPercent(5);
    const bool multi = AuxPercent(o_.multi_read_percent);
    const uint64_t noise = AuxBelow(61);  // -30..+30 g: inside any tolerance (>= 50 g)
    const uint64_t size = AuxBelow(400);
    if (parcel.anomaly == v1::WEIGHT_MISMATCH) {
      // Far outside max(50 g, 5 %): twice the weight and a kilogram more.
      auto* m = s->mutable_measurement();
      m->set_weight_g(parcel.weight_g * 2 + 1000);
      m->set_length_mm(200 + static_cast<uint32_t>(size));
      m->set_width_mm(150);
      m->set_height_mm(100);
      m->set_legal_for_trade(true);
      s->set_weight_g(m->weight_g());
    } else if (measured) {
      auto* m = s->mutable_measurement();
      m->set_length_mm(200 + static_cast<uint32_t>(size));
      m->set_width_mm(150);
      m->set_height_mm(100);
      m->set_volume_cm3(uint64_t{m->length_mm()} * 150 * 100 / 1000);
      if (scale_error) {
        m->set_weight_g(parcel.weight_g * 7 + 12'345);
        m->set_scale_error(true);
      } else {
        m->set_weight_g(parcel.weight_g + noise - 30);
        m->set_legal_for_trade(true);
        s->set_weight_g(m->weight_g());
      }
    }
    if (multi && parcel.anomaly != v1::NO_READ && parcel.anomaly != v1::AMBIGUOUS_READ) {
      s->set_read(v1::READ_SINGLE);
      s->add_read_codes(parcel.id);
      s->add_read_codes("RL-" + Dest(parcel.dest));
    }
  }

  void Baggers(Wave& w) {
    // Bags per route, filled in sort order.
    std::vector<std::vector<int>> by_route(o_.routes);
    for (int p : w.sorted)
      if (w.parcels[p].anomaly != v1::LEFT_BEHIND) by_route[w.parcels[p].route].push_back(p);
    std::vector<int> first_bag(o_.routes, -1);
    std::vector<int> missorted;
    for (uint32_t r = 0; r < o_.routes; ++r) {
      for (size_t i = 0; i < by_route[r].size(); ++i) {
        const int p = by_route[r][i];
        if (w.parcels[p].anomaly == v1::MISSORT) {
          missorted.push_back(p);
          continue;
        }
        if (w.out.empty() || w.out.back().route != static_cast<int>(r) ||
            w.out.back().parcels.size() >= o_.parcels_per_bag) {
          OutboundBag bag;
          bag.id = o_.id_prefix + Id("OB", ++out_counter_, 7);
          bag.route = static_cast<int>(r);
          bag.load_route = static_cast<int>(r);
          if (first_bag[r] < 0) first_bag[r] = static_cast<int>(w.out.size());
          w.out.push_back(std::move(bag));
        }
        w.out.back().parcels.push_back(p);
        w.parcels[p].outbound_bag = static_cast<int>(w.out.size()) - 1;
      }
    }
    // A missorted parcel goes into a bag of another route.
    for (int p : missorted) {
      Parcel& parcel = w.parcels[p];
      int target = -1;
      for (uint32_t k = 1; k < o_.routes && target < 0; ++k)
        target = first_bag[(parcel.route + k) % o_.routes];
      if (target < 0) target = first_bag[parcel.route];
      if (target < 0) {  // no bag at all in this wave: left unbagged
        continue;
      }
      auto& bag = w.out[target];
      bag.parcels.push_back(p);
      parcel.outbound_bag = target;
      if (bag.route != parcel.route) {
        auto& c = Expect(v1::MISSORT);
        c.set_parcel_id(parcel.id);
        c.set_bag_id(bag.id);
        c.set_load_id(LoadId(w, parcel.route));
      }
    }
    std::vector<int> routes_with_bags;
    for (uint32_t r = 0; r < o_.routes; ++r)
      if (first_bag[r] >= 0) routes_with_bags.push_back(static_cast<int>(r));
    for (size_t b = 0; b < w.out.size(); ++b) {
      OutboundBag& bag = w.out[b];
      bag.anomaly = Draw(kOutboundAnomalies);
      if (bag.anomaly == v1::MISLOAD) {
        if (routes_with_bags.size() < 2) {
          bag.anomaly = kNone;
        } else {
          auto at = std::find(routes_with_bags.begin(), routes_with_bags.end(), bag.route);
          bag.load_route = *(++at == routes_with_bags.end() ? routes_with_bags.begin() : at);
        }
      }
      const int bagger = baggers_[b % baggers_.size()];
      auto* c = Scan(bagger).mutable_bag_created();
      c->set_bag_id(bag.id);
      c->set_destination(RouteCode(bag.route));
      for (int p : bag.parcels) {
        auto* x = Scan(bagger).mutable_parcel_bagged();
        x->set_parcel_id(w.parcels[p].id);
        x->set_bag_id(bag.id);
      }
      if (bag.anomaly == v1::UNCLOSED_BAG_LOADED) continue;
      auto* close = Scan(bagger).mutable_bag_closed();
      close->set_bag_id(bag.id);
      const uint32_t count = static_cast<uint32_t>(bag.parcels.size());
      close->set_label_count(bag.anomaly == v1::BAG_LABEL_MISMATCH ? count + 1 : count);
      if (bag.anomaly == v1::BAG_LABEL_MISMATCH) Expect(v1::BAG_LABEL_MISMATCH).set_bag_id(bag.id);
    }
  }

  void Loader(Wave& w) {
    const int loader = loaders_[w.index % loaders_.size()];
    std::set<int> routes;  // every route with routed parcels or bags
    for (int p : w.sorted) routes.insert(w.parcels[p].route);
    for (const auto& bag : w.out) routes.insert(bag.load_route);
    for (int r : routes) {
      auto* o = Scan(loader).mutable_load_opened();
      o->set_load_id(LoadId(w, r));
      o->set_vehicle_id(Truck(w, r));
      o->set_route_code(RouteCode(r));
    }
    std::map<int, std::vector<int>> on_load;  // route of the load -> bags
    for (size_t b = 0; b < w.out.size(); ++b) {
      const OutboundBag& bag = w.out[b];
      auto* l = Scan(loader).mutable_bag_loaded();
      l->set_bag_id(bag.id);
      l->set_load_id(LoadId(w, bag.load_route));
      on_load[bag.load_route].push_back(static_cast<int>(b));
      if (bag.anomaly == v1::UNCLOSED_BAG_LOADED || bag.anomaly == v1::MISLOAD) {
        auto& c = Expect(bag.anomaly);
        c.set_bag_id(bag.id);
        c.set_load_id(LoadId(w, bag.load_route));
        c.set_vehicle_id(Truck(w, bag.load_route));
      }
    }
    // Departures in route order. A load leaves behind the parcels routed to
    // it that are in none of its bags (and still in the hub); the parcels in
    // its bags leave with it, whatever load they were routed to.
    std::map<int, std::set<std::string>> routed;
    std::map<std::string, int> index_of;
    for (int p : w.sorted) {
      routed[w.parcels[p].route].insert(w.parcels[p].id);
      index_of[w.parcels[p].id] = p;
    }
    for (int r : routes) {
      auto* d = Scan(loader).mutable_load_departed();
      d->set_load_id(LoadId(w, r));
      d->set_seal_id("SEAL-" + LoadId(w, r));
      std::set<std::string> aboard;
      for (int b : on_load[r])
        for (int p : w.out[b].parcels) aboard.insert(w.parcels[p].id);
      for (const auto& pid : routed[r]) {
        if (aboard.count(pid)) continue;
        Parcel& parcel = w.parcels[index_of[pid]];
        auto& c = Expect(v1::LEFT_BEHIND);
        c.set_parcel_id(pid);
        c.set_load_id(LoadId(w, r));
        c.set_vehicle_id(Truck(w, r));
        if (parcel.outbound_bag >= 0) c.set_bag_id(w.out[parcel.outbound_bag].id);
        parcel.route = -1;  // must be routed again
      }
      routed[r].clear();
      for (int b : on_load[r]) {
        for (int p : w.out[b].parcels) {
          Parcel& parcel = w.parcels[p];
          if (parcel.outbound_bag != b || !parcel.live) continue;
          parcel.live = false;
          if (parcel.route >= 0) routed[parcel.route].erase(parcel.id);
        }
      }
    }
  }

  // Writes this epoch's events, the scanners interleaved at random in short
  // runs, each scanner's in its own order; draws the resends.
  void EmitEpoch(uint32_t epoch) {
    std::vector<int> active;
    std::vector<size_t> next(scanners_.size(), 0);
    for (size_t i = 0; i < scanners_.size(); ++i)
      if (!scanners_[i].pending.empty()) active.push_back(static_cast<int>(i));
    const std::vector<int> worked = active;
    while (!active.empty()) {
      const size_t pick = Below(active.size());
      Scanner& s = scanners_[active[pick]];
      size_t& at = next[active[pick]];
      for (uint64_t run = 1 + Below(8); run > 0 && at < s.pending.size(); --run) {
        sink_->Event(s.pending[at++]);
        ++events_;
      }
      if (at == s.pending.size()) {
        s.pending.clear();
        active.erase(active.begin() + static_cast<long>(pick));
      }
    }
    auto* e = day_.plan.add_epochs();
    e->set_events_end(events_);
    e->set_reference_end(references_);
    for (int i : worked) {
      if (std::uniform_real_distribution<double>(0, 100)(rng_) >= o_.resend_percent) continue;
      auto* r = day_.plan.add_resends();
      r->set_epoch(epoch);
      r->set_scanner_id(scanners_[i].id);
      r->set_frames(static_cast<uint32_t>(1 + Below(8)));
    }
  }

  const DayOptions& o_;
  DaySink* sink_;
  std::mt19937_64 rng_, aux_;
  std::vector<Scanner> scanners_;
  std::vector<int> docks_, tables_, sorters_, baggers_, loaders_;
  uint64_t parcel_counter_ = 0, bag_counter_ = 0, vehicle_counter_ = 0, out_counter_ = 0;
  uint64_t events_ = 0, references_ = 0;
  Day day_;
};

}  // namespace

std::string CheckOptions(const DayOptions& o) {
  if (o.parcels == 0) return "--parcels must be at least 1";
  if (o.parcels_per_bag == 0 || o.bags_per_vehicle == 0 || o.destinations == 0 || o.routes == 0)
    return "parcels per bag, bags per vehicle, destinations and routes must be at least 1";
  if (o.docks == 0 || o.tables == 0 || o.sorters == 0 || o.baggers == 0 || o.loaders == 0)
    return "every station needs at least one scanner";
  auto sum = [&](const std::vector<T>& types) {
    double s = 0;
    for (T t : types) {
      auto it = o.rates.find(t);
      s += it == o.rates.end() ? o.anomaly_percent : it->second;
    }
    return s;
  };
  for (const auto* group : {&kVehicleAnomalies, &kBagAnomalies, &kParcelAnomalies, &kOutboundAnomalies})
    if (sum(*group) > 100) return "the rates of anomalies drawn for one kind of unit add up to more than 100 %";
  if (o.anomaly_percent < 0 || o.resend_percent < 0 || o.resend_percent > 100)
    return "rates are percentages from 0 to 100";
  for (const auto& [t, r] : o.rates)
    if (r < 0 || r > 100) return "rates are percentages from 0 to 100";
  for (double r : {o.dws_percent, o.multi_read_percent})
    if (r < 0 || r > 100) return "rates are percentages from 0 to 100";
  if (o.s10_ids && !o.id_prefix.empty()) return "S10 parcel ids have no room for an id prefix";
  if (o.s10_ids && o.parcels > 49'000'000) return "S10 parcel ids: at most 49,000,000 parcels";
  return "";
}

std::vector<DayScanner> DayScanners(const DayOptions& o) {
  std::vector<DayScanner> out;
  auto add = [&](const char* kind, uint32_t n, bool sorts) {
    for (uint32_t i = 1; i <= n; ++i) {
      const std::string id = o.id_prefix + Id(kind, i, 2);
      out.push_back(DayScanner{id, id, sorts});
    }
  };
  add("DOCK-", o.docks, false);
  add("TABLE-", o.tables, false);
  add("SORTER-", o.sorters, true);
  add("BAGGER-", o.baggers, false);
  add("LOADER-", o.loaders, false);
  return out;
}

Day GenerateDay(const DayOptions& options, DaySink* sink) {
  return Generator(options, sink).Run();
}

std::string CaseKey(const v1::ExceptionCase& c) {
  std::string k = v1::ExceptionType_Name(c.type());
  if (!c.vehicle_id().empty()) k += " vehicle=" + c.vehicle_id();
  if (!c.bag_id().empty()) k += " bag=" + c.bag_id();
  if (!c.parcel_id().empty()) k += " parcel=" + c.parcel_id();
  if (!c.load_id().empty()) k += " load=" + c.load_id();
  for (int i = 0; i < c.read_codes_size(); ++i) k += (i == 0 ? " codes=" : ",") + c.read_codes(i);
  return k;
}

std::string ParcelPattern(const DayOptions& o) {
  if (o.s10_ids) return "CP[0-9]{9}CN";
  std::string escaped;
  for (char ch : o.id_prefix) {
    if (std::string_view("\\^$.|?*+()[]{}").find(ch) != std::string_view::npos) escaped += '\\';
    escaped += ch;
  }
  return escaped + "P[0-9]{8}";
}

std::string DestinationPattern() { return "D[0-9]+|D-UNKNOWN"; }

}  // namespace hub::tools
