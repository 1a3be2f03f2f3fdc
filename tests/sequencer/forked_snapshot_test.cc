#include "sequencer/forked_snapshot.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "testutil/events.h"

namespace hub::testing {
namespace {

TEST(ForkedSnapshotTest, ChildWritesExactlyTheSnapshotOfTheMomentItWasForked) {
  core::HubState state;
  core::ApplyResult r;
  const auto day = testutil::GenerateDay(3, 5'000);
  for (size_t i = 0; i < 3'000; ++i) state.Apply(day[i], &r);
  const std::string at_fork = state.Snapshot().SerializeAsString();
  std::string error;
  sequencer::SnapshotSource source = sequencer::ForkSnapshot(state, &error);
  ASSERT_TRUE(source) << error;
  // The parent goes on changing its state; the child's copy does not move.
  for (size_t i = 3'000; i < day.size(); ++i) state.Apply(day[i], &r);
  std::string got;
  ASSERT_TRUE(source(&got).ok());
  EXPECT_EQ(got.size(), at_fork.size());
  EXPECT_TRUE(got == at_fork);
}

TEST(ForkedSnapshotTest, ASourceDroppedUnreadLeavesNoChildBehind) {
  core::HubState state;
  std::string error;
  {
    sequencer::SnapshotSource source = sequencer::ForkSnapshot(state, &error);
    ASSERT_TRUE(source) << error;
  }
  // waitpid(-1) finds no child left to reap (ECHILD): it was killed and reaped.
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
}

}  // namespace
}  // namespace hub::testing
