#include "sequencer/sequencer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "store/fault_fs.h"
#include "store/rocksdb_store.h"
#include "testutil/events.h"

namespace hub::testing {
namespace {

namespace fs = std::filesystem;
using sequencer::Reply;

// Collects replies; checks at delivery time that what is acked is durable.
class RecordingLink : public sequencer::SessionLink {
 public:
  RecordingLink(store::RocksDbStore* db, std::string scanner) : db_(db), scanner_(std::move(scanner)) {}

  void Deliver(Reply&& reply) override {
    uint64_t durable = 0;
    std::vector<v1::ScannerMark> marks;
    EXPECT_TRUE(db_->ScannerMarks(&marks).ok());
    for (const auto& m : marks)
      if (m.scanner_id() == scanner_) durable = m.seq();
    EXPECT_GE(durable, reply.acked_seq) << "acked before durable";
    if (reply.welcome) EXPECT_GE(durable, *reply.welcome) << "welcomed at a mark not durable";
    std::lock_guard<std::mutex> lock(mu_);
    replies_.push_back(std::move(reply));
    cv_.notify_all();
  }

  // Waits for `n` replies in all; returns them.
  std::vector<Reply> WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return replies_.size() >= n; });
    return replies_;
  }

 private:
  store::RocksDbStore* db_;
  std::string scanner_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Reply> replies_;
};

// A link whose first delivery waits until released: it holds the thread
// that answers (the committer's, for a pipelined group).
class HeldLink : public sequencer::SessionLink {
 public:
  void Deliver(Reply&&) override {
    if (held_.exchange(false)) {
      holding_ = true;
      release_.get_future().wait();
    }
    ++delivered_;
  }
  bool holding() const { return holding_.load(); }
  void Release() {
    if (!released_.exchange(true)) release_.set_value();
  }
  int delivered() const { return delivered_.load(); }

 private:
  std::atomic<bool> held_{true}, holding_{false}, released_{false};
  std::atomic<int> delivered_{0};
  std::promise<void> release_;
};

// Releases a HeldLink when it goes out of scope: a failed assertion must not
// leave Stop() waiting for the thread it holds.
struct ReleaseOnExit {
  HeldLink* link;
  ~ReleaseOnExit() { link->Release(); }
};

uint64_t Applied(sequencer::Sequencer& seq) {
  uint64_t n = 0;
  for (const auto& slot : seq.probe().events_applied) n += slot.load();
  return n;
}

class SequencerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');
    dir_ = fs::temp_directory_path() / ("hubd-seq-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Open(std::shared_ptr<store::FaultInjection> faults = nullptr) {
    store::StoreOptions o;
    o.path = dir_.string();
    o.faults = std::move(faults);
    ASSERT_TRUE(store::RocksDbStore::Open(o, &db_).ok());
  }

  sequencer::Submission Events(const std::shared_ptr<sequencer::SessionLink>& link,
                               const std::vector<v1::ScanEvent>& events) {
    sequencer::Submission s;
    s.session = link;
    s.arena = std::make_unique<google::protobuf::Arena>();
    for (const auto& e : events) {
      auto* copy = google::protobuf::Arena::CreateMessage<v1::ScanEvent>(s.arena.get());
      *copy = e;
      s.events.push_back(copy);
    }
    return s;
  }

  // Submits `event` from `held` and waits until the thread answering it is
  // held in the delivery (the group is written, its answer not finished).
  bool SubmitHeld(sequencer::Sequencer& seq, const std::shared_ptr<HeldLink>& held,
                  const v1::ScanEvent& event) {
    seq.Submit(Events(held, {event}));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!held->holding() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    return held->holding();
  }

  fs::path dir_;
  std::unique_ptr<store::RocksDbStore> db_;
  core::HubState hub_;
};

