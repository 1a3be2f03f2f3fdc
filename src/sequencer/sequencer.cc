#include "sequencer/sequencer.h"

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "core/validate.h"
#include "sequencer/forked_snapshot.h"
#include "store/rocksdb_store.h"
#include "util/log_value.h"
#include "util/thread_name.h"

namespace hub::sequencer {

struct Sequencer::Impl {
  // One group of applied records on its way to disk, with everything that
  // is answered once it is durable.
  struct Group {
    explicit Group(store::RocksDbStore* store) : batch(store) {}
    bool empty() const { return replies.empty() && commands.empty(); }

    store::CommitBatch batch;
    std::unordered_map<SessionLink*, std::pair<std::shared_ptr<SessionLink>, Reply>> replies;
    std::vector<std::pair<std::function<void(CommandResult)>, CommandResult>> commands;
    // The state's figures after this group, for the probe once it is durable.
    uint64_t hub_seq = 0;
    int64_t hub_time_ms = 0;
    uint64_t parcels_in_hub = 0, open_cases = 0;
    // Something was applied or answered from the state while no failure was
    // noted yet (a hello's mark, a re-send, a refusal may rest on records of
    // a group still being written).
    bool answered_from_state = false;
    // Closed after a group before it failed: answered as failed, even with
    // nothing of its own to write.
    bool behind_failure = false;
  };

  Impl(Sequencer* owner, core::HubState* state, store::RocksDbStore* store,
       SequencerOptions options)
      : owner(owner), state(state), store(store), options(options), groups{Group(store), Group(store)} {}

  void Run();
  void Process(Submission& s);
  // Ends the open group: written on this thread, or handed to the committer
  // while this thread applies the next one.
  void Commit();
  // Closes `g` after the last record applied to it (sequencer thread).
  void Seal(Group& g);
  // Writes the open group on this thread and answers it.
  void CommitNow();
  // Writes `g` and answers everything in it (this thread or the committer's).
  store::Status Finish(Group& g);
  // The committer's thread: writes the groups handed over, one at a time.
  void CommitLoop();
  // Waits until the committer has finished its group (at once when idle),
  // and takes note if a group failed. Everything that reads the state as
  // committed (checkpoint, retention, read-backs) calls it first.
  void WaitCommitter();
  // Stops applying after a failed commit (sequencer thread; Finish has
  // reported it).
  void EnterFailed();
  bool CheckpointDue() const;
  void MaybeCheckpoint();
  void MaybeRetain();
  // While failed: asks the store to write again; on success rebuilds the
  // state from what is durable and accepts again.
  void MaybeResume();
  Reply& ReplyFor(const std::shared_ptr<SessionLink>& session);
  // Runs a read-back against the state (nullptr: unreadable), timed.
  void Inspect(const std::function<void(const core::HubState*)>& inspect, bool readable);
  void RunInspections();
  // A group is being written by the committer.
  bool Busy() const { return committing.load(); }
  // Anything applied or answered since the last commit.
  bool Open() const { return !open->empty(); }
  // Anything applied and not yet durable, or a read-back waiting for it.
  bool Pending() const { return Open() || Busy() || !inspections.empty(); }

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

  // Two groups: the open one, filled on the sequencer thread, and the one
  // the committer may be writing.
  std::array<Group, 2> groups;
  Group* open = &groups[0];  // sequencer thread only

  // The committer. Hand-over and finish go through commit_mu; `committing`
  // mirrors `writing != nullptr` for a look without the lock.
  std::thread committer;
  std::mutex commit_mu;
  std::condition_variable commit_cv;
  Group* writing = nullptr;       // GUARDED_BY(commit_mu)
  bool committer_stop = false;    // GUARDED_BY(commit_mu)
  bool write_failed = false;      // GUARDED_BY(commit_mu): a group failed, not yet noted
  std::atomic<bool> committing{false};
  // The sequencer is about to wait in its queue for the committer: a
  // finished group then wakes it with an empty submission.
  std::atomic<bool> wake_wanted{false};

