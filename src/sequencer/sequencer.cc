#include "sequencer/sequencer.h"

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <unordered_map>

#include "core/validate.h"
#include "sequencer/forked_snapshot.h"
#include "store/rocksdb_store.h"
#include "util/log_value.h"

namespace hub::sequencer {

struct Sequencer::Impl {
  Impl(Sequencer* owner, core::HubState* state, store::RocksDbStore* store,
       SequencerOptions options)
      : owner(owner), state(state), store(store), options(options), batch(store) {}

  void Run();
  void Process(Submission& s);
  void CommitAndDeliver();
  void MaybeCheckpoint();
  void MaybeRetain();
  // While failed: asks the store to write again; on success rebuilds the
  // state from what is durable and accepts again.
  void MaybeResume();
  Reply& ReplyFor(const std::shared_ptr<SessionLink>& session);
  // Runs a read-back against the state (nullptr: unreadable), timed.
  void Inspect(const std::function<void(const core::HubState*)>& inspect, bool readable);
  // Anything applied or answered since the last commit, or a read-back
  // waiting for that commit.
  bool Pending() const { return !replies.empty() || !commands.empty() || !inspections.empty(); }

  Sequencer* owner;
  core::HubState* state;
  store::RocksDbStore* store;
  SequencerOptions options;
  moodycamel::BlockingConcurrentQueue<Submission> queue;
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};  // the thread has exited
  std::thread thread;

  // After the thread exited: answers commands left in the queue.
  void RefuseLeftovers() {
    Submission s;
    while (queue.try_dequeue(s)) {
      if (s.inspect) s.inspect(nullptr);
      if (!s.done) continue;
      CommandResult out;
      out.unavailable = true;
      out.reason = "hubd is shutting down";
      s.done(std::move(out));
    }
  }

  // Sequencer thread only.
  store::CommitBatch batch;
  core::ApplyResult result;
  std::unordered_map<SessionLink*, std::pair<std::shared_ptr<SessionLink>, Reply>> replies;
  std::vector<std::pair<std::function<void(CommandResult)>, CommandResult>> commands;
  std::vector<std::function<void(const core::HubState*)>> inspections;  // after the commit
  bool failed = false;
  std::chrono::steady_clock::time_point failed_since{}, next_resume_try{};
  uint64_t resume_tries = 0;
  uint64_t checkpointed_at = 0;  // committed() when the last checkpoint was taken
  uint64_t checkpoint_failures = 0;  // reported so far
  uint64_t checkpoints_written = 0;  // reported so far
  std::chrono::steady_clock::time_point checkpointed_when = std::chrono::steady_clock::now();
  int64_t hub_hour = 0;         // of the last record noted in the time index
  bool retention_due = false;   // hub time moved to a new hour, or a checkpoint landed
};

Sequencer::Sequencer(core::HubState* state, store::RocksDbStore* store, SequencerOptions options)
    : impl_(std::make_unique<Impl>(this, state, store, options)) {}

Sequencer::~Sequencer() { Stop(); }

void Sequencer::Start(uint64_t uncheckpointed) {
  impl_->checkpointed_at = 0 - uncheckpointed;  // committed() - this = records since
  impl_->hub_hour = impl_->state->hub_time_ms() / core::kHourMs;
  impl_->retention_due = true;
  probe_.hub_seq.store(impl_->state->last_hub_seq(), std::memory_order_relaxed);
  probe_.hub_time_ms.store(impl_->state->hub_time_ms(), std::memory_order_relaxed);
  probe_.parcels_in_hub.store(impl_->state->live_parcels(), std::memory_order_relaxed);
  probe_.open_cases.store(impl_->state->open_cases(), std::memory_order_relaxed);
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void Sequencer::Submit(Submission&& submission) {
  in_flight_.fetch_add(static_cast<int64_t>(submission.events.size()), std::memory_order_relaxed);
  impl_->queue.enqueue(std::move(submission));
  if (impl_->stopped.load()) impl_->RefuseLeftovers();  // raced with Stop(): nobody else will
}

void Sequencer::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->stopping.store(true);
  impl_->thread.join();
  impl_->stopped.store(true);
  impl_->RefuseLeftovers();
}

Reply& Sequencer::Impl::ReplyFor(const std::shared_ptr<SessionLink>& session) {
  auto& slot = replies[session.get()];
  if (!slot.first) slot.first = session;
  return slot.second;
}