// Every rule holds whether a group is written on the sequencer's thread or
// handed to its committer while the next group is applied.
class SequencerTest : public SequencerFixture, public ::testing::WithParamInterface<size_t> {
 protected:
  sequencer::SequencerOptions Options() const {
    sequencer::SequencerOptions o;
    o.pipeline_records = GetParam();
    return o;
  }
};

INSTANTIATE_TEST_SUITE_P(Groups, SequencerTest, ::testing::Values(size_t{1} << 20, size_t{1}),
                         [](const ::testing::TestParamInfo<size_t>& p) {
                           return p.param == 1 ? std::string("Pipelined") : std::string("OnThisThread");
                         });

TEST_P(SequencerTest, AnswersOnlyAfterTheCommitThatMakesThemDurable) {
  Open();
  sequencer::Sequencer seq(&hub_, db_.get(), Options());
  seq.Start();
  auto link = std::make_shared<RecordingLink>(db_.get(), "S1");
  testutil::Scanner s("S1");
  size_t submitted = 0;
  for (int i = 0; i < 50; ++i, ++submitted)
    seq.Submit(Events(link, {s.ParcelSorted("P" + std::to_string(i), "D1"), s.BagOpened("B1")}));
  seq.Stop();  // drains: everything submitted is answered
  auto replies = link->WaitFor(1);
  uint64_t acked = 0, decisions = 0, done = 0;
  for (const auto& r : replies) {
    acked = std::max(acked, r.acked_seq);
    decisions += r.decisions.size();
    done += r.events_done;
  }
  EXPECT_EQ(acked, 100u);
  EXPECT_EQ(decisions, 50u);  // a NO_ROUTE divert each: no routes loaded
  EXPECT_EQ(done, 100u);
  EXPECT_EQ(seq.in_flight(), 0);
  EXPECT_EQ(seq.committed(), 100u);
}

TEST_P(SequencerTest, IdleClockRunsWhileThereIsNothingToDoAndNeverPastTheWall) {
  Open();
  sequencer::Sequencer seq(&hub_, db_.get(), Options());
  const auto start = std::chrono::steady_clock::now();
  seq.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  seq.Stop();
  const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_GT(seq.idle_ns(), 0u);
  EXPECT_LE(seq.idle_ns(), static_cast<uint64_t>(wall.count()));
}

TEST_P(SequencerTest, CommandAfterStopIsAnsweredUnavailableAtOnce) {
  Open();
  sequencer::Sequencer seq(&hub_, db_.get(), Options());
  seq.Start();
  seq.Stop();
  std::optional<sequencer::CommandResult> answer;
  sequencer::Submission cmd;
  cmd.command.emplace();
  *cmd.command->mutable_reference() = testutil::RouteRef("D1", "R1", "C1", "L1");
  cmd.done = [&](sequencer::CommandResult r) { answer = std::move(r); };
  seq.Submit(std::move(cmd));
  ASSERT_TRUE(answer.has_value());  // answered inside Submit: nobody else would
  EXPECT_FALSE(answer->applied);
  EXPECT_TRUE(answer->unavailable);
}

TEST_P(SequencerTest, HelloIsAnsweredWithTheDurableMark) {
  Open();
  sequencer::Sequencer seq(&hub_, db_.get(), Options());
  seq.Start();
  auto link = std::make_shared<RecordingLink>(db_.get(), "S1");
  testutil::Scanner s("S1");
  seq.Submit(Events(link, {s.BagOpened("B1"), s.BagOpened("B2")}));
  sequencer::Submission hello;
  hello.session = link;
  hello.hello_scanner = "S1";
  seq.Submit(std::move(hello));
  seq.Stop();
  auto replies = link->WaitFor(1);
  std::optional<uint64_t> welcome;
  for (const auto& r : replies)
    if (r.welcome) welcome = r.welcome;
  ASSERT_TRUE(welcome.has_value());
  EXPECT_EQ(*welcome, 2u);
}

