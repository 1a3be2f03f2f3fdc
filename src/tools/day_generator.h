#pragma once

// A synthetic hub day for load tests and verified replays (SPEC §5 "Tools").
//
// The day is a sequence of waves; each wave is a few inbound vehicles with
// their bags and parcels, and passes five stations one epoch apart:
//
//   epoch w     docks     vehicle arrivals, bag unload scans, unload ends
//   epoch w+1   tables    bags opened, parcels unbagged, bags emptied
//   epoch w+2   sorters   sort scans (routes for wave w loaded just before)
//   epoch w+3   baggers   outbound bags made, filled and closed
//   epoch w+4   loader    loads opened, bags loaded, loads departed
//
// so every station works at once on different waves, and everything one
// entity goes through at one station happens on one scanner. The anomalies
// of SPEC §4 are injected at their rates, and the generator writes down the
// exception each must raise (type and ids), from its own model of the
// process rules, so a replay can be checked against it.
//
// Deterministic: the same options give the same day, byte for byte.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hub/v1/event.pb.h"
#include "hub/v1/exception.pb.h"
#include "hub/v1/reference.pb.h"
#include "hub/v1/replay.pb.h"

namespace hub::tools {

struct DayOptions {
  uint64_t seed = 1;
  uint64_t parcels = 10'000;
  uint32_t parcels_per_bag = 30;
  uint32_t bags_per_vehicle = 10;
  uint32_t destinations = 40;
  uint32_t routes = 8;             // outbound routes: one load each per wave
  uint32_t wave_parcels = 3'000;   // parcels per wave (rounded to vehicles)
  uint32_t docks = 2, tables = 6, sorters = 4, baggers = 6, loaders = 2;
  // Percent of the opportunities that get each anomaly (per vehicle, inbound
  // bag, parcel or outbound bag, as fits the type), unless `rates` names it.
  // WEIGHT_MISMATCH and AMBIGUOUS_READ (issue 13: DWS readings and read
  // codes) come only at the rate `rates` gives them: 0 by default.
  double anomaly_percent = 0.5;
  std::map<v1::ExceptionType, double> rates;
  // Percent of (scanner, epoch) pairs after which the scanner reconnects and
  // re-sends its last frames.
  double resend_percent = 0;
  // Percent of sort scans that come with a DWS reading (weight, size): the
  // measured weight is the parcel's advised weight within a few grams, well
  // inside HubSettings' tolerance; one reading in 20 of them is flagged as
  // a scale error with a wild weight (which must raise nothing).
  double dws_percent = 0;
  // Percent of sort scans that read an extra code beside the parcel id (a
  // routing label, "RL-D<n>", that is no parcel id): still READ_SINGLE,
  // routed as usual.
  double multi_read_percent = 0;
  // Parcel ids are valid UPU S10 ids ("CP" + 8 digits + check digit + "CN")
  // instead of "P" + 8 digits. Not with id_prefix (an S10 id has no room).
  bool s10_ids = false;
  // When the day starts (its first events' time), and a prefix for every
  // parcel, bag, vehicle, seal, load and scanner id, so that several days
  // can go through one hub (multi-day soak tests).
  int64_t start_ms = 1'795'766'400'000;  // 2026-11-27T08:00:00Z
  std::string id_prefix;
};

// Checks the options; returns an error message or "".
std::string CheckOptions(const DayOptions& options);

// Receives the day as it is generated.
class DaySink {
 public:
  virtual ~DaySink() = default;
  virtual void Reference(const v1::ReferenceChange& change) = 0;
  virtual void Event(const v1::ScanEvent& event) = 0;
};

// The scanners of a day, in the order the generator makes them, and the
// one kind of event each sends (sorters: PARCEL_SORTED only).
struct DayScanner {
  std::string id, station;
  bool sorts_only = false;
};
std::vector<DayScanner> DayScanners(const DayOptions& options);

struct Day {
  v1::ReplayPlan plan;
  std::vector<v1::ExceptionCase> expected;  // type and ids only, sorted
};

Day GenerateDay(const DayOptions& options, DaySink* sink);

// The part of a case a verification compares: its type and the ids it
// names ("LEFT_BEHIND vehicle=T1 bag=OB1 parcel=P1 load=L1"), and the codes
// of the read, in order, when the case has them
// ("AMBIGUOUS_READ codes=P1,P50000001,D3").
std::string CaseKey(const v1::ExceptionCase& c);

// The parcel id patterns (ECMAScript, whole code) and the destination
// pattern that tell a generated day's codes apart (hubgen --telegram writes
// them into devices.toml): parcel ids are parcel ids, "D<n>" and
// "D-UNKNOWN" are destination labels, routing labels match neither.
std::string ParcelPattern(const DayOptions& options);
std::string DestinationPattern();

}  // namespace hub::tools
