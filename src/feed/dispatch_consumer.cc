#include "feed/dispatch_consumer.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "feed/feed_names.h"
#include "feed/nats_client.h"
#include "feed/stop_signal.h"
#include "util/log_value.h"

namespace hub::feed {
namespace {

using util::LogValue;

// One advice at a time: with more than one delivered and unacked, a crash
// could have a later advice of a hub applied before an earlier one is
// delivered again, which its mark would then refuse.
constexpr int kFetchBatch = 1;
constexpr int64_t kFetchWaitMs = 500;
constexpr int64_t kAckWaitNs = 30'000'000'000;  // re-delivered when not acked in 30 s

}  // namespace

struct DispatchConsumer::Impl {
  FeedOptions opt;
  sequencer::Sequencer* sequencer;
  std::string subject, durable;

  std::thread thread;
  StopSignal stop;

  std::atomic<bool> consuming{false};
  std::atomic<uint64_t> applied{0}, duplicate{0}, invalid{0};
  mutable std::mutex error_mu;
  std::string error;
  util::LogThrottle throttle{std::chrono::seconds(10)};

  std::unique_ptr<NatsClient> client;
  natsSubscription* sub = nullptr;

  Impl(FeedOptions o, sequencer::Sequencer* s) : opt(std::move(o)), sequencer(s) {
    subject = DispatchSubject(opt.hub_id);
    durable = "hubd_" + opt.hub_id;
  }
  ~Impl() { Drop(); }

  void SetError(const std::string& what) {
    {
      std::lock_guard lock(error_mu);
      error = what;
    }
    uint64_t held = 0;
    if (throttle.Allow(&held))
      spdlog::warn("event=dispatch_consumer_error subject={} error={} suppressed={}", LogValue(subject),
                   LogValue(what), held);
  }
  void Drop() {
    if (sub != nullptr) natsSubscription_Destroy(sub);
    sub = nullptr;
    client.reset();
    consuming = false;
  }

  bool Subscribe() {
    if (!client) {
      NatsOptions nats = opt.nats;
      nats.reconnect_forever = true;
      nats.name = "hubd dispatch " + opt.hub_id;
      std::string e;
      client = NatsClient::Connect(nats, &e);
      if (!client) {
        SetError("cannot connect to NATS: " + e);
        return false;
      }
    }
    jsErrCode jerr = static_cast<jsErrCode>(0);
    if (opt.create_streams) {
      // Another hubd may create it meanwhile: the subscribe says.
      bool created = false;
      EnsureStream(client->js(), DispatchStreamSpec(opt.replicas), true, &created, &jerr);
    }
    jsSubOptions so;
    jsSubOptions_Init(&so);
    const std::string stream(kDispatchStream);
    so.Stream = stream.c_str();
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.AckWait = kAckWaitNs;
    so.Config.DeliverPolicy = js_DeliverAll;
    so.Config.MaxAckPending = 1;
    natsStatus s = js_PullSubscribe(&sub, client->js(), subject.c_str(), durable.c_str(), nullptr, &so, &jerr);
    if (s != NATS_OK) {
      sub = nullptr;
      SetError("cannot subscribe to " + subject + " on stream " + stream + ": " + NatsError(s, jerr));
      return false;
    }
    consuming = true;
    spdlog::info("event=dispatch_consumer_started subject={} durable={}", LogValue(subject), LogValue(durable));
    return true;
  }

  // Applies one advice; false when hubd is stopping before it could.
  bool Handle(natsMsg* msg) {
    v1::DispatchAdvice advice;
    const bool parsed = advice.ParseFromArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    if (!parsed || advice.to_hub() != opt.hub_id) {
      ++invalid;
      spdlog::error("event=dispatch_advice_invalid subject={} reason={}", LogValue(natsMsg_GetSubject(msg)),
                    LogValue(parsed ? "addressed to hub " + advice.to_hub() : std::string("not a DispatchAdvice")));
      natsMsg_Term(msg, nullptr);
      return true;
    }
    for (;;) {
      v1::LogRecord rec;
      *rec.mutable_reference()->mutable_dispatch_advice() = advice;
      rec.mutable_origin()->set_who("feed:" + advice.from_hub());
      rec.mutable_origin()->set_at_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
      std::promise<sequencer::CommandResult> done;
      sequencer::Submission submission;
      submission.command = std::move(rec);
      submission.done = [&done](sequencer::CommandResult r) { done.set_value(std::move(r)); };
      sequencer->Submit(std::move(submission));
      const sequencer::CommandResult r = done.get_future().get();
      if (r.applied) {
        ++applied;
        spdlog::info("event=dispatch_advice_applied from_hub={} from_hub_seq={} vehicle={} bags={} hub_seq={}",
                     LogValue(advice.from_hub()), advice.from_hub_seq(),
                     LogValue(advice.vehicle().vehicle_id()), advice.bags_size(), r.hub_seq);
        natsMsg_Ack(msg, nullptr);
        return true;
      }
      if (r.refusal == core::Refusal::kDuplicate) {
        ++duplicate;
        spdlog::info("event=dispatch_advice_duplicate from_hub={} from_hub_seq={}", LogValue(advice.from_hub()),
                     advice.from_hub_seq());
        natsMsg_Ack(msg, nullptr);
        return true;
      }
      if (!r.unavailable) {
        ++invalid;
        spdlog::error("event=dispatch_advice_invalid from_hub={} from_hub_seq={} reason={}",
                      LogValue(advice.from_hub()), advice.from_hub_seq(), LogValue(r.reason));
        natsMsg_Term(msg, nullptr);
        return true;
      }
      // The store cannot write now: this advice again before any later one.
      SetError("cannot apply dispatch advice now: " + r.reason);
      if (stop.requested()) return false;
      stop.WaitFor(std::chrono::milliseconds(1000));
      if (stop.requested()) return false;
    }
  }

  void Run() {
    int backoff_ms = 100;
    while (!stop.requested()) {
      if (sub == nullptr && !Subscribe()) {
        stop.WaitFor(std::chrono::milliseconds(backoff_ms));
        backoff_ms = std::min(backoff_ms * 2, 2000);
        continue;
      }
      backoff_ms = 100;
      natsMsgList list{};
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s = natsSubscription_Fetch(&list, sub, kFetchBatch, kFetchWaitMs, &jerr);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) {
        SetError("fetch from " + subject + ": " + NatsError(s, jerr));
        Drop();  // the consumer or stream may be gone: subscribe again
        stop.WaitFor(std::chrono::milliseconds(500));
        continue;
      }
      for (int i = 0; i < list.Count; ++i)
        if (!Handle(list.Msgs[i])) break;  // unacked ones are delivered again
      natsMsgList_Destroy(&list);
    }
    Drop();
  }
};

DispatchConsumer::DispatchConsumer(FeedOptions options, sequencer::Sequencer* sequencer)
    : impl_(std::make_unique<Impl>(std::move(options), sequencer)) {}

DispatchConsumer::~DispatchConsumer() { Stop(); }

void DispatchConsumer::Start() {
  if (!impl_->thread.joinable()) impl_->thread = std::thread([this] { impl_->Run(); });
}

void DispatchConsumer::Stop() {
  impl_->stop.Request();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void DispatchConsumer::Report(FeedStatus* out) const {
  const Impl& i = *impl_;
  out->consuming = i.consuming.load();
  out->advices_applied = i.applied.load();
  out->advices_duplicate = i.duplicate.load();
  out->advices_invalid = i.invalid.load();
  std::lock_guard lock(i.error_mu);
  out->consumer_error = i.error;
}

}  // namespace hub::feed
