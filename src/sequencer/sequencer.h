#pragma once

// The single writer. Every scan event reaches the hub state through here.
//
//   I/O thread 1 --Submit(session, events)--+
//   I/O thread 2 --Submit(session, events)--+--> ConcurrentQueue (FIFO per thread)
//   ...                                      |
//                                            v
//                           sequencer thread: drain in bulk
//                             HubState::Apply each event   (hub order)
//                             CommitBatch::Add             (log, cases, marks)
//                           end of group (size bound, or queue empty / delay):
//                             RocksDbStore::Commit         (one WriteBatch)
//                             SessionLink::Deliver(reply)  (ack, decisions, rejects)
//                           after the commit (or at once, with nothing pending):
//                             Submission::inspect(state)   (read-back copies)
//                           now and then, between commits:
//                             HubState::Snapshot -> RocksDbStore::CheckpointInBackground
//                                            |
//   session's I/O thread <--post-------------+
//
// A group of pipeline_records or more is committed and answered by the
// committer thread while the sequencer thread applies the next group (the
// commit was a quarter of the single writer's time, bench/RESULTS.md);
// smaller groups are committed on the sequencer thread. Groups are written
// one at a time, in hub order. A case action, a checkpoint, retention and a
// read-back first wait for the group being written.
//
// Nothing is answered before the commit that makes it durable. A failed
// commit is sticky: the sequencer stops applying, answers REJECT_UNAVAILABLE
// (and the sessions close: their scanners re-send from their durable seq
// once they are welcomed again) and reports unhealthy, so memory never runs
// ahead of disk. While failed it asks the store every resume_interval to
// write again (RocksDbStore::TryResume: a full disk that got space back);
// once it does, the hub state is rebuilt from what is durable (the failed
// batch was applied in memory only) and the sequencer accepts again. Every
// seq refused meanwhile was never counted as used, so nothing acked is lost
// and nothing is applied out of order.
//
// Thread safety: Submit(), in_flight(), healthy() and heartbeat() from any
// thread; Start() and Stop() from one controlling thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/arena.h>

#include "core/hub_state.h"
#include "hub/v1/session.pb.h"
#include "sequencer/sequencer_probe.h"

// The store, by name only: sessions (net/) see the sequencer through this
// header and never the store's API.
namespace hub::store {
class RocksDbStore;
struct CaseChange;  // store/commit_batch.h
}  // namespace hub::store