TEST_P(SequencerTest, FailedCommitIsStickyAndAnswersUnavailable) {
  auto faults = std::make_shared<store::FaultInjection>();
  Open(faults);
  sequencer::Sequencer seq(&hub_, db_.get(), Options());
  seq.Start();
  auto link = std::make_shared<RecordingLink>(db_.get(), "S1");
  testutil::Scanner s("S1");
  seq.Submit(Events(link, {s.BagOpened("B1")}));
  ASSERT_EQ(link->WaitFor(1).size(), 1u);
  EXPECT_TRUE(seq.healthy());
  faults->SetNoSpace(true);  // the disk is full from here on
  seq.Submit(Events(link, {s.BagOpened("B2")}));  // this commit fails
  auto replies = link->WaitFor(2);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[1].acked_seq, 0u);
  ASSERT_EQ(replies[1].rejects.size(), 1u);
  EXPECT_EQ(replies[1].rejects[0].code(), v1::REJECT_UNAVAILABLE);
  EXPECT_FALSE(seq.healthy());
  seq.Submit(Events(link, {s.BagOpened("B3")}));  // refused without trying
  replies = link->WaitFor(3);
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[2].acked_seq, 0u);
  EXPECT_EQ(replies[2].rejects.at(0).code(), v1::REJECT_UNAVAILABLE);
  // On this thread the failure is noted before B3 is read: refused one by
  // one. Pipelined, B3 may be applied before the committer's failure is
  // noted, and then fails with its group (either way, not acked).
  if (GetParam() != 1) EXPECT_EQ(replies[2].rejects.at(0).seq(), 3u);
  seq.Stop();
  EXPECT_EQ(seq.committed(), 1u);
}

// The single writer applies the next group while the committer still
// writes and answers the one before; the next group's scans are answered
// only after their own commit.
TEST_F(SequencerFixture, TheNextGroupIsAppliedWhileTheOneBeforeIsWritten) {
  Open();
  sequencer::SequencerOptions o;
  o.pipeline_records = 1;
  o.retention = std::chrono::hours(0);  // kept for ever: no hourly look-up holds the pipeline
  sequencer::Sequencer seq(&hub_, db_.get(), o);
  seq.Start();
  testutil::Scanner first("S1"), second("S2");
  // A first group, written on this thread with the retention look-up that
  // starts every hour of hub time.
  auto warm = std::make_shared<RecordingLink>(db_.get(), "S1");
  seq.Submit(Events(warm, {first.BagOpened("B0")}));
  ASSERT_EQ(warm->WaitFor(1).size(), 1u);
  auto held = std::make_shared<HeldLink>();
  ReleaseOnExit release_on_exit{held.get()};
  ASSERT_TRUE(SubmitHeld(seq, held, first.BagOpened("B1")));  // written, being answered
  auto link = std::make_shared<RecordingLink>(db_.get(), "S2");
  seq.Submit(Events(link, {second.BagOpened("B2"), second.BagOpened("B3"), second.BagOpened("B4")}));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Applied(seq) < 5 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(Applied(seq), 5u) << "the writer waited for the group before it";
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(link->WaitFor(0).empty()) << "answered before its commit";
  held->Release();
  auto replies = link->WaitFor(1);  // RecordingLink checks the ack is durable
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].acked_seq, 3u);
  seq.Stop();
  EXPECT_EQ(held->delivered(), 1);
  EXPECT_EQ(seq.committed(), 5u);
  EXPECT_EQ(seq.in_flight(), 0);
}

