#include "feed/feed_publisher.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>
#include <pthread.h>
#include <sched.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "feed/feed_names.h"
#include "feed/nats_client.h"
#include "feed/stop_signal.h"
#include "util/log_value.h"

namespace hub::feed {
namespace {

using Clock = std::chrono::steady_clock;
using util::LogValue;

constexpr size_t kRecordsPerRound = 1024;
// Cases read per round (more when one record raised more): a few per
// hundred records on a real day, so most of a read is used.
constexpr size_t kCasesPerRead = 256;
constexpr auto kIdlePoll = std::chrono::milliseconds(20);
constexpr size_t kSeenMax = 4096;  // log ends remembered for the lag's age
// The durable cursor is written at most this often (and when the feed goes
// idle, and at stop). A write from this low-priority thread joins RocksDB's
// write queue, and one preempted there holds up the sequencer's group
// commit queued behind it (a priority inversion): it must be rare. The
// cursor is not needed for exactness (the stream says where to go on).
constexpr auto kCursorInterval = std::chrono::seconds(1);
constexpr int kMaxBackoffMs = 2000;
// The hub's stream (when hubd creates it) keeps JetStream's message ids
// only as long as a re-send can come (a round's confirm times out within
// seconds; Nats-Expected-Last-Sequence, not the ids, makes publishing
// exact), not the default two minutes of ids (some 5 million at a
// catch-up's rate).
constexpr std::chrono::nanoseconds kHubStreamDuplicates = std::chrono::seconds(30);

enum class Round { kIdle, kProgress, kFailed };
enum State : int { kConnecting, kPublishing, kCaughtUp, kStopped };

const char* StateName(int s) {
  switch (s) {
    case kConnecting: return "connecting";
    case kPublishing: return "publishing";
    case kCaughtUp: return "caught_up";
    case kStopped: return "stopped";
  }
  return "unknown";
}

// The calling thread, and the NATS client threads it starts later (they
// inherit it), yield the CPU to ingest (FeedOptions::priority): "idle" runs
// only on CPU time nothing else wants, and any ingest thread that wakes
// takes the CPU at once (a nice-19 thread still gets a share of a saturated
// machine). "low" is nice 19; "normal" changes nothing.
void LowerPriority(const std::string& priority) {
  if (priority == "idle") {
    sched_param param{};
    if (const int e = pthread_setschedparam(pthread_self(), SCHED_IDLE, &param); e != 0)
      spdlog::warn("event=feed_priority_failed priority=idle error={}", LogValue(std::strerror(e)));
  } else if (priority == "low" && ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19) != 0) {
    spdlog::warn("event=feed_priority_failed priority=low error={}", LogValue(std::strerror(errno)));
  }
}

// Room left in a message for its headers (Nats-Msg-Id,
// Nats-Expected-Last-Sequence): the server's max_payload counts them.
constexpr size_t kHeaderRoom = 512;

// What is published instead of a message over the server's max_payload
// (`whole` its serialized size): the envelope, and how much was left out.
std::string Omitted(const v1::FeedMessage& m, size_t whole) {
  v1::FeedMessage out;
  out.set_schema_version(m.schema_version());
  out.set_hub_id(m.hub_id());
  out.set_hub_seq(m.hub_seq());
  out.set_part(m.part());
  if (m.has_origin()) *out.mutable_origin() = m.origin();
  out.set_omitted_bytes(whole);
  return out.SerializeAsString();
}

// A case as it was raised: the supervisor's later steps are messages of
// their own (case_action).
v1::ExceptionCase AsRaised(v1::ExceptionCase c) {
  c.set_status(v1::OPEN);
  c.clear_acknowledged();
  c.clear_resolved();
  return c;
}

}  // namespace

struct FeedPublisher::Impl {
  FeedOptions opt;
  store::RocksDbStore* store;
  std::string stream;

  std::thread thread;
  StopSignal stop;