void Sequencer::Impl::Inspect(const std::function<void(const core::HubState*)>& inspect,
                              bool readable) {
  const auto start = std::chrono::steady_clock::now();
  inspect(readable ? state : nullptr);
  owner->probe_.inspect_pause_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

void Sequencer::Impl::Process(Submission& s) {
  if (s.inspect) {
    // Applied records not yet durable are in the state: wait for their
    // commit, so a read never shows what a failed commit would take back.
    if (!failed && Pending()) {
      inspections.push_back(std::move(s.inspect));
    } else {
      Inspect(s.inspect, !failed);
    }
    return;
  }
  if (s.command) {
    CommandResult out;
    if (failed) {
      out.unavailable = true;
      out.reason = "the store failed; hubd is not accepting changes";
    } else {
      state->Apply(*s.command, &result);
      out.applied = result.outcome == core::ApplyResult::Outcome::kApplied;
      out.hub_seq = result.hub_seq;
      out.refusal = result.refusal;
      out.reason = result.reject_reason;
      if (out.applied) {
        if (s.command->has_reference()) SequencerProbe::Add(owner->probe_.reference_changes);
        for (const auto& c : result.raised) SequencerProbe::Count(owner->probe_.cases_raised, c.type());
        batch.Add(*s.command, &result);
      }
    }
    commands.emplace_back(std::move(s.done), std::move(out));
    return;
  }
  Reply& reply = ReplyFor(s.session);
  if (failed) reply.store_failed = true;
  if (!s.hello_scanner.empty()) {
    if (failed) {
      v1::Reject& r = reply.rejects.emplace_back();
      r.set_code(v1::REJECT_UNAVAILABLE);
      r.set_reason("the store failed; hubd is not accepting events");
    } else {
      reply.welcome = state->ScannerMark(s.hello_scanner);
    }
  }
  for (const v1::ScanEvent* event : s.events) {
    const v1::ScanEvent& e = *event;
    ++reply.events_done;
    if (failed) {
      SequencerProbe::Count(owner->probe_.rejects, v1::REJECT_UNAVAILABLE);
      v1::Reject& r = reply.rejects.emplace_back();
      r.set_seq(e.seq());
      r.set_code(v1::REJECT_UNAVAILABLE);
      r.set_reason("the store failed; hubd is not accepting events");
      continue;
    }
    state->ApplyEvent(e, &result);
    // Handled for good (applied, re-sent, or a reject that consumes the seq):
    // covered by the ack.
    if (result.outcome != core::ApplyResult::Outcome::kRejected ||
        core::ConsumesSeq(result.reject_code))
      reply.acked_seq = std::max(reply.acked_seq, e.seq());
    SequencerProbe& probe = owner->probe_;
    switch (result.outcome) {
      case core::ApplyResult::Outcome::kApplied:
        SequencerProbe::Count(probe.events_applied, e.body_case());
        for (const auto& c : result.raised) SequencerProbe::Count(probe.cases_raised, c.type());
        batch.AddEvent(e, &result);  // logs the decision too
        if (const int64_t hour = state->hub_time_ms() / core::kHourMs; hour > hub_hour) {
          // The first record of this hour; the first hour also holds what
          // was logged before any scan (reference data, at hub time 0).
          batch.NoteHour(hour, hub_hour == 0 ? 1 : result.hub_seq);
          hub_hour = hour;
          retention_due = true;
        }
        if (result.has_decision) reply.decisions.push_back(std::move(result.decision));
        break;
      case core::ApplyResult::Outcome::kDuplicate:
        SequencerProbe::Add(probe.duplicates);
        reply.resent.push_back(e);
        break;
      case core::ApplyResult::Outcome::kRejected: {
        SequencerProbe::Count(probe.rejects, result.reject_code);
        batch.AddEvent(e, &result);  // the mark, when the reject consumes the seq
        v1::Reject& r = reply.rejects.emplace_back();
        r.set_seq(e.seq());
        r.set_code(result.reject_code);
        r.set_reason(std::move(result.reject_reason));
        break;
      }
    }
  }
}

void Sequencer::Impl::CommitAndDeliver() {
  if (!batch.empty()) {
    const size_t n = batch.records();
    const auto start = std::chrono::steady_clock::now();
    std::vector<CaseChange> changed;
    store::Status s = store->Commit(&batch, options.on_cases ? &changed : nullptr);
    if (!changed.empty()) options.on_cases(std::move(changed));
    owner->probe_.commit_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    owner->probe_.commit_records.Observe(static_cast<double>(n));
    if (!s.ok()) {
      // The batch's events are applied in memory but not durable: answer
      // none of them as accepted, and accept nothing more.
      spdlog::error("event=commit_failed error={} no_space={} resume=every_{}ms",
                    util::LogValue(s.ToString()), s.IsNoSpace(), options.resume_interval.count());
      failed = true;
      SequencerProbe::Add(owner->probe_.commit_failures);
      failed_since = std::chrono::steady_clock::now();
      next_resume_try = failed_since + options.resume_interval;
      resume_tries = 0;
      owner->healthy_.store(false);
      for (auto& [done, out] : commands) {
        out.applied = false;
        out.unavailable = true;
        out.reason = "commit failed: " + s.message();
      }
      for (auto& [link, entry] : replies) {
        Reply& r = entry.second;
        r.store_failed = true;
        r.decisions.clear();
        r.resent.clear();
        r.acked_seq = 0;
        r.rejects.clear();
        r.welcome.reset();  // a hello is refused rather than told a mark not durable
        v1::Reject& rej = r.rejects.emplace_back();
        rej.set_code(v1::REJECT_UNAVAILABLE);
        rej.set_reason("commit failed: " + s.message());
      }
    } else {
      owner->committed_.fetch_add(n, std::memory_order_relaxed);
    }
  }
  SequencerProbe& probe = owner->probe_;
  probe.hub_seq.store(state->last_hub_seq(), std::memory_order_relaxed);
  probe.hub_time_ms.store(state->hub_time_ms(), std::memory_order_relaxed);
  probe.parcels_in_hub.store(state->live_parcels(), std::memory_order_relaxed);
  probe.open_cases.store(state->open_cases(), std::memory_order_relaxed);
  int64_t done = 0;
  for (auto& [link, entry] : replies) {
    done += entry.second.events_done;
    entry.first->Deliver(std::move(entry.second));
  }
  replies.clear();
  for (auto& [callback, out] : commands)
    if (callback) callback(std::move(out));
  commands.clear();
  for (const auto& inspect : inspections) Inspect(inspect, !failed);
  inspections.clear();
  owner->in_flight_.fetch_sub(done, std::memory_order_relaxed);
}

// Between commits, the state is exactly what is committed: take its
// snapshot here (the only part of a checkpoint on this thread) and let the
// store write it in the background.
void Sequencer::Impl::MaybeCheckpoint() {
  if (failed) return;
  const uint64_t committed = owner->committed_.load(std::memory_order_relaxed);
  const uint64_t since = committed - checkpointed_at;
  if (since == 0) return;
  const auto now = std::chrono::steady_clock::now();
  const bool by_count = options.checkpoint_records > 0 && since >= options.checkpoint_records;
  const bool by_time = options.checkpoint_interval.count() > 0 &&
                       now - checkpointed_when >= options.checkpoint_interval;
  if (!by_count && !by_time) return;
  if (store->CheckpointBusy()) return;  // the last one is still being written
  const store::CheckpointStats done = store->Checkpoints();
  if (done.failed > checkpoint_failures) {
    checkpoint_failures = done.failed;
    spdlog::error("event=checkpoint_failed failures={} error={}", done.failed,
                  util::LogValue(done.last_error));
  }
  if (done.written > checkpoints_written) {
    checkpoints_written = done.written;
    retention_due = true;  // retention may now reach further
    spdlog::info("event=checkpoint_written hub_seq={} seconds={:.3f}", done.last_hub_seq,
                 done.last_seconds);
  }
  // A forked child serialises the state; if fork fails, this thread does.
  const uint64_t hub_seq = state->last_hub_seq();
  std::string fork_error;
  SnapshotSource source = ForkSnapshot(*state, &fork_error);
  bool submitted = false;
  if (source) {
    submitted = store->CheckpointInBackground(hub_seq, std::move(source));
  } else {
    spdlog::warn("event=checkpoint_fork_failed error={} fallback=in_thread",
                 util::LogValue(fork_error));
    submitted = store->CheckpointInBackground(state->Snapshot());
  }
  const double pause = std::chrono::duration<double>(std::chrono::steady_clock::now() - now).count();
  owner->probe_.checkpoint_pause_seconds.Observe(pause);
  if (!submitted) return;
  checkpointed_at = committed;
  checkpointed_when = now;
  spdlog::info("event=checkpoint_started hub_seq={} records_since={} pause_ms={:.1f}", hub_seq,
               since, pause * 1000);
}

void Sequencer::Impl::MaybeRetain() {
  if (!retention_due || failed || options.retention.count() == 0) return;
  retention_due = false;
  const int64_t cutoff =
      state->hub_time_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(options.retention).count();
  if (cutoff <= 0) return;
  const auto started = std::chrono::steady_clock::now();
  v1::LogRecord rec;
  bool due = false;
  // Never past the last checkpoint (recovery replays the log after it), nor
  // past what the feed has published.
  uint64_t limit = store->CheckpointedThrough();
  if (options.retention_limit) limit = std::min(limit, options.retention_limit());
  store::Status s = store->RetentionPoint(cutoff, limit, rec.mutable_retention(), &due);
  if (!s.ok()) {
    spdlog::error("event=retention_failed error={}", util::LogValue(s.ToString()));
    return;
  }
  if (!due) return;
  state->Apply(rec, &result);
  if (result.outcome != core::ApplyResult::Outcome::kApplied) {
    spdlog::error("event=retention_failed error={}", util::LogValue(result.reject_reason));
    return;
  }
  batch.Add(rec, &result);
  CommitAndDeliver();
  spdlog::info("event=retention hub_seq={} through_hub_seq={} through_case_id={} cutoff_ms={} pause_ms={:.1f}",
               result.hub_seq, rec.retention().through_hub_seq(), rec.retention().through_case_id(),
               rec.retention().cutoff_ms(),
               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
}

void Sequencer::Impl::MaybeResume() {
  const auto now = std::chrono::steady_clock::now();
  if (!failed || now < next_resume_try) return;
  next_resume_try = now + options.resume_interval;
  ++resume_tries;
  store::Status s = store->TryResume();
  if (s.ok()) s = store->Reload(state);
  if (!s.ok()) {
    // Once, then about once a minute: the disk may stay full for hours.
    const auto per_minute = std::max<int64_t>(1, 60'000 / std::max<int64_t>(1, options.resume_interval.count()));
    if (resume_tries == 1 || resume_tries % static_cast<uint64_t>(per_minute) == 0)
      spdlog::warn("event=store_resume_failed tries={} error={}", resume_tries,
                   util::LogValue(s.ToString()));
    return;
  }
  failed = false;
  // The failed batch's time-index row, if any, is gone with it.
  hub_hour = state->hub_time_ms() / core::kHourMs;
  owner->healthy_.store(true);
  SequencerProbe::Add(owner->probe_.store_resumes);
  SequencerProbe& probe = owner->probe_;
  probe.hub_seq.store(state->last_hub_seq(), std::memory_order_relaxed);
  probe.hub_time_ms.store(state->hub_time_ms(), std::memory_order_relaxed);
  probe.parcels_in_hub.store(state->live_parcels(), std::memory_order_relaxed);
  probe.open_cases.store(state->open_cases(), std::memory_order_relaxed);
  spdlog::info("event=store_resumed hub_seq={} tries={} outage_ms={}", state->last_hub_seq(),
               resume_tries,
               std::chrono::duration_cast<std::chrono::milliseconds>(now - failed_since).count());
}

void Sequencer::Impl::Run() {
  using Clock = std::chrono::steady_clock;
  std::vector<Submission> items(256);
  Clock::time_point batch_start{};
  for (;;) {
    owner->heartbeat_.fetch_add(1, std::memory_order_relaxed);
    int64_t wait_us = 2000;  // idle: the loop (and the heartbeat) turns at least this often
    if (Pending() && options.max_delay_us > 0) {
      wait_us = std::max<int64_t>(
          0, options.max_delay_us -
                 std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - batch_start)
                     .count());
    }
    const bool idle = !Pending();
    const Clock::time_point wait_start = idle ? Clock::now() : Clock::time_point{};
    size_t n = idle || options.max_delay_us > 0
                   ? queue.wait_dequeue_bulk_timed(items.begin(), items.size(), wait_us)
                   : queue.try_dequeue_bulk(items.begin(), items.size());
    if (idle)
      owner->idle_ns_.fetch_add(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - wait_start).count(),
          std::memory_order_relaxed);
    if (n > 0 && !Pending()) batch_start = Clock::now();
    if (n > 0 && options.max_clock_skew.count() > 0) {
      const auto now = std::chrono::system_clock::now() + options.max_clock_skew;
      state->set_time_horizon_ms(
          std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
    }
    for (size_t i = 0; i < n; ++i) {
      Process(items[i]);
      items[i] = Submission();
    }
    const bool drained = n == 0 || queue.size_approx() == 0;
    const bool delay_over =
        options.max_delay_us == 0 ||
        Clock::now() - batch_start >= std::chrono::microseconds(options.max_delay_us);
    if (Pending() && (batch.records() >= options.max_batch || (drained && delay_over))) {
      CommitAndDeliver();
      MaybeCheckpoint();
      MaybeRetain();
    } else if (n == 0 && !Pending()) {
      MaybeCheckpoint();  // idle: the interval still counts
      MaybeRetain();
    }
    if (failed && !Pending()) MaybeResume();
    if (n == 0 && !Pending() && stopping.load()) {
      // One last look: Submit() calls that raced with Stop() are still served.
      if (queue.size_approx() == 0) return;
    }
  }
}

}  // namespace hub::sequencer
