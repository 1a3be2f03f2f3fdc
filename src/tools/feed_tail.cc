#include "tools/feed_tail.h"

#include <google/protobuf/descriptor.h>
#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "feed/feed_names.h"
#include "feed/nats_client.h"
#include "hub/v1/feed.pb.h"
#include "hub/v1/reference.pb.h"
#include "tools/api_client.h"

namespace hub::tools {

namespace {

constexpr jsErrCode kNoJsError = static_cast<jsErrCode>(0);

// A JSON string literal of `v` (bytes that are not UTF-8 replaced).
std::string Quote(std::string_view v) {
  return nlohmann::json(std::string(v))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string HeaderOf(natsMsg* m, const char* key) {
  const char* v = nullptr;
  return natsMsgHeader_Get(m, key, &v) == NATS_OK && v != nullptr ? std::string(v) : std::string();
}

// The hub_seq of one of `hub`'s feed messages: from its message id, else
// from its body; nullopt when it is neither.
std::optional<uint64_t> HubSeqOf(std::string_view hub, const std::string& msg_id, const char* data,
                                 int len) {
  if (const auto p = feed::ParseMessageId(hub, msg_id)) return p->hub_seq;
  v1::FeedMessage m;
  if (m.ParseFromArray(data, len)) return m.hub_seq();
  return std::nullopt;
}

// Owns what libnats hands out.
struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using Msg = std::unique_ptr<natsMsg, MsgDeleter>;

class Tail {
 public:
  Tail(const FeedTailOptions& o, std::FILE* out, const std::atomic<bool>& stop, std::string* error)
      : o_(o), out_(out), stop_(stop), error_(error) {}
  ~Tail() {
    std::fflush(out_);
    if (sub_ != nullptr) {
      natsSubscription_Unsubscribe(sub_);  // deletes the ephemeral consumer
      natsSubscription_Destroy(sub_);
    }
  }

  int Run() {
    feed::NatsOptions no;
    no.servers = o_.servers;
    no.name = "hubctl feed tail";
    no.creds_file = o_.creds_file;
    no.ca_file = o_.ca_file;
    no.timeout_ms = 5000;
    std::string why;
    client_ = feed::NatsClient::Connect(no, &why);
    if (!client_) return Fail(3, "cannot reach NATS at " + ServerList() + ": " + why);
    const std::string& stream = o_.selection.stream;

    jsStreamInfo* si = nullptr;
    jsErrCode jerr = kNoJsError;
    natsStatus s = js_GetStreamInfo(&si, client_->js(), stream.c_str(), nullptr, &jerr);
    if (s != NATS_OK) {
      if (jerr == JSStreamNotFoundErr)
        return Fail(1, "no stream " + stream + " on NATS at " + ServerList());
      if (s == NATS_NO_RESPONDERS)
        return Fail(1, "NATS at " + ServerList() + " has no JetStream (stream " + stream + ")");
      return Fail(1, "stream " + stream + ": " + feed::NatsError(s, jerr));
    }
    const uint64_t first = si->State.FirstSeq;
    last_ = si->State.LastSeq;
    const bool empty = si->State.Msgs == 0;
    jsStreamInfo_Destroy(si);

    uint64_t start = first;
    if (o_.from_seq > 0 && !o_.selection.dispatch && !empty) {
      if (!FindStart(first, last_, &start)) return 1;
    }
    if (!o_.follow && (empty || start > last_)) return 0;
    if (empty) start = last_ + 1;
    if (!Subscribe(std::max<uint64_t>(start, 1))) return stop_.load() ? 0 : 1;
    if (!o_.follow && NothingToDeliver()) return 0;  // nothing of the filter from `start`
    return Loop();
  }

 private:
  int Fail(int code, const std::string& message) {
    *error_ = message;
    return code;
  }

  std::string ServerList() const {
    std::string out;
    for (const auto& s : o_.servers) out += (out.empty() ? "" : ",") + s;
    return out;
  }

  // The hub_seq at stream sequence `seq`; nullopt when there is no message
  // there (deleted). False with *error_ set when the request fails.
  bool HubSeqAt(uint64_t seq, std::optional<uint64_t>* hub_seq) {
    natsMsg* raw = nullptr;
    jsErrCode jerr = kNoJsError;
    const natsStatus s =
        js_GetMsg(&raw, client_->js(), o_.selection.stream.c_str(), seq, nullptr, &jerr);
    Msg m(raw);
    if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) {
      hub_seq->reset();
      return true;
    }
    if (s != NATS_OK) {
      *error_ = "reading " + o_.selection.stream + " at " + std::to_string(seq) + ": " +
                feed::NatsError(s, jerr);
      return false;
    }
    *hub_seq = HubSeqOf(o_.hub, HeaderOf(m.get(), "Nats-Msg-Id"), natsMsg_GetData(m.get()),
                        natsMsg_GetDataLength(m.get()));
    // A message that is not the hub's counts as after the start: the
    // filter below drops it anyway.
    if (!hub_seq->has_value()) *hub_seq = UINT64_MAX;
    return true;
  }

  // The first stream sequence in [lo, hi] whose hub_seq >= from_seq (hi + 1
  // when none): a binary search, the stream being in hub_seq order. Deleted
  // sequences are stepped over (a few; past that the search settles for an
  // earlier start, and the hub_seq filter does the rest).
  bool FindStart(uint64_t lo, uint64_t hi, uint64_t* start) {
    uint64_t found = hi + 1;
    while (lo <= hi) {  // lo >= 1: stream sequences start at 1
      const uint64_t mid = lo + (hi - lo) / 2;
      std::optional<uint64_t> hs;
      uint64_t probe = mid;
      for (int steps = 0; probe <= hi && steps < 64; ++probe, ++steps) {
        if (!HubSeqAt(probe, &hs)) return false;
        if (hs) break;
      }
      if (!hs) {
        if (probe > hi) {
          hi = mid - 1;  // nothing from mid to hi
          continue;
        }
        *start = lo;  // a long deleted range: start early, filter
        return true;
      }
      if (*hs >= o_.from_seq) {
        found = probe;
        hi = mid - 1;
      } else {
        lo = probe + 1;
      }
    }
    *start = found;
    return true;
  }

  bool Subscribe(uint64_t start) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = o_.selection.stream.c_str();
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start;
    // In a cluster that just lost a node, creating the consumer can time
    // out (its meta leader being elected, or the consumer placed on the
    // lost node); a new attempt goes again. Up to 10 s.
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 2000;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      jsErrCode jerr = kNoJsError;
      const natsStatus s =
          js_SubscribeSync(&sub_, client_->js(), o_.selection.subject.c_str(), &jo, &so, &jerr);
      if (s == NATS_OK) break;
      sub_ = nullptr;
      const bool again = s == NATS_TIMEOUT || jerr == JSClusterNotAvailErr;
      if (!again || std::chrono::steady_clock::now() >= deadline || stop_.load()) {
        *error_ = "reading " + o_.selection.stream + " (" + o_.selection.subject +
                  "): " + feed::NatsError(s, jerr);
        return false;
      }
    }
    // The ordered consumer's flow control paces the server; no client-side
    // limit that would drop messages.
    natsSubscription_SetPendingLimits(sub_, -1, -1);
    return true;
  }