  // Reported (any thread).
  std::atomic<int> state{kConnecting};
  std::atomic<bool> connected{false};
  std::atomic<uint64_t> cursor{0};        // hub_seq of the stream's last message
  mutable std::atomic<int64_t> behind_since{0};  // Clock ticks; 0: caught up
  std::atomic<uint64_t> messages{0}, records{0}, dispatches{0}, errors{0}, oversize{0};
  mutable std::mutex error_mu;
  std::string last_error;
  util::LogThrottle throttle{std::chrono::seconds(10)};


  // The publisher thread's own.
  std::unique_ptr<NatsClient> client;
  bool synced = false;
  bool dispatch_stream_checked = false;
  natsMsg* held = nullptr;   // the round's last message so far (Send)
  size_t max_payload = SIZE_MAX;  // the server's, read at each Sync
  // (when, the log's last hub_seq then), oldest first: records after the
  // cursor, for the lag's age (NoteLag).
  std::deque<std::pair<Clock::time_point, uint64_t>> seen;
  Position pos;              // the stream's last message; {0, 0}: none
  uint64_t stream_seq = 0;   // its stream sequence
  // The first case not yet published: of record pos.hub_seq after a Sync
  // (whole false), of the records after it once a round sent it whole.
  uint64_t next_case_id = 1;
  bool whole = false;
  bool halted = false;  // an operator must act: no more publishing until restart
  bool pos_known = false;    // pos was read from the stream (a Sync)
  Position saved;            // the durable cursor
  Clock::time_point saved_at{};

  Impl(FeedOptions o, store::RocksDbStore* s) : opt(std::move(o)), store(s) {
    stream = opt.stream.empty() ? HubStream(opt.hub_id) : opt.stream;
  }

  void SetError(const std::string& what) {
    ++errors;
    {
      std::lock_guard lock(error_mu);
      last_error = what;
    }
    uint64_t held = 0;
    if (throttle.Allow(&held))
      spdlog::warn("event=feed_error stream={} error={} suppressed={}", LogValue(stream), LogValue(what),
                   held);
  }
  Round Fail(const std::string& what) {
    SetError(what);
    synced = false;
    return Round::kFailed;
  }
  // An error an operator must mend: the publisher waits and looks again.
  Round Halt(const std::string& what) {
    state = kStopped;
    halted = true;
    Fail(what);
    spdlog::error("event=feed_halted stream={} reason={} way_out={}", LogValue(stream), LogValue(what),
                  LogValue("mend the stream or the data directory, then restart hubd"));
    return Round::kFailed;
  }

  // Lag in seconds is the age of the oldest record not yet published: when
  // the log was first seen holding it. This thread notes the log's end
  // after every round; Report() starts the clock too, while this thread
  // waits on NATS.
  void NoteLag() {
    uint64_t last = 0;
    if (!store->LastHubSeq(&last).ok()) return;
    const auto now = Clock::now();
    if (seen.empty() || last > seen.back().second) {
      if (seen.size() == kSeenMax) seen.pop_back();  // a long outage: the newest ages least
      seen.emplace_back(now, last);
    }
    const uint64_t c = cursor.load();
    while (!seen.empty() && seen.front().second <= c) seen.pop_front();
    behind_since = seen.empty() ? 0 : seen.front().first.time_since_epoch().count();
  }

  void Run() {
    LowerPriority(opt.priority);
    int backoff_ms = 100;
    while (!stop.requested()) {
      const Round r = Step();
      NoteLag();
      if (r == Round::kProgress) {
        backoff_ms = 100;
      } else if (r == Round::kIdle) {
        backoff_ms = 100;
        stop.WaitFor(kIdlePoll);
      } else {
        stop.WaitFor(std::chrono::milliseconds(backoff_ms));
        backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
      }
    }
    natsMsg_Destroy(held);
    held = nullptr;
    SaveCursor(true);
    client.reset();
  }

