#include "api/case_stream.h"

#include <chrono>

#include "api/render.h"

namespace hub::api {
namespace {

constexpr auto kKeepAlive = std::chrono::seconds(15);

std::string CaseEvent(const store::CaseChange& change) {
  return "event: case\nid: " + std::to_string(change.hub_seq) + "\ndata: " + RenderLine(change.c) + "\n\n";
}

}  // namespace

bool CaseFilter::Matches(const v1::ExceptionCase& c) const {
  return (type == v1::EXCEPTION_TYPE_UNSPECIFIED || c.type() == type) &&
         (status == v1::EXCEPTION_STATUS_UNSPECIFIED || c.status() == status) &&
         (id.empty() || c.parcel_id() == id || c.bag_id() == id || c.vehicle_id() == id ||
          c.load_id() == id);
}

CaseStream::CaseStream(const sequencer::SequencerProbe* probe)
    : probe_(probe), thread_([this] { Run(); }) {}

CaseStream::~CaseStream() { Stop(); }

void CaseStream::Publish(std::vector<store::CaseChange>&& changes) {
  if (changes.empty()) return;
  std::lock_guard lock(mu_);
  published_ = std::max(published_, changes.back().hub_seq);
  if (subscribers_.empty()) return;
  for (auto& c : changes) queue_.push_back(std::move(c));
  wake_.notify_one();
}

bool CaseStream::Subscribe(std::shared_ptr<net::HttpStream> out, CaseFilter filter) {
  std::lock_guard lock(mu_);
  if (stop_ || subscribers_.size() >= kMaxSubscribers) return false;
  // Every change at or below the probe's hub_seq was published before the
  // probe moved (the sequencer publishes, then updates it), so before this
  // lock: the hello's mark splits what came before from what follows.
  const uint64_t after = std::max(published_, probe_->hub_seq.load(std::memory_order_relaxed));
  out->Write("event: hello\ndata: {\"hub_seq\":\"" + std::to_string(after) + "\"}\n\n");
  subscribers_.push_back({std::move(out), std::move(filter), after});
  return true;
}

size_t CaseStream::subscribers() const {
  std::lock_guard lock(mu_);
  return subscribers_.size();
}

void CaseStream::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
    wake_.notify_one();
  }
  thread_.join();
  for (auto& s : subscribers_) s.out->Close();
  subscribers_.clear();
}

void CaseStream::Run() {
  std::unique_lock lock(mu_);
  auto last_sent = std::chrono::steady_clock::now();
  while (!stop_) {
    wake_.wait_until(lock, last_sent + kKeepAlive, [this] { return stop_ || !queue_.empty(); });
    if (stop_) break;
    std::deque<store::CaseChange> batch;
    batch.swap(queue_);
    std::vector<Subscriber> subs = subscribers_;
    lock.unlock();
    // Rendered once per change, written to each subscriber it matches.
    std::vector<std::string> events;
    for (const auto& c : batch) events.push_back(CaseEvent(c));
    std::vector<net::HttpStream*> gone;
    // Before each write: a subscriber already too far behind gets the
    // overflow event instead (checked per event, so one big batch cannot
    // carry it past the stream's own hard limit without a word).
    auto write = [](Subscriber& s, const std::string& text) {
      if (s.out->queued() <= kMaxUnsent) return s.out->Write(text);
      s.out->Write("event: overflow\ndata: {\"error\":\"this client fell too far behind; read the list again and reconnect\"}\n\n");
      s.out->Close();
      return false;
    };
    for (auto& s : subs) {
      bool alive = !s.out->closed();
      if (batch.empty() && alive) alive = write(s, ": keep-alive\n\n");
      for (size_t i = 0; i < batch.size() && alive; ++i)
        if (batch[i].hub_seq > s.after && s.filter.Matches(batch[i].c)) alive = write(s, events[i]);
      if (!alive) gone.push_back(s.out.get());
    }
    last_sent = std::chrono::steady_clock::now();
    lock.lock();
    if (!gone.empty())
      std::erase_if(subscribers_, [&](const Subscriber& s) {
        return std::find(gone.begin(), gone.end(), s.out.get()) != gone.end();
      });
  }
}

}  // namespace hub::api
