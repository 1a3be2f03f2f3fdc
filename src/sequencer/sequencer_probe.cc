#include "sequencer/sequencer_probe.h"

#include <algorithm>

namespace hub::sequencer {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(bounds_.size() + 1) {}

void Histogram::Observe(double value) {
  const size_t i = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micro_.fetch_add(static_cast<uint64_t>(std::max(0.0, value) * 1e6),
                       std::memory_order_relaxed);
}

uint64_t Histogram::CumulativeCount(size_t i) const {
  uint64_t n = 0;
  for (size_t b = 0; b <= i && b < buckets_.size(); ++b)
    n += buckets_[b].load(std::memory_order_relaxed);
  return n;
}

double Histogram::sum() const { return sum_micro_.load(std::memory_order_relaxed) / 1e6; }

SequencerProbe::SequencerProbe()
    : commit_records({1, 4, 16, 64, 256, 1024, 4096, 16384}),
      commit_seconds({0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                      0.25, 1}),
      checkpoint_pause_seconds({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}),
      inspect_pause_seconds({0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                             0.1}) {}

}  // namespace hub::sequencer