  void SaveCursor(bool now) {
    if (!pos_known || pos == saved) return;
    if (!now && Clock::now() - saved_at < kCursorInterval) return;
    if (store::Status w = store->WriteFeedCursor(pos.hub_seq, pos.part); !w.ok()) {
      SetError("cannot write the feed cursor: " + w.ToString());
      return;
    }
    saved = pos;
    saved_at = Clock::now();
  }

  Round Step() {
    if (halted) return Round::kFailed;
    if (!client) {
      state = kConnecting;
      NatsOptions nats = opt.nats;
      nats.reconnect_forever = true;
      nats.name = "hubd feed " + opt.hub_id;
      nats.on_state = [this](bool up) { connected = up; };
      std::string error;
      client = NatsClient::Connect(nats, &error);
      if (!client) return Fail("cannot connect to NATS: " + error);
      synced = false;
    }
    if (!synced) {
      if (Round r = Sync(); r != Round::kProgress) return r;
      synced = true;
    }
    return Publish();
  }

  // The stream exists, or is created now (create_streams).
  Round EnsureStream(const StreamSpec& spec) {
    bool created = false;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = feed::EnsureStream(client->js(), spec, opt.create_streams, &created, &jerr);
    if (s == NATS_NOT_FOUND && !opt.create_streams)
      return Halt("stream " + spec.name + " does not exist: create it for subjects " + spec.subject +
                  ", or set [feed] create_streams = true");
    if (s != NATS_OK) return Fail("cannot read or create stream " + spec.name + ": " + NatsError(s, jerr));
    if (created)
      spdlog::info("event=feed_stream_created stream={} subjects={} replicas={} max_age_hours={}",
                   LogValue(spec.name), LogValue(spec.subject), spec.replicas,
                   std::chrono::duration_cast<std::chrono::hours>(spec.max_age).count());
    return Round::kProgress;
  }

  // The first case id raised at or after `hub_seq` (ids grow with hub_seq):
  // a binary search over point reads. A case removed by retention is older.
  bool FirstCaseFrom(uint64_t hub_seq, uint64_t* out) {
    std::vector<v1::ExceptionCase> newest;
    uint64_t examined = 0;
    auto all = [](const v1::ExceptionCase&) { return true; };
    if (!store->CasesBefore(UINT64_MAX, 1, 1, all, &newest, &examined).ok()) return false;
    uint64_t lo = 1, hi = newest.empty() ? 1 : newest[0].id() + 1;
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      v1::ExceptionCase c;
      store::Status s = store->GetCase(mid, &c);
      if (!s.ok() && !s.IsNotFound()) return false;
      if (!s.ok() || c.hub_seq() < hub_seq) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    *out = lo;
    return true;
  }

