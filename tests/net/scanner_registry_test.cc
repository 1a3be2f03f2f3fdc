#include "net/scanner_registry.h"

#include <gtest/gtest.h>

#include <string>

namespace hub::testing {
namespace {

// Records what the registry told it, as "F" (fenced) and "G" (granted).
struct FakeOwner : net::ScannerOwner {
  void Fence() override { calls += "F"; }
  void Grant() override { calls += "G"; }
  std::string calls;
};

TEST(ScannerRegistryTest, FirstClaimOwnsAtOnce) {
  net::ScannerRegistry r;
  auto a = std::make_shared<FakeOwner>();
  EXPECT_TRUE(r.Claim("S1", a));
  EXPECT_EQ(a->calls, "");
  r.Release("S1", a.get());
  EXPECT_EQ(r.size(), 0u);
}

TEST(ScannerRegistryTest, SecondClaimFencesTheOwnerAndIsGrantedOnRelease) {
  net::ScannerRegistry r;
  auto a = std::make_shared<FakeOwner>(), b = std::make_shared<FakeOwner>();
  ASSERT_TRUE(r.Claim("S1", a));
  EXPECT_FALSE(r.Claim("S1", b));
  EXPECT_EQ(a->calls, "F");
  EXPECT_EQ(b->calls, "");
  r.Release("S1", a.get());
  EXPECT_EQ(b->calls, "G");
  r.Release("S1", b.get());
  EXPECT_EQ(r.size(), 0u);
}

TEST(ScannerRegistryTest, ANewerClaimOvertakesOneStillWaiting) {
  net::ScannerRegistry r;
  auto a = std::make_shared<FakeOwner>(), b = std::make_shared<FakeOwner>(),
       c = std::make_shared<FakeOwner>();
  ASSERT_TRUE(r.Claim("S1", a));
  ASSERT_FALSE(r.Claim("S1", b));
  ASSERT_FALSE(r.Claim("S1", c));
  EXPECT_EQ(a->calls, "F") << "fenced once";
  EXPECT_EQ(b->calls, "F") << "overtaken, never granted";
  r.Release("S1", b.get());  // a no-op: b is no longer held
  EXPECT_EQ(c->calls, "");
  r.Release("S1", a.get());
  EXPECT_EQ(c->calls, "G");
  EXPECT_EQ(b->calls, "F");
}

TEST(ScannerRegistryTest, AWaitingClaimThatGivesUpIsForgotten) {
  net::ScannerRegistry r;
  auto a = std::make_shared<FakeOwner>(), b = std::make_shared<FakeOwner>();
  ASSERT_TRUE(r.Claim("S1", a));
  ASSERT_FALSE(r.Claim("S1", b));
  r.Release("S1", b.get());
  r.Release("S1", a.get());
  EXPECT_EQ(b->calls, "");
  EXPECT_EQ(r.size(), 0u);
}

TEST(ScannerRegistryTest, ScannerIdsAreIndependent) {
  net::ScannerRegistry r;
  auto a = std::make_shared<FakeOwner>(), b = std::make_shared<FakeOwner>();
  EXPECT_TRUE(r.Claim("S1", a));
  EXPECT_TRUE(r.Claim("S2", b));
  EXPECT_EQ(a->calls + b->calls, "");
}

}  // namespace
}  // namespace hub::testing
