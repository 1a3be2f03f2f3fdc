#include "core/id_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace hub::testing {
namespace {

std::string Id(int n) { return "P" + std::to_string(n); }

TEST(IdMapTest, FindsEveryIdItHoldsAndNoneItDoesNot) {
  core::IdMap<int> map;
  for (int n = 0; n < 100'000; ++n) map[Id(n)] = n;  // grows every shard many times
  EXPECT_EQ(map.size(), 100'000u);
  for (int n = 0; n < 100'000; ++n) {
    auto it = map.find(Id(n));
    ASSERT_NE(it, map.end()) << Id(n);
    EXPECT_EQ(it->first, Id(n));
    EXPECT_EQ(it->second, n);
  }
  EXPECT_EQ(map.find("Q1"), map.end());
  EXPECT_EQ(map.find("P100000"), map.end());
}

TEST(IdMapTest, IteratesOverEveryEntryOnceAndErasesByIdOrIterator) {
  core::IdMap<int> map;
  EXPECT_EQ(map.begin(), map.end());
  for (int n = 0; n < 1000; ++n) EXPECT_TRUE(map.try_emplace(Id(n), n).second);
  EXPECT_FALSE(map.try_emplace(Id(7), -1).second);
  EXPECT_EQ(map.at(Id(7)), 7);
  EXPECT_EQ(map.erase(Id(7)), 1u);
  EXPECT_EQ(map.erase(Id(7)), 0u);
  map.erase(map.find(Id(8)));
  std::vector<int> seen;
  for (const auto& [id, n] : map) {
    EXPECT_EQ(id, Id(n));
    seen.push_back(n);
  }
  std::sort(seen.begin(), seen.end());
  std::vector<int> want;
  for (int n = 0; n < 1000; ++n)
    if (n != 7 && n != 8) want.push_back(n);
  EXPECT_EQ(seen, want);
  EXPECT_EQ(map.size(), 998u);
  map.clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.begin(), map.end());
}

// The floors only skip work: every sweep finds exactly the entries a full
// scan would, while entries are inserted and touched at a clock that moves on.
TEST(IdMapTest, OlderFindsWhatAFullScanFindsWhileItsFloorsSkipShards) {
  core::IdMap<int64_t> map;  // id -> time last seen
  std::mt19937 rng(7);
  int next = 0;
  size_t found = 0;
  for (int64_t now = 1; now <= 400; ++now) {
    for (int i = 0; i < 50; ++i) map[Id(next++)] = now;  // new entries at the clock
    for (int i = 0; i < 20 && next > 0; ++i) {           // touches of older ones
      auto it = map.find(Id(static_cast<int>(rng() % static_cast<unsigned>(next))));
      if (it != map.end()) it->second = now;
    }
    if (now % 7 != 0) continue;  // a sweep now and then
    const int64_t cutoff = now - 60;
    std::vector<std::string> expected;
    for (const auto& [id, t] : map)
      if (t < cutoff) expected.push_back(id);
    auto got = map.Older(cutoff, now, [](int64_t t) { return t; });
    std::sort(expected.begin(), expected.end());
    std::sort(got.begin(), got.end());
    ASSERT_EQ(got, expected) << "at " << now;
    found += got.size();
    for (const auto& id : got) map.erase(id);
  }
  EXPECT_GT(found, 10'000u);  // the sweeps had work to do
}

// A restore puts older times back: clear() forgets what the floors knew.
TEST(IdMapTest, ClearStartsTheFloorsAgain) {
  core::IdMap<int64_t> map;
  auto time = [](int64_t t) { return t; };
  map["P1"] = 100;
  EXPECT_TRUE(map.Older(50, 100, time).empty());  // floors now at 100
  map.clear();
  map["P1"] = 10;  // as restored from a snapshot
  EXPECT_EQ(map.Older(50, 100, time), std::vector<std::string>{"P1"});
}

}  // namespace
}  // namespace hub::testing