  // Finds where the stream stands; the next message to publish follows it.
  Round Sync() {
    const StreamSpec hub_stream{stream, HubSubjects(opt.hub_id), opt.replicas,
                                std::chrono::hours(24 * opt.max_age_days), kHubStreamDuplicates};
    if (Round r = EnsureStream(hub_stream); r != Round::kProgress) return r;
    if (!dispatch_stream_checked) {
      if (Round r = EnsureStream(DispatchStreamSpec(opt.replicas)); r != Round::kProgress) return r;
      dispatch_stream_checked = true;
    }
    jsErrCode jerr = static_cast<jsErrCode>(0);
    jsStreamInfo* si = nullptr;
    natsStatus s = js_GetStreamInfo(&si, client->js(), stream.c_str(), nullptr, &jerr);
    if (s != NATS_OK) return Fail("cannot read stream " + stream + ": " + NatsError(s, jerr));
    const uint64_t last_seq = si->State.LastSeq, held_msgs = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    Position p;
    std::string last_data;
    uint64_t cursor_seq = 0;
    uint32_t cursor_part = 0;
    if (!store->ReadFeedCursor(&cursor_seq, &cursor_part).ok()) return Fail("cannot read the feed cursor");
    if (last_seq > 0 && held_msgs == 0) {
      // Purged, or everything aged out of it: go on from what this hub
      // knows it published, after the stream's last sequence.
      p = {cursor_seq, cursor_part};
      spdlog::warn("event=feed_stream_empty stream={} stream_seq={} cursor_hub_seq={} cursor_part={} note={}",
                   LogValue(stream), last_seq, cursor_seq, cursor_part,
                   LogValue("the stream holds no message: publishing after the feed cursor"));
    } else if (last_seq > 0) {
      natsMsg* m = nullptr;
      s = js_GetMsg(&m, client->js(), stream.c_str(), last_seq, nullptr, &jerr);
      if (s != NATS_OK) return Fail("cannot read the last message of " + stream + ": " + NatsError(s, jerr));
      const char* id = nullptr;
      if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK) id = nullptr;
      const std::string text = id != nullptr ? id : "";
      last_data.assign(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
      natsMsg_Destroy(m);
      auto parsed = ParseMessageId(opt.hub_id, text);
      if (!parsed)
        return Halt("stream " + stream + " ends with a message that is not hub " + opt.hub_id + "'s (seq " +
                    std::to_string(last_seq) + ", id " + LogValue(text) +
                    "): the stream must hold this hub's subjects only");
      p = *parsed;
    }
    uint64_t log_last = 0;
    if (!store->LastHubSeq(&log_last).ok()) return Fail("cannot read the log");
    if (p.hub_seq > log_last)
      return Halt("stream " + stream + " is ahead of this hub's log (it holds hub_seq " +
                  std::to_string(p.hub_seq) + ", the log ends at " + std::to_string(log_last) +
                  "): another hubd publishes as hub " + opt.hub_id +
                  ", or this data directory was restored from an older backup");
    if (Position{cursor_seq, cursor_part} > p)
      spdlog::warn("event=feed_stream_behind stream={} stream_hub_seq={} stream_part={} cursor_hub_seq={} "
                   "cursor_part={} note={}",
                   LogValue(stream), p.hub_seq, p.part, cursor_seq, cursor_part,
                   LogValue("the stream lacks messages this hub had published (purged or lost): "
                            "publishing them again"));
    uint64_t first_case = 1;
    if (!FirstCaseFrom(p.hub_seq, &first_case)) return Fail("cannot read the cases");
    // The stream's last message must be what the log says it is: else the
    // log is another timeline (restored from an older backup, a power cut
    // under durability=wal) that has since grown past it.
    if (!last_data.empty()) {
      std::string logged;
      if (!LoggedMessage(p, first_case, &logged)) return Fail("cannot read the log");
      // (Published without its body if it was over the server's max_payload.)
      v1::FeedMessage whole;
      const bool same = logged.empty() || logged == last_data ||
                        (whole.ParseFromString(logged) && last_data == Omitted(whole, logged.size()));
      if (!same)
        return Halt("stream " + stream + " holds another message as hub_seq " + std::to_string(p.hub_seq) +
                    " part " + std::to_string(p.part) +
                    " than this hub's log: another hubd publishes as hub " + opt.hub_id +
                    ", or this data directory lost records the stream has (an older backup, a power cut "
                    "with durability=wal)");
    }
    pos = p;
    pos_known = true;
    const int64_t server_max = natsConnection_GetMaxPayload(client->connection());
    max_payload = server_max > 0 ? static_cast<size_t>(server_max) : SIZE_MAX;  // 0: not told
    stream_seq = last_seq;
    next_case_id = first_case;  // of record p.hub_seq, read again next
    whole = false;
    cursor = p.hub_seq;
    state = kPublishing;
    spdlog::info("event=feed_synced stream={} stream_seq={} hub_seq={} part={} log_hub_seq={}",
                 LogValue(stream), last_seq, p.hub_seq, p.part, log_last);
    return Round::kProgress;
  }

