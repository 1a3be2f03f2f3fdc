#pragma once

#include <gtest/gtest.h>

#include "core/hub_state.h"
#include "testutil/events.h"

namespace hub::testing {

// A hub with one scanner per station and a small routing table:
// destination D-SH -> route R-SH, chute C1, load L-SH; D-BJ -> R-BJ, C2, L-BJ.
class HubTest : public ::testing::Test {
 protected:
  HubTest() {
    Ref(testutil::RouteRef("D-SH", "R-SH", "C1", "L-SH"));
    Ref(testutil::RouteRef("D-BJ", "R-BJ", "C2", "L-BJ"));
  }

  // Applies and returns Describe() of the cases raised by this record.
  std::string Apply(const v1::ScanEvent& e) {
    hub.ApplyEvent(e, &result);
    EXPECT_EQ(result.outcome, core::ApplyResult::Outcome::kApplied) << result.reject_reason;
    return testutil::Describe(result.raised);
  }
  std::string Ref(const v1::ReferenceChange& c) {
    hub.ApplyReference(c, &result);
    EXPECT_EQ(result.outcome, core::ApplyResult::Outcome::kApplied) << result.reject_reason;
    return testutil::Describe(result.raised);
  }

  // A clean outbound flow for parcel `p` to D-SH: sort, bag OB1, close, load.
  void ShipCleanly(const std::string& p) {
    EXPECT_EQ(Apply(sorter.ParcelSorted(p, "D-SH")), "");
    EXPECT_EQ(Apply(bagger.BagCreated("OB1", "R-SH")), "");
    EXPECT_EQ(Apply(bagger.ParcelBagged(p, "OB1")), "");
    EXPECT_EQ(Apply(bagger.BagClosed("OB1", 1)), "");
    EXPECT_EQ(Apply(loader.LoadOpened("L-SH", "TRUCK-9", "R-SH")), "");
    EXPECT_EQ(Apply(loader.BagLoaded("OB1", "L-SH")), "");
  }

  core::HubState hub;
  core::ApplyResult result;
  testutil::Scanner dock{"DOCK-1"}, table{"TABLE-1"}, sorter{"SORTER-1"}, bagger{"BAGGER-1"},
      loader{"LOADER-1"}, desk{"DESK-1"};
};

}  // namespace hub::testing