  // Prints one message if the filters keep it.
  void Print(natsMsg* m, uint64_t stream_seq) {
    const std::string subject = natsMsg_GetSubject(m);
    const std::string msg_id = HeaderOf(m, "Nats-Msg-Id");
    const char* data = natsMsg_GetData(m);
    const int len = natsMsg_GetDataLength(m);
    if (o_.from_seq > 0) {
      if (o_.selection.dispatch) {
        v1::DispatchAdvice a;
        if (a.ParseFromArray(data, len) && a.from_hub_seq() < o_.from_seq) return;
      } else {
        const auto hs = HubSeqOf(o_.hub, msg_id, data, len);
        if (hs && *hs < o_.from_seq) return;
      }
    }
    std::string line;
    if (!FeedJsonLine(o_.selection.dispatch, subject, msg_id, std::string_view(data, len), &line)) {
      std::fprintf(stderr, "hubctl: %s sequence %llu (%s): not a %s, skipped\n",
                   o_.selection.stream.c_str(), static_cast<unsigned long long>(stream_seq),
                   subject.c_str(), o_.selection.dispatch ? "DispatchAdvice" : "FeedMessage");
      return;
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), out_);
    // Each line out at once when following; while more wait, they may
    // share a write.
    uint64_t queued = 0;
    natsSubscription_QueuedMsgs(sub_, &queued);
    if (queued == 0) std::fflush(out_);
  }

  int Loop() {
    using Clock = std::chrono::steady_clock;
    auto quiet_since = Clock::now();
    while (!stop_.load()) {
      natsMsg* raw = nullptr;
      const natsStatus s = natsSubscription_NextMsg(&raw, sub_, 250);
      Msg m(raw);
      if (s == NATS_TIMEOUT) {
        std::fflush(out_);  // a line held back for a message that was then filtered out
        if (!o_.follow && Clock::now() - quiet_since > std::chrono::seconds(2) && NothingLeft())
          return 0;
        continue;
      }
      if (s == NATS_MISMATCH || s == NATS_SLOW_CONSUMER) continue;  // the ordered consumer recovers
      if (s == NATS_CONNECTION_CLOSED || s == NATS_INVALID_SUBSCRIPTION)
        return Fail(3, "lost the connection to NATS at " + ServerList());
      if (s != NATS_OK)
        return Fail(1, "reading " + o_.selection.stream + ": " + feed::NatsError(s));
      quiet_since = Clock::now();
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, m.get()) != NATS_OK) continue;
      const uint64_t seq = meta->Sequence.Stream;
      const uint64_t pending = meta->NumPending;
      jsMsgMetaData_Destroy(meta);
      if (!o_.follow && seq > last_) return 0;
      Print(m.get(), seq);
      if (!o_.follow && (seq >= last_ || pending == 0)) return 0;
    }
    return 0;
  }

  // True when the consumer has nothing to deliver: just created, nothing
  // delivered nor pending (the filter matches nothing from the start).
  bool NothingToDeliver() { return ConsumerDone(true); }
  // No follow, after a quiet while: true when the consumer has nothing left
  // to deliver and nothing waits here (every message up to the start's last
  // was seen; a safety net, the sequence numbers end the loop first).
  bool NothingLeft() { return ConsumerDone(false); }

  bool ConsumerDone(bool nothing_delivered) {
    jsConsumerInfo* ci = nullptr;
    jsErrCode jerr = kNoJsError;
    if (natsSubscription_GetConsumerInfo(&ci, sub_, nullptr, &jerr) != NATS_OK) return false;
    const bool done = ci->NumPending == 0 && (!nothing_delivered || ci->Delivered.Consumer == 0);
    jsConsumerInfo_Destroy(ci);
    uint64_t queued = 0;
    natsSubscription_QueuedMsgs(sub_, &queued);
    return done && queued == 0;
  }

  const FeedTailOptions& o_;
  std::FILE* out_;
  const std::atomic<bool>& stop_;
  std::string* error_;
  std::unique_ptr<feed::NatsClient> client_;
  natsSubscription* sub_ = nullptr;
  uint64_t last_ = 0;
};

}  // namespace

