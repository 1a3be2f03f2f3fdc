// The hub day generator and the replay's latency histogram: pure, no daemon.

#include "tools/day_generator.h"

#include <gtest/gtest.h>

#include <set>

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