namespace hub::sequencer {

// What one session gets back after one group commit.
struct Reply {
  // Highest seq of the session's events handled in this commit (applied,
  // re-sent, or rejected with a code that consumes the seq); 0 when none.
  uint64_t acked_seq = 0;
  std::vector<v1::SortDecision> decisions;
  std::vector<v1::Reject> rejects;
  // Re-sent events (their seq is used): the session checks each against
  // what its seq was used for, off this thread (original decision, or
  // REJECT_SEQ_REUSED for another event under a used seq).
  std::vector<v1::ScanEvent> resent;
  // Set in answer to a hello: the scanner's last durable seq (the hello is
  // answered after the commit of every event submitted before it).
  std::optional<uint64_t> welcome;
  // Events of this reply's submissions now finished (flow control).
  uint32_t events_done = 0;
  // Set when the store failed (this commit, or an earlier one not yet
  // resumed): nothing of this reply is durable; the session closes after
  // the rejects, and its scanner resumes from the welcome of a new hello.
  bool store_failed = false;
};

// The sequencer's handle on a session. Deliver() is called on the sequencer
// thread or its committer (never both at once, and in commit order) and
// must not block: post the reply to the session's own thread.
class SessionLink {
 public:
  virtual ~SessionLink() = default;
  virtual void Deliver(Reply&& reply) = 0;
};

// Outcome of a command (reference change or case action), reported after
// the commit that made it durable.
struct CommandResult {
  bool applied = false;
  uint64_t hub_seq = 0;
  // Not applied because hubd cannot write now (the store failed, or it is
  // shutting down); otherwise the core's refusal.
  bool unavailable = false;
  core::Refusal refusal = core::Refusal::kNone;
  std::string reason;
};

using store::CaseChange;

struct Submission {
  // Set for scanner traffic (events, hello).
  std::shared_ptr<SessionLink> session;
  // Non-empty for a hello: answer with this scanner's durable seq.
  std::string hello_scanner;
  // The events of one read, in session order. They live on `arena` (which
  // the submission owns), so a whole read is freed at once, not string by
  // string on the sequencer thread.
  std::unique_ptr<google::protobuf::Arena> arena;
  std::vector<const v1::ScanEvent*> events;
  // Set for a command from the API instead: `command` holds a reference
  // change or a case action; `done` is called on the sequencer thread or its
  // committer after the commit (it must not block).
  std::optional<v1::LogRecord> command;
  std::function<void(CommandResult)> done;
  // Set for a read of the core's state instead (reference data read back:
  // routes, holds, advices, which live only in memory). Called once on the
  // sequencer thread with the state exactly as committed: at once when
  // nothing is applied and uncommitted, else right after the group commit
  // that makes the pending records durable, so it sees every command
  // answered before it was submitted. Called with nullptr when the state
  // cannot be read: the store failed (memory may hold what is not durable)
  // or the sequencer stopped. Ingest waits while it runs (the probe's
  // inspect_pause_seconds): copy what is needed, sort and render elsewhere,
  // never block, never keep the pointer (HubState::Routes() and Holds()
  // hand out copies shared until the next change: bench/RESULTS.md has the
  // pause for 10,000 routes).
  std::function<void(const core::HubState*)> inspect;
};

struct SequencerOptions {
  size_t max_batch = 4096;      // commit when a batch holds this many records
  // A group of at least this many records is written by the committer
  // thread while this one applies the next group; a smaller one is written
  // here (a few records are written sooner than two threads wake each
  // other). Checkpoints, retention and read-backs always wait for the write.
  // 0 counts as 1.
  size_t pipeline_records = 256;
  int64_t max_delay_us = 0;     // wait at most this long for more; 0: commit
                                // as soon as the queue is momentarily empty
  // Checkpoints while running, so a restart after a crash replays at most
  // about this much log: after this many committed records, or this long
  // with any committed (0 turns that trigger off). Between two commits the
  // sequencer takes the core's snapshot (its pause, in the probe) and the
  // store writes it in the background.
  uint64_t checkpoint_records = 1'000'000;
  std::chrono::seconds checkpoint_interval{300};
  // Events stamped later than the wall clock plus this are rejected with
  // REJECT_BAD_TIME (0: no limit), so hub time never runs ahead.
  std::chrono::seconds max_clock_skew{600};
  // Records older than this in hub time age out (a Retention record, once
  // an hour of hub time; never past the last checkpoint). 0: kept for ever.
  std::chrono::hours retention{400 * 24};
  // Set: retention never removes records past the hub_seq this returns
  // (the feed's cursor: nothing unpublished may age out). Called on the
  // sequencer thread; must be cheap.
  std::function<uint64_t()> retention_limit;
  // After a failed commit: how often to try whether the store writes again.
  std::chrono::milliseconds resume_interval{1000};
  // Called after each durable commit that raised or changed cases, in hub
  // order, on the sequencer thread or its committer (one at a time); must
  // not block (hand them on).
  std::function<void(std::vector<CaseChange>&&)> on_cases;
};

class Sequencer {
 public:
  // `state` (recovered) and `store` must outlive the sequencer; after
  // Start() only the sequencer thread touches them until Stop() returns.
  Sequencer(core::HubState* state, store::RocksDbStore* store, SequencerOptions options);
  ~Sequencer();

  // `uncheckpointed`: log records recovery replayed after the checkpoint;
  // they count towards the next checkpoint, so repeated crashes cannot make
  // the replay grow.
  void Start(uint64_t uncheckpointed = 0);
  // Queues work. Never blocks; callers bound the queue through in_flight().
  // After Stop() a command is answered at once with REJECT_UNAVAILABLE
  // (scanner sessions must not submit after Stop() begins).
  void Submit(Submission&& submission);
  // Applies, commits and answers everything submitted before the call, then
  // joins the thread.
  void Stop();

  // Events submitted and not yet answered.
  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }
  // Records committed so far (applied events, after their commit).
  uint64_t committed() const { return committed_.load(std::memory_order_relaxed); }
  // Liveness: advances each time the sequencer's loop turns with no group
  // being written, and each time the committer finishes one: at least every
  // few milliseconds while it runs, idle or not. It stands still while
  // either is stuck (a commit that does not return) and after Stop(). The
  // systemd watchdog pings only while it moves.
  uint64_t heartbeat() const { return heartbeat_.load(std::memory_order_relaxed); }
  // Nanoseconds the sequencer has waited for work, with nothing to commit
  // and no group being written, since Start(): 1 - its rate is the single
  // writer's load (/metrics).
  uint64_t idle_ns() const { return idle_ns_.load(std::memory_order_relaxed); }
  // Counters for /metrics; sessions count their own rejects here too.
  SequencerProbe& probe() { return probe_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<bool> healthy_{true};
  std::atomic<uint64_t> committed_{0};
  std::atomic<uint64_t> heartbeat_{0};
  std::atomic<uint64_t> idle_ns_{0};
  SequencerProbe probe_;
};

}  // namespace hub::sequencer