// A hello answered while the group before it is still being written rests
// on that group: when the group fails, the hello is refused, not welcomed
// with a mark that is not durable.
TEST_F(SequencerFixture, AHelloBehindAFailingGroupIsRefused) {
  auto faults = std::make_shared<store::FaultInjection>();
  Open(faults);
  sequencer::SequencerOptions o;
  o.pipeline_records = 1;
  sequencer::Sequencer seq(&hub_, db_.get(), o);
  seq.Start();
  testutil::Scanner s("S1");
  auto warm = std::make_shared<RecordingLink>(db_.get(), "S1");
  seq.Submit(Events(warm, {s.BagOpened("B0")}));  // written on this thread (hourly look-up)
  ASSERT_EQ(warm->WaitFor(1).size(), 1u);
  faults->SetNoSpace(true);
  auto held = std::make_shared<HeldLink>();
  ReleaseOnExit release_on_exit{held.get()};
  // Seq 2: applied, its commit fails, and its failure is being answered
  // (not yet noted by the sequencer).
  ASSERT_TRUE(SubmitHeld(seq, held, s.BagOpened("B1")));
  auto link = std::make_shared<RecordingLink>(db_.get(), "S1");
  sequencer::Submission hello;
  hello.session = link;
  hello.hello_scanner = "S1";
  seq.Submit(std::move(hello));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the hello is read meanwhile
  held->Release();
  auto replies = link->WaitFor(1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].welcome.has_value()) << "welcomed at " << *replies[0].welcome;
  EXPECT_TRUE(replies[0].store_failed);
  EXPECT_FALSE(seq.healthy());
  seq.Stop();
  EXPECT_EQ(seq.committed(), 1u);
}

// A command that upserts the route for `destination`.
sequencer::Submission RouteCommand(const std::string& destination,
                                   std::function<void(sequencer::CommandResult)> done = nullptr) {
  sequencer::Submission cmd;
  cmd.command.emplace();
  *cmd.command->mutable_reference() = testutil::RouteRef(destination, "R", "C", "L");
  cmd.done = std::move(done);
  return cmd;
}

// A read of the core's state through the sequencer (Submission::inspect):
// returns what `copy` made of it, or nullopt when the state was unreadable.
template <typename T>
std::optional<std::optional<T>> Inspect(sequencer::Sequencer& seq,
                                        std::function<T(const core::HubState&)> copy) {
  std::promise<std::optional<T>> promise;
  auto future = promise.get_future();
  sequencer::Submission s;
  s.inspect = [&](const core::HubState* state) {
    promise.set_value(state != nullptr ? std::optional<T>(copy(*state)) : std::nullopt);
  };
  seq.Submit(std::move(s));
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return std::nullopt;
  return future.get();
}

TEST_P(SequencerTest, InspectSeesEveryCommandAnsweredBeforeItAndOnlyDurableState) {
  Open();
  sequencer::Sequencer seq(&hub_, db_.get(), Options());
  seq.Start();
  // Commands queued together with the read: the read runs after their
  // commit, and sees them.
  std::atomic<int> answered{0};
  for (int i = 0; i < 100; ++i) {
    seq.Submit(RouteCommand("D" + std::to_string(i), [&](sequencer::CommandResult r) {
      EXPECT_TRUE(r.applied);
      ++answered;
    }));
  }
  uint64_t durable_at_read = 0;
  auto routes = Inspect<int>(seq, [&](const core::HubState& s) {
    EXPECT_TRUE(db_->LastHubSeq(&durable_at_read).ok());
    EXPECT_EQ(answered.load(), 100);  // answered first: a reader never sees ahead of the writers
    return s.Routes()->entries_size();
  });
  ASSERT_TRUE(routes.has_value());
  ASSERT_TRUE(routes->has_value());
  EXPECT_EQ(**routes, 100);
  EXPECT_EQ(durable_at_read, 100u);  // nothing applied and not yet durable
  seq.Stop();
  EXPECT_EQ(seq.probe().inspect_pause_seconds.count(), 1u);
  // After Stop(): answered at once, with no state.
  auto late = Inspect<int>(seq, [](const core::HubState&) { return 1; });
  ASSERT_TRUE(late.has_value());
  EXPECT_FALSE(late->has_value());
}