std::string FeedKinds() { return "events, events.<kind>, cases, reference, retention, dispatch"; }

std::optional<FeedSelection> SelectFeed(std::string_view hub, std::string_view kind,
                                        std::string_view stream, std::string* error) {
  FeedSelection sel;
  sel.stream = feed::HubStream(hub);
  const std::string base = "hub." + std::string(hub) + ".";
  if (kind.empty()) {
    sel.subject = feed::HubSubjects(hub);
  } else if (kind == "events") {
    sel.subject = base + "events.>";
  } else if (kind == "cases" || kind == "reference" || kind == "retention") {
    sel.subject = base + std::string(kind);
  } else if (kind == "dispatch") {
    sel.stream = std::string(feed::kDispatchStream);
    sel.subject = feed::DispatchSubject(hub);
    sel.dispatch = true;
  } else if (kind.substr(0, 7) == "events.") {
    const std::string event(kind.substr(7));
    const auto* body = v1::ScanEvent::descriptor()->FindOneofByName("body");
    const auto* field = v1::ScanEvent::descriptor()->FindFieldByName(event);
    if (field == nullptr || field->containing_oneof() != body) {
      std::string kinds;
      for (int i = 0; body != nullptr && i < body->field_count(); ++i)
        kinds += (i ? ", " : "") + std::string(body->field(i)->name());
      *error = "unknown event kind '" + event + "' (one of: " + kinds + ")";
      return std::nullopt;
    }
    sel.subject = base + "events." + event;
  } else {
    *error = "unknown --kind '" + std::string(kind) + "' (one of: " + FeedKinds() + ")";
    return std::nullopt;
  }
  if (!stream.empty()) sel.stream = std::string(stream);
  return sel;
}

std::vector<std::string> SplitServers(std::string_view urls) {
  std::vector<std::string> out;
  while (!urls.empty()) {
    const auto comma = urls.find(',');
    std::string_view url = urls.substr(0, comma);
    urls = comma == std::string_view::npos ? std::string_view() : urls.substr(comma + 1);
    while (!url.empty() && url.front() == ' ') url.remove_prefix(1);
    while (!url.empty() && url.back() == ' ') url.remove_suffix(1);
    if (!url.empty()) out.emplace_back(url);
  }
  return out;
}

bool FeedJsonLine(bool dispatch, std::string_view subject, std::string_view msg_id,
                  std::string_view data, std::string* line) {
  v1::FeedMessage feed_message;
  v1::DispatchAdvice advice;
  google::protobuf::Message& m = dispatch ? static_cast<google::protobuf::Message&>(advice)
                                          : static_cast<google::protobuf::Message&>(feed_message);
  if (!m.ParseFromArray(data.data(), static_cast<int>(data.size()))) return false;
  const std::string body = ToJson(m);  // "{...}"
  if (body.size() < 2 || body.front() != '{') return false;
  *line = "{\"subject\":" + Quote(subject) + ",\"msg_id\":" + Quote(msg_id) +
          (body == "{}" ? "}" : "," + body.substr(1));
  return true;
}

int FeedTail(const FeedTailOptions& options, std::FILE* out, const std::atomic<bool>& stop,
             std::string* error) {
  return Tail(options, out, stop, error).Run();
}

}  // namespace hub::tools