  // Sequencer thread only.
  core::ApplyResult result;
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
  impl_->committer = std::thread([this] { impl_->CommitLoop(); });
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
  impl_->thread.join();  // returns with nothing handed to the committer
  {
    std::lock_guard<std::mutex> lock(impl_->commit_mu);
    impl_->committer_stop = true;
  }
  impl_->commit_cv.notify_all();
  impl_->committer.join();
  impl_->stopped.store(true);
  impl_->RefuseLeftovers();
}

Reply& Sequencer::Impl::ReplyFor(const std::shared_ptr<SessionLink>& session) {
  auto& slot = open->replies[session.get()];
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

void Sequencer::Impl::RunInspections() {
  WaitCommitter();  // a group that failed meanwhile makes the state unreadable
  for (const auto& inspect : inspections) Inspect(inspect, !failed);
  inspections.clear();
}

void Sequencer::Impl::Process(Submission& s) {
  if (!s.session && !s.command && !s.inspect) return;  // the committer's wake-up
  if (s.inspect) {
    // Applied records not yet durable are in the state: wait for their
    // commit, so a read never shows what a failed commit would take back.
    const bool busy = Busy();  // read once: the committer may finish meanwhile
    if (!busy) WaitCommitter();  // notes a group that failed
    if (!failed && (busy || Open() || !inspections.empty())) {
      inspections.push_back(std::move(s.inspect));
    } else {
      Inspect(s.inspect, !failed);
    }
    return;
  }
  if (s.command) {
    // A case action changes a stored case: the store must hold every case
    // raised before it, so the group being written must be done.
    if (s.command->has_case_action()) WaitCommitter();
    CommandResult out;
    if (failed) {
      out.unavailable = true;
      out.reason = "the store failed; hubd is not accepting changes";
    } else {
      open->answered_from_state = true;
      state->Apply(*s.command, &result);
      out.applied = result.outcome == core::ApplyResult::Outcome::kApplied;
      out.hub_seq = result.hub_seq;
      out.refusal = result.refusal;
      out.reason = result.reject_reason;
      if (out.applied) {
        if (s.command->has_reference()) SequencerProbe::Add(owner->probe_.reference_changes);
        for (const auto& c : result.raised) SequencerProbe::Count(owner->probe_.cases_raised, c.type());
        open->batch.Add(*s.command, &result);
      }
    }
    open->commands.emplace_back(std::move(s.done), std::move(out));
    return;
  }
  Reply& reply = ReplyFor(s.session);
  if (failed) {
    reply.store_failed = true;
  } else {
    open->answered_from_state = true;
  }
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
        open->batch.AddEvent(e, &result);  // logs the decision too
        if (const int64_t hour = state->hub_time_ms() / core::kHourMs; hour > hub_hour) {
          // The first record of this hour; the first hour also holds what
          // was logged before any scan (reference data, at hub time 0).
          open->batch.NoteHour(hour, hub_hour == 0 ? 1 : result.hub_seq);
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
        open->batch.AddEvent(e, &result);  // the mark, when the reject consumes the seq
        v1::Reject& r = reply.rejects.emplace_back();
        r.set_seq(e.seq());
        r.set_code(result.reject_code);
        r.set_reason(std::move(result.reject_reason));
        break;
      }
    }
  }
}

