#include "core/id_map.h"

#include <gtest/gtest.h>

#include <algorithm>
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

}  // namespace
}  // namespace hub::testing
