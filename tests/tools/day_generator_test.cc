// The hub day generator and the replay's latency histogram: pure, no daemon.

#include "tools/day_generator.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/upu.h"
#include "tools/latency_histogram.h"

namespace hub::testing {
namespace {

struct MemorySink : tools::DaySink {
  std::string bytes;
  size_t events = 0, references = 0;
  void Reference(const v1::ReferenceChange& c) override {
    bytes += c.SerializeAsString();
    ++references;
  }
  void Event(const v1::ScanEvent& e) override {
    bytes += e.SerializeAsString();
    ++events;
  }
};

tools::DayOptions EveryAnomaly() {
  tools::DayOptions o;
  o.seed = 5;
  o.parcels = 6'000;
  o.bags_per_vehicle = 5;
  o.anomaly_percent = 2;
  for (auto t : {v1::SEAL_BROKEN, v1::SEAL_MISMATCH, v1::BAGS_MISSING, v1::BAGS_EXTRA})
    o.rates[t] = 10;
  for (auto t : {v1::BAG_SHORT, v1::BAG_OVER, v1::MISBAGGED, v1::BAG_LABEL_MISMATCH, v1::MISLOAD,
                 v1::UNCLOSED_BAG_LOADED})
    o.rates[t] = 5;
  o.resend_percent = 10;
  return o;
}

TEST(DayGeneratorTest, SameSeedAndOptionsGiveTheSameDay) {
  MemorySink a, b, c;
  const auto o = EveryAnomaly();
  const auto day_a = tools::GenerateDay(o, &a);
  const auto day_b = tools::GenerateDay(o, &b);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(day_a.plan.SerializeAsString(), day_b.plan.SerializeAsString());
  ASSERT_EQ(day_a.expected.size(), day_b.expected.size());
  auto other = o;
  other.seed = 6;
  tools::GenerateDay(other, &c);
  EXPECT_NE(a.bytes, c.bytes);
}

TEST(DayGeneratorTest, EveryAnomalyTypeIsExpectedAndThePlanCoversTheStream) {
  MemorySink sink;
  const auto day = tools::GenerateDay(EveryAnomaly(), &sink);
  std::set<v1::ExceptionType> types;
  for (const auto& c : day.expected) types.insert(c.type());
  EXPECT_EQ(types.size(), 17u);  // every type of SPEC §4
  EXPECT_GE(day.plan.parcels(), 6'000u);
  EXPECT_EQ(day.plan.events(), sink.events);
  EXPECT_EQ(day.plan.reference_changes(), sink.references);
  ASSERT_GT(day.plan.epochs_size(), 4);
  EXPECT_EQ(day.plan.epochs(day.plan.epochs_size() - 1).events_end(), sink.events);
  EXPECT_GT(day.plan.resends_size(), 0);
}

TEST(DayGeneratorTest, RatesThatCannotAllHappenAreRefused) {
  tools::DayOptions o;
  o.rates[v1::NO_ROUTE] = 60;
  o.rates[v1::NO_READ] = 60;  // both drawn per parcel: 120 %
  EXPECT_NE(tools::CheckOptions(o), "");
  o.rates[v1::NO_READ] = 10;
  EXPECT_EQ(tools::CheckOptions(o), "");
  o.tables = 0;
  EXPECT_NE(tools::CheckOptions(o), "");
}

// Keeps the day's messages.
struct KeepSink : tools::DaySink {
  std::vector<v1::ReferenceChange> references;
  std::vector<v1::ScanEvent> events;
  void Reference(const v1::ReferenceChange& c) override { references.push_back(c); }
  void Event(const v1::ScanEvent& e) override { events.push_back(e); }
};

tools::DayOptions WithReadings() {
  tools::DayOptions o;
  o.seed = 11;
  o.parcels = 6'000;
  o.anomaly_percent = 1;
  o.dws_percent = 40;
  o.multi_read_percent = 15;
  o.rates[v1::WEIGHT_MISMATCH] = 1;
  o.rates[v1::AMBIGUOUS_READ] = 1;
  return o;
}

TEST(DayGeneratorTest, NewTypesComeOnlyWhenAskedForAndReadingsOnlyWithTheirRates) {
  KeepSink sink;
  const auto day = tools::GenerateDay(EveryAnomaly(), &sink);
  for (const auto& c : day.expected) {
    EXPECT_NE(c.type(), v1::WEIGHT_MISMATCH);
    EXPECT_NE(c.type(), v1::AMBIGUOUS_READ);
  }
  for (const auto& e : sink.events) {
    EXPECT_FALSE(e.parcel_sorted().has_measurement());
    EXPECT_EQ(e.parcel_sorted().read_codes_size(), 0);
  }
}

// The generator's expectations against the weight rule of the contract:
// the known weight is the bag advice's; a trusted reading outside
// max(50 g, 5 %) raises WEIGHT_MISMATCH once; a scale error never does.
TEST(DayGeneratorTest, WeightMismatchesAreExactlyTheReadingsOutsideTheTolerance) {
  KeepSink sink;
  const auto day = tools::GenerateDay(WithReadings(), &sink);
  std::map<std::string, uint64_t> known;
  for (const auto& r : sink.references) {
    if (!r.has_bag_advice()) continue;
    EXPECT_EQ(r.bag_advice().parcel_weights_size(), r.bag_advice().parcel_ids_size());
    for (const auto& w : r.bag_advice().parcel_weights()) {
      EXPECT_GE(w.weight_g(), 200u);
      known.try_emplace(w.parcel_id(), w.weight_g());
    }
  }
  std::multiset<std::string> raised, expected;
  int measured = 0, scale_errors = 0;
  for (const auto& e : sink.events) {
    if (!e.has_parcel_sorted() || !e.parcel_sorted().has_measurement()) continue;
    ++measured;
    const auto& m = e.parcel_sorted().measurement();
    if (m.scale_error()) {
      ++scale_errors;
      continue;
    }
    auto k = known.find(e.parcel_sorted().parcel_id());
    if (k == known.end()) continue;
    const uint64_t K = k->second, M = m.weight_g();
    if ((M > K ? M - K : K - M) > std::max<uint64_t>(50, K * 5 / 100)) raised.insert(k->first);
  }
  for (const auto& c : day.expected)
    if (c.type() == v1::WEIGHT_MISMATCH) expected.insert(c.parcel_id());
  EXPECT_GT(measured, 1'500);
  EXPECT_GT(scale_errors, 20);
  EXPECT_GT(expected.size(), 20u);
  EXPECT_EQ(raised, expected);
}

TEST(DayGeneratorTest, AmbiguousReadsNameEveryCodeAndMultiReadsStillNameTheParcel) {
  KeepSink sink;
  const auto day = tools::GenerateDay(WithReadings(), &sink);
  std::multiset<std::string> ambiguous, expected;
  int multi = 0;
  for (const auto& e : sink.events) {
    const auto& s = e.parcel_sorted();
    if (s.read() == v1::READ_AMBIGUOUS) {
      EXPECT_TRUE(s.parcel_id().empty());
      ASSERT_EQ(s.read_codes_size(), 3);
      EXPECT_NE(s.read_codes(0), s.read_codes(1));
      EXPECT_EQ(s.read_codes(2), s.destination());
      v1::ExceptionCase c;
      c.set_type(v1::AMBIGUOUS_READ);
      *c.mutable_read_codes() = s.read_codes();
      ambiguous.insert(tools::CaseKey(c));
    } else if (s.read_codes_size() > 0) {
      ++multi;
      EXPECT_EQ(s.read(), v1::READ_SINGLE);
      ASSERT_EQ(s.read_codes_size(), 2);
      EXPECT_EQ(s.read_codes(0), s.parcel_id());
      EXPECT_EQ(s.read_codes(1).rfind("RL-D", 0), 0u) << s.read_codes(1);  // a routing label
    }
  }
  for (const auto& c : day.expected)
    if (c.type() == v1::AMBIGUOUS_READ) expected.insert(tools::CaseKey(c));
  EXPECT_GT(expected.size(), 20u);
  EXPECT_EQ(ambiguous, expected);
  EXPECT_GT(multi, 500);
  ASSERT_FALSE(expected.empty());
  EXPECT_NE(expected.begin()->find("AMBIGUOUS_READ codes=P"), std::string::npos) << *expected.begin();
}

TEST(DayGeneratorTest, ReadingsDoNotMoveTheAnomaliesAndTheDayStaysDeterministic) {
  auto plain = WithReadings();
  plain.dws_percent = 0;
  plain.multi_read_percent = 0;
  MemorySink a, b, c;
  const auto with = tools::GenerateDay(WithReadings(), &a);
  const auto again = tools::GenerateDay(WithReadings(), &b);
  const auto without = tools::GenerateDay(plain, &c);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_NE(a.bytes, c.bytes);
  ASSERT_EQ(with.expected.size(), without.expected.size());
  for (size_t i = 0; i < with.expected.size(); ++i)
    EXPECT_EQ(tools::CaseKey(with.expected[i]), tools::CaseKey(without.expected[i]));
}

TEST(DayGeneratorTest, S10IdsAreValidAndTheirPatternMatchesThem) {
  auto o = WithReadings();
  o.s10_ids = true;
  KeepSink sink;
  tools::GenerateDay(o, &sink);
  int sorted = 0;
  for (const auto& e : sink.events) {
    if (!e.has_parcel_sorted() || e.parcel_sorted().parcel_id().empty()) continue;
    ++sorted;
    EXPECT_TRUE(core::ValidS10(e.parcel_sorted().parcel_id())) << e.parcel_sorted().parcel_id();
  }
  EXPECT_GT(sorted, 5'000);
  EXPECT_EQ(tools::ParcelPattern(o), "CP[0-9]{9}CN");
  o.id_prefix = "D2-";
  EXPECT_NE(tools::CheckOptions(o), "");  // no room for a prefix
  o.s10_ids = false;
  EXPECT_EQ(tools::ParcelPattern(o), "D2-P[0-9]{8}");
  o.id_prefix = "A.B";
  EXPECT_EQ(tools::ParcelPattern(o), "A\\.BP[0-9]{8}");
}

TEST(DayGeneratorTest, DayScannersAreTheScannersOfTheStream) {
  tools::DayOptions o;
  o.parcels = 2'000;
  o.id_prefix = "X-";
  KeepSink sink;
  tools::GenerateDay(o, &sink);
  std::map<std::string, bool> sorts_only;
  for (const auto& e : sink.events) {
    auto [it, fresh] = sorts_only.try_emplace(e.scanner_id(), true);
    it->second = it->second && e.has_parcel_sorted();
  }
  const auto scanners = tools::DayScanners(o);
  EXPECT_EQ(scanners.size(), size_t{o.docks + o.tables + o.sorters + o.baggers + o.loaders});
  size_t seen = 0;  // a short day leaves a loader idle
  for (const auto& s : scanners) {
    if (!sorts_only.count(s.id)) continue;
    ++seen;
    EXPECT_EQ(s.sorts_only, sorts_only[s.id]) << s.id;
  }
  EXPECT_EQ(seen, sorts_only.size());
  EXPECT_EQ(scanners[o.docks + o.tables].id, "X-SORTER-01");
}

TEST(DayGeneratorTest, CaseKeyNamesTheReadCodesInOrder) {
  v1::ExceptionCase c;
  c.set_type(v1::AMBIGUOUS_READ);
  c.add_read_codes("P1");
  c.add_read_codes("P2");
  EXPECT_EQ(tools::CaseKey(c), "AMBIGUOUS_READ codes=P1,P2");
  c.set_parcel_id("P3");
  EXPECT_EQ(tools::CaseKey(c), "AMBIGUOUS_READ parcel=P3 codes=P1,P2");
}

TEST(LatencyHistogramTest, PercentilesAreWithinThreePercentOfTheTrueValue) {
  tools::LatencyHistogram h;
  for (uint64_t v = 1; v <= 100'000; ++v) h.Add(v);
  EXPECT_EQ(h.count(), 100'000u);
  EXPECT_EQ(h.max(), 100'000u);
  for (double p : {0.5, 0.9, 0.99, 0.999}) {
    const double truth = p * 100'000;
    EXPECT_NEAR(static_cast<double>(h.Percentile(p)), truth, truth * 0.03) << p;
  }
  EXPECT_EQ(h.Percentile(1.0), 100'000u);
  tools::LatencyHistogram small;
  small.Add(7);
  EXPECT_EQ(small.Percentile(0.5), 7u);
  EXPECT_EQ(tools::LatencyHistogram().Percentile(0.99), 0u);
}

}  // namespace
}  // namespace hub::testing