store::Status Sequencer::Impl::Finish(Group& g) {
  store::Status s;
  if (g.behind_failure) {
    g.batch.Clear();  // the store refuses it anyway: its failure is sticky
    s = store::Status::IOError("an earlier commit failed");
  } else if (!g.batch.empty()) {
    const size_t n = g.batch.records();
    const auto start = std::chrono::steady_clock::now();
    std::vector<CaseChange> changed;
    s = store->Commit(&g.batch, options.on_cases ? &changed : nullptr);
    if (!changed.empty()) options.on_cases(std::move(changed));
    owner->probe_.commit_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    owner->probe_.commit_records.Observe(static_cast<double>(n));
    if (s.ok()) owner->committed_.fetch_add(n, std::memory_order_relaxed);
  }
  if (!s.ok()) {
    // Unhealthy before anything is answered; once per outage (the groups
    // applied behind a failed one fail too).
    if (owner->healthy_.exchange(false)) {
      spdlog::error("event=commit_failed error={} no_space={} resume=every_{}ms",
                    util::LogValue(s.ToString()), s.IsNoSpace(), options.resume_interval.count());
      SequencerProbe::Add(owner->probe_.commit_failures);
    }
    // The group's events are applied in memory but not durable: answer
    // none of them as accepted.
    for (auto& [done, out] : g.commands) {
      out.applied = false;
      out.unavailable = true;
      out.reason = "commit failed: " + s.message();
    }
    for (auto& [link, entry] : g.replies) {
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
  }
  SequencerProbe& probe = owner->probe_;
  probe.hub_seq.store(g.hub_seq, std::memory_order_relaxed);
  probe.hub_time_ms.store(g.hub_time_ms, std::memory_order_relaxed);
  probe.parcels_in_hub.store(g.parcels_in_hub, std::memory_order_relaxed);
  probe.open_cases.store(g.open_cases, std::memory_order_relaxed);
  int64_t done = 0;
  for (auto& [link, entry] : g.replies) {
    done += entry.second.events_done;
    entry.first->Deliver(std::move(entry.second));
  }
  g.replies.clear();
  for (auto& [callback, out] : g.commands)
    if (callback) callback(std::move(out));
  g.commands.clear();
  g.answered_from_state = g.behind_failure = false;
  owner->in_flight_.fetch_sub(done, std::memory_order_relaxed);
  return s;
}

void Sequencer::Impl::EnterFailed() {
  if (failed) return;  // the groups applied behind a failed one fail too
  failed = true;
  failed_since = std::chrono::steady_clock::now();
  next_resume_try = failed_since + options.resume_interval;
  resume_tries = 0;
}

void Sequencer::Impl::Seal(Group& g) {
  g.behind_failure = failed && g.answered_from_state;
  g.hub_seq = state->last_hub_seq();
  g.hub_time_ms = state->hub_time_ms();
  g.parcels_in_hub = state->live_parcels();
  g.open_cases = state->open_cases();
}

void Sequencer::Impl::CommitNow() {
  Seal(*open);
  if (!Finish(*open).ok()) EnterFailed();
}

void Sequencer::Impl::Commit() {
  WaitCommitter();  // groups are written in hub order, one at a time
  // Checkpoints, retention and read-backs need the state exactly as
  // committed: this group is written here, and they follow.
  const bool barrier = !inspections.empty() || retention_due || CheckpointDue();
  // After a failure nothing is handed over: the group fails here.
  if (!barrier && !failed && open->batch.records() >= std::max<size_t>(1, options.pipeline_records)) {
    Group& g = *open;
    Seal(g);
    {
      std::lock_guard<std::mutex> lock(commit_mu);
      writing = &g;
      committing.store(true);
    }
    commit_cv.notify_all();
    open = &g == &groups[0] ? &groups[1] : &groups[0];
    return;
  }
  CommitNow();
  RunInspections();
  MaybeCheckpoint();
  MaybeRetain();
}

void Sequencer::Impl::WaitCommitter() {
  bool group_failed = false;
  {
    std::unique_lock<std::mutex> lock(commit_mu);
    commit_cv.wait(lock, [&] { return writing == nullptr; });
    std::swap(group_failed, write_failed);
  }
  if (group_failed) EnterFailed();
}

void Sequencer::Impl::CommitLoop() {
  util::NameThisThread("hub-commit");
  std::unique_lock<std::mutex> lock(commit_mu);
  for (;;) {
    commit_cv.wait(lock, [&] { return writing != nullptr || committer_stop; });
    if (writing == nullptr) return;
    Group* g = writing;
    lock.unlock();
    const bool ok = Finish(*g).ok();
    owner->heartbeat_.fetch_add(1, std::memory_order_relaxed);  // alive under load too
    lock.lock();
    if (!ok) write_failed = true;
    writing = nullptr;
    committing.store(false);
    commit_cv.notify_all();
    if (wake_wanted.exchange(false)) queue.enqueue(Submission());
  }
}

// Between commits, the state is exactly what is committed: take its
// snapshot here (the only part of a checkpoint on this thread) and let the
// store write it in the background.
bool Sequencer::Impl::CheckpointDue() const {
  if (failed) return false;
  const uint64_t since = owner->committed_.load(std::memory_order_relaxed) - checkpointed_at;
  if (since == 0) return false;
  const bool by_count = options.checkpoint_records > 0 && since >= options.checkpoint_records;
  const bool by_time = options.checkpoint_interval.count() > 0 &&
                       std::chrono::steady_clock::now() - checkpointed_when >= options.checkpoint_interval;
  // Not while the last one is still being written.
  return (by_count || by_time) && !store->CheckpointBusy();
}

void Sequencer::Impl::MaybeCheckpoint() {
  WaitCommitter();  // never a snapshot of a group that failed
  if (!CheckpointDue()) return;
  const uint64_t committed = owner->committed_.load(std::memory_order_relaxed);
  const uint64_t since = committed - checkpointed_at;
  const auto now = std::chrono::steady_clock::now();
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
  WaitCommitter();
  if (!retention_due || failed) return;
  retention_due = false;
  if (options.retention.count() == 0) return;  // kept for ever
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
  open->batch.Add(rec, &result);
  CommitNow();
  spdlog::info("event=retention hub_seq={} through_hub_seq={} through_case_id={} cutoff_ms={} pause_ms={:.1f}",
               result.hub_seq, rec.retention().through_hub_seq(), rec.retention().through_case_id(),
               rec.retention().cutoff_ms(),
               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
}

void Sequencer::Impl::MaybeResume() {
  WaitCommitter();  // every failed group noted before the state is rebuilt
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
  util::NameThisThread("hub-sequencer");
  using Clock = std::chrono::steady_clock;
  std::vector<Submission> items(256);
  Clock::time_point batch_start{};
  for (;;) {
    // A commit that does not return stops the heartbeat: while the committer
    // writes, it beats for both (after each group).
    if (!Busy()) owner->heartbeat_.fetch_add(1, std::memory_order_relaxed);
    if (!inspections.empty() && !Busy() && !Open()) RunInspections();
    int64_t wait_us = 2000;  // idle: the loop (and the heartbeat) turns at least this often
    if (Open() && !Busy() && options.max_delay_us > 0) {
      wait_us = std::max<int64_t>(
          0, options.max_delay_us -
                 std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - batch_start)
                     .count());
    }
    const bool idle = !Pending();
    bool block = idle || options.max_delay_us > 0;
    if (Busy()) {
      // Wait for more work or for the committer, whichever comes first.
      wake_wanted.store(true);
      block = Busy();  // it may have finished meanwhile, without a wake-up
      if (!block) wake_wanted.store(false);
    }
    const Clock::time_point wait_start = idle ? Clock::now() : Clock::time_point{};
    size_t n = block ? queue.wait_dequeue_bulk_timed(items.begin(), items.size(), wait_us)
                     : queue.try_dequeue_bulk(items.begin(), items.size());
    if (idle)
      owner->idle_ns_.fetch_add(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - wait_start).count(),
          std::memory_order_relaxed);
    if (n > 0 && !Open()) batch_start = Clock::now();
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
    const bool full = open->batch.records() >= options.max_batch;
    if (Open() && (full || (drained && delay_over))) {
      // While the committer writes the group before, this one grows (up to
      // max_batch); the committer wakes this thread when it is done.
      if (full || !Busy()) Commit();
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
