#pragma once

// A log-linear histogram of latencies in microseconds, HdrHistogram-style:
// 32 linear sub-buckets per power of two, so any recorded value is reported
// within about 3 % of itself; constant memory, O(1) recording.

#include <array>
#include <bit>
#include <cstdint>

namespace hub::tools {

class LatencyHistogram {
 public:
  void Add(uint64_t us) {
    ++counts_[Index(us)];
    ++total_;
    if (us > max_) max_ = us;
  }
  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }

  // The smallest recorded value v such that at least p (0..1) of the values
  // are <= v, to the histogram's precision; 0 when empty.
  uint64_t Percentile(double p) const {
    if (total_ == 0) return 0;
    const auto rank = static_cast<uint64_t>(p * static_cast<double>(total_ - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(UpperBound(i), max_);
    }
    return max_;
  }

 private:
  static constexpr int kSubBits = 5;  // 32 sub-buckets
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;

  static size_t Index(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    const int exp = std::bit_width(v) - 1 - kSubBits;  // >= 0
    return static_cast<size_t>((exp + 1) * kSub + ((v >> exp) - kSub));
  }
  static uint64_t UpperBound(size_t i) {
    if (i < kSub) return i;
    const int exp = static_cast<int>(i / kSub) - 1;
    const uint64_t mantissa = kSub + i % kSub;
    return ((mantissa + 1) << exp) - 1;
  }

  std::array<uint64_t, (64 - kSubBits + 1) * kSub> counts_{};
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

}  // namespace hub::tools
