// Core apply throughput: a realistic generated hub day applied to a fresh
// HubState, in total and per event kind (events/s of each kind, timed inside
// the day so each kind sees the state it really meets).

#include <benchmark/benchmark.h>

#include <chrono>

#include "core/hub_state.h"
#include "core/validate.h"
#include "testutil/events.h"

namespace {

using hub::core::ApplyResult;
using hub::core::HubState;

const std::vector<hub::v1::LogRecord>& Day() {
  static const auto* day = new std::vector<hub::v1::LogRecord>(hub::testutil::GenerateDay(1, 200'000));
  return *day;
}

void BM_ApplyDay(benchmark::State& state) {
  const auto& day = Day();
  for (auto _ : state) {
    state.PauseTiming();
    auto hub = std::make_unique<HubState>();
    ApplyResult r;
    state.ResumeTiming();
    for (const auto& rec : day) hub->Apply(rec, &r);
    benchmark::DoNotOptimize(r);
    state.PauseTiming();
    hub.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * day.size()));
}
BENCHMARK(BM_ApplyDay)->Unit(benchmark::kMillisecond);

// Times only the events whose body is `kind` (a ScanEvent::BodyCase).
void BM_ApplyKind(benchmark::State& state) {
  const auto kind = static_cast<hub::v1::ScanEvent::BodyCase>(state.range(0));
  const auto& day = Day();
  int64_t count = 0;
  for (auto _ : state) {
    HubState hub;
    ApplyResult r;
    std::chrono::nanoseconds spent{0};
    for (const auto& rec : day) {
      if (rec.has_event() && rec.event().body_case() == kind) {
        const auto t0 = std::chrono::steady_clock::now();
        hub.Apply(rec, &r);
        spent += std::chrono::steady_clock::now() - t0;
        ++count;
      } else {
        hub.Apply(rec, &r);
      }
    }
    state.SetIterationTime(std::chrono::duration<double>(spent).count());
  }
  state.SetLabel(std::to_string(count / std::max<int64_t>(1, state.iterations())) + " events");
  state.SetItemsProcessed(count);
}

void KindArgs(benchmark::internal::Benchmark* b) {
  using E = hub::v1::ScanEvent;
  for (int k : {E::kVehicleArrived, E::kBagUnloaded, E::kVehicleUnloaded, E::kBagOpened,
                E::kParcelUnbagged, E::kBagEmptied, E::kParcelSorted, E::kBagCreated,
                E::kParcelBagged, E::kBagClosed, E::kLoadOpened, E::kBagLoaded,
                E::kLoadDeparted, E::kParcelDamaged})
    b->Arg(k);
  b->ArgName("kind")->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_ApplyKind)->Apply(KindArgs);

}  // namespace