  // The feed message of a record (part 0), taking its contents.
  v1::FeedMessage RecordMessage(v1::LogRecord& rec) const {
    v1::FeedMessage m;
    if (rec.has_dispatch()) {
      m.mutable_dispatch()->Swap(rec.mutable_dispatch());
      m.mutable_dispatch()->set_from_hub(opt.hub_id);
      m.mutable_dispatch()->set_from_hub_seq(rec.hub_seq());
    }
    MoveRecord(rec, &m);
    return m;
  }
  void Stamp(v1::FeedMessage& m, uint64_t hub_seq, uint32_t part) const {
    m.set_schema_version(kSchemaVersion);
    m.set_hub_id(opt.hub_id);
    m.set_hub_seq(hub_seq);
    m.set_part(part);
  }

  // What the log says message `p` is (serialized); empty when the log no
  // longer has it (retention).
  bool LoggedMessage(Position p, uint64_t first_case, std::string* out) {
    out->clear();
    v1::FeedMessage m;
    if (p.part == 0) {
      std::vector<v1::LogRecord> one;
      if (!store->ReadLog(p.hub_seq, 1, &one).ok()) return false;
      if (one.empty() || one[0].hub_seq() != p.hub_seq) return true;
      m = RecordMessage(one[0]);
    } else {
      v1::ExceptionCase c;
      store::Status st = store->GetCase(first_case + p.part - 1, &c);
      if (st.IsNotFound()) return true;
      if (!st.ok()) return false;
      *m.mutable_case_raised() = AsRaised(std::move(c));
    }
    Stamp(m, p.hub_seq, p.part);
    *out = m.SerializeAsString();
    return true;
  }

  // Over the server's max_payload with the headers a message carries.
  bool TooLarge(size_t bytes) const { return bytes > max_payload - std::min(max_payload, kHeaderRoom); }

  // Appends one message after stream sequence *seq. Each carries the
  // stream sequence it expects before it; the round's last one is held back
  // and published with JetStream's acknowledgement (Confirm), which by that
  // expectation proves every one before it was stored, in order. The others
  // go without a reply: no ack per message for the server to send and the
  // client to match.
  bool Send(v1::FeedMessage& m, uint64_t hub_seq, uint32_t part, uint64_t* seq) {
    Stamp(m, hub_seq, part);
    const std::string subject = SubjectOf(m);
    std::string data = m.SerializeAsString();
    const std::string id = MessageId(opt.hub_id, hub_seq, part);
    if (TooLarge(data.size())) {
      ++oversize;
      spdlog::warn("event=feed_message_oversize msg_id={} bytes={} max_payload={} note={}", LogValue(id),
                   data.size(), max_payload,
                   LogValue("published without its body (omitted_bytes); raise the server's max_payload"));
      data = Omitted(m, data.size());
    }
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", id.c_str());
    if (s == NATS_OK && *seq > 0)  // 0: an empty stream, no expectation
      s = natsMsgHeader_Set(msg, "Nats-Expected-Last-Sequence", std::to_string(*seq).c_str());
    if (s == NATS_OK && held != nullptr) s = natsConnection_PublishMsg(client->connection(), held);
    natsMsg_Destroy(held);
    held = nullptr;
    if (s != NATS_OK) {
      natsMsg_Destroy(msg);
      SetError("publish " + id + ": " + NatsError(s));
      return false;
    }
    held = msg;
    ++*seq;
    return true;
  }

  // Publishes the held message and waits for JetStream's acknowledgement.
  bool Confirm() {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = opt.nats.timeout_ms;
    jsPubAck* ack = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_PublishMsg(&ack, client->js(), held, &po, &jerr);
    natsMsg_Destroy(held);
    held = nullptr;
    if (ack != nullptr) jsPubAck_Destroy(ack);
    if (s != NATS_OK) {
      SetError("publish: " + NatsError(s, jerr));
      return false;
    }
    return true;
  }