TEST_P(SequencerTest, InspectGetsNoStateOnceTheStoreFailed) {
  auto faults = std::make_shared<store::FaultInjection>();
  Open(faults);
  sequencer::Sequencer seq(&hub_, db_.get(), Options());
  seq.Start();
  // A first group (written on the sequencer thread with the retention
  // look-up every hour of hub time starts), so the failing one below is
  // handed to the committer when pipelined.
  std::promise<bool> first;
  seq.Submit(RouteCommand("D0", [&](sequencer::CommandResult r) { first.set_value(r.applied); }));
  ASSERT_TRUE(first.get_future().get());
  faults->SetNoSpace(true);
  std::promise<bool> applied;
  seq.Submit(RouteCommand("D1", [&](sequencer::CommandResult r) { applied.set_value(r.applied); }));
  // Queued right behind the failing commit: the state then holds D1's
  // route, which is not durable; the read must not see it.
  auto read = Inspect<int>(seq, [](const core::HubState& state) { return state.Routes()->entries_size(); });
  ASSERT_TRUE(read.has_value());
  EXPECT_FALSE(read->has_value());
  EXPECT_FALSE(applied.get_future().get());
  EXPECT_FALSE(seq.healthy());
  seq.Stop();
}

// The cost of a read-back: the sequencer's pause to copy a large routing
// table (printed; bench/RESULTS.md records it).
TEST_F(SequencerFixture, InspectPauseForTenThousandRoutes) {
  Open();
  sequencer::Sequencer seq(&hub_, db_.get(), {});
  seq.Start();
  sequencer::Submission cmd;
  cmd.command.emplace();
  auto* table = cmd.command->mutable_reference()->mutable_replace_routes();
  for (int i = 0; i < 10'000; ++i)
    *table->add_entries() = testutil::RouteRef("DEST-" + std::to_string(100000 + i), "ROUTE-" + std::to_string(i % 300),
                                               "CHUTE-" + std::to_string(i % 120), "LOAD-" + std::to_string(i % 300))
                                .upsert_route();
  std::promise<bool> applied;
  cmd.done = [&](sequencer::CommandResult r) { applied.set_value(r.applied); };
  seq.Submit(std::move(cmd));
  ASSERT_TRUE(applied.get_future().get());
  // The pause of one read, from the probe (the callback returns before it
  // is observed: wait for the count).
  auto pause_of_read = [&](const std::string& destination) {
    const uint64_t count = seq.probe().inspect_pause_seconds.count();
    const double before = seq.probe().inspect_pause_seconds.sum();
    if (!destination.empty()) seq.Submit(RouteCommand(destination));  // a change: copies again
    auto n = Inspect<std::shared_ptr<const v1::RoutingTable>>(
        seq, [](const core::HubState& s) { return s.Routes(); });
    EXPECT_TRUE(n.has_value() && n->has_value() && (**n)->entries_size() >= 10'000);
    while (seq.probe().inspect_pause_seconds.count() == count) std::this_thread::yield();
    return (seq.probe().inspect_pause_seconds.sum() - before) * 1000;
  };
  double copy_total = 0, copy_worst = 0, shared_total = 0, shared_worst = 0;
  const int kReads = 20;
  for (int i = 0; i < kReads; ++i) {
    const double copy = pause_of_read("NEW-" + std::to_string(i));  // after a change: copies
    const double shared = pause_of_read("");                        // unchanged: shares
    copy_total += copy;
    copy_worst = std::max(copy_worst, copy);
    shared_total += shared;
    shared_worst = std::max(shared_worst, shared);
  }
  std::printf("inspect pause, 10000 routes: after a change (copy) mean %.3f ms, worst %.3f ms; "
              "unchanged (shared) mean %.3f ms, worst %.3f ms (%d reads each)\n",
              copy_total / kReads, copy_worst, shared_total / kReads, shared_worst, kReads);
  seq.Stop();
}

}  // namespace
}  // namespace hub::testing
