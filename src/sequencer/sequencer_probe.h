#pragma once

// Counters and histograms the sequencer (and the scanner sessions) keep for
// /metrics. Written with relaxed atomics on the hot path; read by the HTTP
// thread at any time. A reading is a consistent-enough view for monitoring,
// not a snapshot of one instant.

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace hub::sequencer {

// Cumulative histogram with fixed upper bounds (Prometheus style).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  // Count of observations <= bounds()[i] (cumulative), for i < bounds().size().
  uint64_t CumulativeCount(size_t i) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<uint64_t>> buckets_;  // non-cumulative, + overflow
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micro_{0};  // sum × 1e6, so integers suffice
};

struct SequencerProbe {
  SequencerProbe();

  static constexpr size_t kSlots = 64;
  // Indexed by v1::ScanEvent::BodyCase.
  std::array<std::atomic<uint64_t>, kSlots> events_applied{};
  // Indexed by v1::ExceptionType.
  std::array<std::atomic<uint64_t>, kSlots> cases_raised{};
  // Indexed by v1::RejectCode; sessions and the sequencer both count here.
  std::array<std::atomic<uint64_t>, kSlots> rejects{};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> reference_changes{0};
  // Group commits that failed (each makes the store read-only until it
  // resumes), and resumes after one.
  std::atomic<uint64_t> commit_failures{0};
  std::atomic<uint64_t> store_resumes{0};
  Histogram commit_records;  // log records per group commit
  Histogram commit_seconds;  // wall time of RocksDB commit
  Histogram checkpoint_pause_seconds;  // the sequencer's pause to take a snapshot
  Histogram inspect_pause_seconds;     // the sequencer's pause for a read-back (Submission::inspect)
  // Gauges published by the sequencer after each commit.
  std::atomic<uint64_t> hub_seq{0};
  std::atomic<int64_t> hub_time_ms{0};  // the latest event time applied
  std::atomic<uint64_t> parcels_in_hub{0};
  std::atomic<uint64_t> open_cases{0};

  static void Add(std::atomic<uint64_t>& counter, uint64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  static void Count(std::array<std::atomic<uint64_t>, kSlots>& by, size_t index) {
    if (index < kSlots) Add(by[index]);
  }
};

}  // namespace hub::sequencer