  // The dispatch advice of a departure, acknowledged before its record.
  bool SendDispatch(const v1::LogRecord& rec) {
    v1::DispatchAdvice a = rec.dispatch();
    a.set_from_hub(opt.hub_id);
    a.set_from_hub_seq(rec.hub_seq());
    const std::string subject = DispatchSubject(a.to_hub());
    const std::string data = a.SerializeAsString();
    const std::string id = DispatchMessageId(opt.hub_id, rec.hub_seq());
    if (TooLarge(data.size())) {
      // Not published: the next hub treats the vehicle as unadvised. The
      // record's own message (part 0) says what was dispatched.
      ++oversize;
      spdlog::error("event=feed_dispatch_oversize msg_id={} to_hub={} bytes={} max_payload={} note={}", LogValue(id),
                    LogValue(a.to_hub()), data.size(), max_payload,
                    LogValue("not published: raise the NATS server's max_payload"));
      return true;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.MaxWait = opt.nats.timeout_ms;
    jsPubAck* ack = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_Publish(&ack, client->js(), subject.c_str(), data.data(), static_cast<int>(data.size()),
                              &po, &jerr);
    if (ack != nullptr) jsPubAck_Destroy(ack);
    if (s != NATS_OK) {
      SetError("publish dispatch advice " + id + " to " + subject + ": " + NatsError(s, jerr));
      return false;
    }
    ++dispatches;
    return true;
  }

  static void MoveRecord(v1::LogRecord& rec, v1::FeedMessage* m) {
    using R = v1::LogRecord;
    switch (rec.body_case()) {
      case R::kEvent: m->mutable_event()->Swap(rec.mutable_event()); break;
      case R::kReference: m->mutable_reference()->Swap(rec.mutable_reference()); break;
      case R::kCaseAction: m->mutable_case_action()->Swap(rec.mutable_case_action()); break;
      case R::kRetention: m->mutable_retention()->Swap(rec.mutable_retention()); break;
      case R::BODY_NOT_SET: break;
    }
    if (rec.has_decision()) m->mutable_decision()->Swap(rec.mutable_decision());
    if (rec.has_origin()) m->mutable_origin()->Swap(rec.mutable_origin());
  }

  Round Publish() {
    // The log first, then the cases: a record's cases are committed with
    // it, so every record read here has all its cases in the read below.
    // After a round the last record is whole (all its parts sent): go on
    // from the next one. After a Sync the stream may end inside a record:
    // read it again and skip what the stream has.
    const uint64_t from = whole ? pos.hub_seq + 1 : std::max<uint64_t>(pos.hub_seq, 1);
    std::vector<v1::LogRecord> recs;
    if (!store->ReadLog(from, kRecordsPerRound, &recs).ok()) return Fail("cannot read the log");
    if (recs.empty()) return Idle();
    std::vector<v1::ExceptionCase> cases;
    uint64_t complete_through = UINT64_MAX;  // records whose cases are all in `cases`
    auto all = [](const v1::ExceptionCase&) { return true; };
    for (size_t limit = kCasesPerRead;; limit *= 4) {
      if (!store->CasesAfter(next_case_id - 1, limit, all, &cases).ok()) return Fail("cannot read the cases");
      complete_through = UINT64_MAX;
      if (cases.size() < limit) break;
      complete_through = cases.back().hub_seq() - 1;
      // The first record with anything to send must be whole in this read,
      // however many cases it raised (a sweep can raise thousands at once).
      if (complete_through >= std::max(pos.hub_seq + 1, recs.front().hub_seq())) break;
    }
    uint64_t seq = stream_seq, sent = 0, sent_records = 0;
    uint64_t next = next_case_id;  // the first case after the last record sent
    Position last = pos;
    size_t ci = 0;
    for (v1::LogRecord& rec : recs) {
      const uint64_t h = rec.hub_seq();
      if (h > complete_through) break;
      while (ci < cases.size() && cases[ci].hub_seq() < h) ++ci;  // of records that aged out
      if (Position{h, 0} > pos) {
        if (rec.has_dispatch() && !SendDispatch(rec)) return Abandon();
        v1::FeedMessage m = RecordMessage(rec);
        if (!Send(m, h, 0, &seq)) return Abandon();
        ++sent, ++sent_records;
        last = {h, 0};
      }
      for (uint32_t part = 1; ci < cases.size() && cases[ci].hub_seq() == h; ++part, ++ci) {
        if (Position{h, part} <= pos) continue;
        v1::FeedMessage m;
        *m.mutable_case_raised() = AsRaised(cases[ci]);
        if (!Send(m, h, part, &seq)) return Abandon();
        ++sent;
        last = {h, part};
      }
      if (last.hub_seq == h) next = ci < cases.size() ? cases[ci].id() : (cases.empty() ? next : cases.back().id() + 1);
    }
    if (sent == 0) return Idle();
    state = kPublishing;
    if (!Confirm()) return Abandon();
    pos = last;
    whole = true;
    stream_seq = seq;
    next_case_id = next;
    cursor = pos.hub_seq;
    messages += sent;
    records += sent_records;
    SaveCursor(false);
    return Round::kProgress;
  }

  Round Idle() {
    SaveCursor(false);
    state = kCaughtUp;
    return Round::kIdle;
  }

  // A publish failed or was not acknowledged: forget what is in flight and
  // read the stream again before going on.
  Round Abandon() {
    natsMsg_Destroy(held);
    held = nullptr;
    {
      std::lock_guard lock(error_mu);
      if (last_error.empty()) last_error = "publish failed";
    }
    synced = false;
    return Round::kFailed;
  }
};

FeedPublisher::FeedPublisher(FeedOptions options, store::RocksDbStore* store)
    : impl_(std::make_unique<Impl>(std::move(options), store)) {
  uint64_t seq = 0;
  uint32_t part = 0;
  if (store->ReadFeedCursor(&seq, &part).ok()) {
    impl_->cursor = seq;
    impl_->saved = {seq, part};
  }
}

FeedPublisher::~FeedPublisher() { Stop(); }

void FeedPublisher::Start() {
  if (impl_->thread.joinable()) return;
  spdlog::info("event=feed_starting hub_id={} stream={} servers={} cursor_hub_seq={}",
               LogValue(impl_->opt.hub_id), LogValue(impl_->stream), impl_->opt.nats.servers.size(),
               impl_->cursor.load());
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void FeedPublisher::Stop() {
  impl_->stop.Request();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint64_t FeedPublisher::published_through() const {
  const uint64_t c = impl_->cursor.load();
  return c == 0 ? 0 : c - 1;  // the last record's cases may still be on their way
}

void FeedPublisher::Report(FeedStatus* out) const {
  const Impl& i = *impl_;
  out->enabled = true;
  out->connected = i.connected.load();
  // The connection's state comes from libnats' callbacks: while it is down
  // the feed is connecting again, whatever its thread was doing.
  const int state = i.state.load();
  out->state = StateName(!out->connected && state != kStopped ? kConnecting : state);
  out->cursor_hub_seq = i.cursor.load();
  // From the store, not the publisher thread: it may be waiting on NATS.
  uint64_t last = 0;
  if (!i.store->LastHubSeq(&last).ok()) last = 0;
  out->last_hub_seq = std::max(last, out->cursor_hub_seq);
  int64_t since = i.behind_since.load();
  if (since == 0 && out->last_hub_seq > out->cursor_hub_seq) {
    const int64_t now = Clock::now().time_since_epoch().count();
    since = i.behind_since.compare_exchange_strong(since, now) ? now : i.behind_since.load();
  }
  out->lag_seconds =
      since == 0 || out->last_hub_seq == out->cursor_hub_seq ? 0
                 : std::chrono::duration<double>(Clock::now().time_since_epoch() - Clock::duration(since)).count();
  out->messages_published = i.messages.load();
  out->records_published = i.records.load();
  out->dispatch_published = i.dispatches.load();
  out->publish_errors = i.errors.load();
  out->oversize = i.oversize.load();
  std::lock_guard lock(i.error_mu);
  out->last_error = i.last_error;
}

}  // namespace hub::feed
