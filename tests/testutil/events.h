#pragma once

// Builders for scan events and reference data, a printer for cases, and a
// deterministic generator of realistic hub traffic, shared by tests and
// benchmarks.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/hub_state.h"
#include "hub/v1/event.pb.h"
#include "hub/v1/exception.pb.h"
#include "hub/v1/record.pb.h"
#include "hub/v1/reference.pb.h"

namespace hub::testutil {

// A scanner that numbers its events 1, 2, 3, ... Each builder returns the
// next event of this scanner.
class Scanner {
 public:
  explicit Scanner(std::string id, std::string station = "");

  v1::ScanEvent VehicleArrived(const std::string& vehicle, const std::string& seal,
                               bool intact = true, std::optional<uint32_t> advised_bags = {});
  v1::ScanEvent BagUnloaded(const std::string& bag, const std::string& vehicle,
                            std::optional<uint32_t> label_count = {});
  v1::ScanEvent VehicleUnloaded(const std::string& vehicle);
  v1::ScanEvent BagOpened(const std::string& bag);
  v1::ScanEvent ParcelUnbagged(const std::string& parcel, const std::string& bag);
  v1::ScanEvent BagEmptied(const std::string& bag);
  v1::ScanEvent ParcelSorted(const std::string& parcel, const std::string& destination);
  v1::ScanEvent BagCreated(const std::string& bag, const std::string& route);
  v1::ScanEvent ParcelBagged(const std::string& parcel, const std::string& bag);
  v1::ScanEvent BagClosed(const std::string& bag, uint32_t count);
  v1::ScanEvent LoadOpened(const std::string& load, const std::string& vehicle,
                           const std::string& route);
  v1::ScanEvent BagLoaded(const std::string& bag, const std::string& load);
  v1::ScanEvent LoadDeparted(const std::string& load, const std::string& seal);
  v1::ScanEvent HoldPlaced(const std::string& parcel, v1::HoldReason reason);
  v1::ScanEvent HoldReleased(const std::string& parcel);
  v1::ScanEvent ParcelDamaged(const std::string& parcel, uint64_t weight_g);

  uint64_t seq() const { return seq_; }
  // Rewinds the numbering so the next event re-uses `seq` + 1 (a re-send).
  void Rewind(uint64_t seq) { seq_ = seq; }
  // Moves this scanner's clock on by `ms` (its next event is that much later).
  void Wait(int64_t ms) { time_ms_ += ms; }
  // The time of this scanner's last event (its clock).
  int64_t time_ms() const { return time_ms_; }

 private:
  v1::ScanEvent Next();
  std::string id_, station_;
  uint64_t seq_ = 0;
  int64_t time_ms_ = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
};

v1::ReferenceChange RouteRef(const std::string& destination, const std::string& route,
                             const std::string& chute, const std::string& load);
v1::ReferenceChange VehicleAdviceRef(const std::string& vehicle, const std::string& seal,
                                     const std::vector<std::string>& bags);
v1::ReferenceChange BagAdviceRef(const std::string& bag, const std::vector<std::string>& parcels);
v1::ReferenceChange HoldRef(const std::string& parcel, v1::HoldReason reason);
v1::ReferenceChange SettingsRef(uint32_t dwell_hours, uint32_t forget_after_days);

// Event seq n of one scanner's endless stream, a fixed function of n (so a
// re-send after a crash is the same event): a sort, an unbagging, a bagging
// or a damaged parcel (a case), in turn.
v1::ScanEvent EventNumber(const std::string& scanner, uint64_t n);

v1::LogRecord Record(const v1::ScanEvent& e);
v1::LogRecord Record(const v1::ReferenceChange& c);

// "BAG_SHORT bag=B1 vehicle=V1 expected=3 actual=2 missing=[P3]": type, every
// id set, counts, id lists (missing, unexpected, read codes) and weights
// ("known=1000g measured=1520g"); no case id, status, times or detail text.
std::string Describe(const v1::ExceptionCase& c);
// Describe() of each case, joined with "; ".
std::string Describe(const std::vector<v1::ExceptionCase>& cases);

// A deterministic hub day of about `events` records for `seed`: reference
// data, then inbound vehicles, unbagging, sorting, bagging, loading and
// departures interleaved across scanners, with a sprinkling of every anomaly.
std::vector<v1::LogRecord> GenerateDay(uint64_t seed, size_t events);

}  // namespace hub::testutil
