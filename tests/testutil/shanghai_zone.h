#pragma once

// A fixture that puts the process in the hub's zone Asia/Shanghai (+08:00,
// no summer time) for each test, and back to the machine's after.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "util/time_text.h"

namespace hub::testutil {

class ShanghaiZone : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(util::SetTimeZone("Asia/Shanghai", &error)) << error;
  }
  void TearDown() override {
    unsetenv("TZ");
    tzset();
  }
  static constexpr int64_t kNow = 1795723200000;  // 2026-11-26T20:00:00Z, 04:00 in Shanghai
};

}  // namespace hub::testutil
