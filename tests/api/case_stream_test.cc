// The case stream's flow control against a client that never reads.

#include "api/case_stream.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

namespace hub::testing {
namespace {

// A stream whose client reads nothing: everything written stays queued, and
// past 8 MiB it closes itself, as net::HttpStream's writer does.
class StalledStream : public net::HttpStream {
 public:
  bool Write(std::string bytes) override {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    if (queued_ + bytes.size() > (8u << 20)) {
      closed_ = true;
      return false;
    }
    queued_ += bytes.size();
    last_ = std::move(bytes);
    return true;
  }
  void Close() override {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  bool closed() const override {
    std::lock_guard lock(mu_);
    return closed_;
  }
  size_t queued() const override {
    std::lock_guard lock(mu_);
    return queued_;
  }
  std::string last() const {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  mutable std::mutex mu_;
  bool closed_ = false;
  size_t queued_ = 0;
  std::string last_;
};

// One batch bigger than both limits: the client is told it overflowed
// before the stream's own limit would drop it without a word.
TEST(CaseStreamTest, AClientTooFarBehindIsToldItOverflowedEvenInOneBigBatch) {
  sequencer::SequencerProbe probe;
  api::CaseStream stream(&probe);
  auto out = std::make_shared<StalledStream>();
  ASSERT_TRUE(stream.Subscribe(out, {}));
  std::vector<store::CaseChange> changes(12'000);
  for (size_t i = 0; i < changes.size(); ++i) {
    changes[i].hub_seq = i + 1;
    changes[i].c.set_id(i + 1);
    changes[i].c.set_detail(std::string(1000, 'x'));  // about 12 MB in all
  }
  stream.Publish(std::move(changes));
  for (int i = 0; i < 1000 && !out->closed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(out->closed());
  EXPECT_EQ(out->last().rfind("event: overflow\n", 0), 0u) << out->last().substr(0, 80);
  stream.Stop();
}

}  // namespace
}  // namespace hub::testing
