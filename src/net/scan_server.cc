#include "net/scan_server.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <algorithm>
#include <future>

#include "net/acceptor.h"
#include "util/log_value.h"
#include "util/thread_name.h"

namespace hub::net {

namespace asio = boost::asio;

namespace {
util::LogThrottle refuse_log(std::chrono::seconds(10));
}  // namespace

ScanServer::ScanServer(ServerOptions options, sequencer::Sequencer* sequencer,
                       ResendLookup check_resend)
    : options_(std::move(options)),
      sequencer_(sequencer),
      auth_(options_.secrets, !options_.tls.client_ca.empty()) {
  if (options_.tls.enabled()) tls_ = std::make_unique<TlsContextSource>(options_.tls);
  if (!options_.tls.client_ca.empty() && !tls_)
    throw std::invalid_argument("client certificates (client_ca) need TLS (cert and key)");
  const int n = std::max(1, options_.io_threads);
  for (int i = 0; i < n; ++i) contexts_.push_back(std::make_unique<asio::io_context>(1));
  env_.options = &options_;
  env_.sequencer = sequencer_;
  env_.registry = &registry_;
  env_.auth = &auth_;
  env_.check_resend = std::move(check_resend);
  env_.probe = &probe_;
  env_.draining = &draining_;
  env_.closed = [this](Connection* c) { Forget(c); };
  for (size_t i = 0; i < options_.devices.size(); ++i) devices_.emplace_back().probe = std::make_unique<DeviceProbe>();
}

ScanServer::~ScanServer() {
  for (auto& c : contexts_) c->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void ScanServer::Listen() {
  acceptor_ = OpenAcceptor(*contexts_[0], options_.host, options_.port);
  port_ = acceptor_->local_endpoint().port();
  backoff_ = std::make_unique<AcceptBackoff>(*contexts_[0], "accept_failed");
  for (size_t i = 0; i < devices_.size(); ++i) {
    const DeviceOptions& d = options_.devices[i];
    devices_[i].acceptor = OpenAcceptor(*contexts_[0], d.host, d.port);
    devices_[i].port = devices_[i].acceptor->local_endpoint().port();
    devices_[i].backoff = std::make_unique<AcceptBackoff>(*contexts_[0], "device_accept_failed");
  }
}

void ScanServer::Start() {
  accepting_ = true;
  Accept();
  for (size_t i = 0; i < devices_.size(); ++i) AcceptDevice(i);
  for (auto& c : contexts_) {
    threads_.emplace_back([ctx = c.get()] {
      util::NameThisThread("hub-io");
      auto guard = asio::make_work_guard(*ctx);
      ctx->run();
    });
  }
}

std::string ScanServer::ReloadTls() { return tls_ ? tls_->Reload() : ""; }

void ScanServer::Accept() {
  auto& target = *contexts_[next_context_++ % contexts_.size()];
  acceptor_->async_accept(target, [this](const boost::system::error_code& ec,
                                         asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !accepting_ || !acceptor_->is_open()) return;
    if (ec) {
      ScanServerProbe::Add(probe_.accept_errors);
      return backoff_->Failed(ec, [this] {
        if (accepting_) Accept();
      });
    }
    backoff_->Succeeded();
    OnAccept(std::move(socket));
    Accept();
  });
}

bool ScanServer::Admit(const std::string& address) {
  const char* refused = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t& from_here = per_address_[address];
    if (sessions_.size() >= options_.max_sessions) {
      refused = "max_sessions";
      ScanServerProbe::Add(probe_.refused_max_sessions);
    } else if (from_here >= options_.max_sessions_per_address) {
      refused = "max_sessions_per_address";
      ScanServerProbe::Add(probe_.refused_per_address);
    } else {
      ++from_here;
    }
    if (refused && from_here == 0) per_address_.erase(address);
  }
  if (refused) {
    uint64_t held = 0;
    if (refuse_log.Allow(&held))
      spdlog::warn("event=session_refused reason={} peer={} suppressed={}", refused, address, held);
  }
  return refused == nullptr;
}

void ScanServer::Add(std::shared_ptr<Connection> connection, std::string address) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.emplace(connection.get(), Entry{connection, std::move(address)});
  }
  asio::post(connection->executor(), [connection] { connection->Start(); });
}

void ScanServer::OnAccept(asio::ip::tcp::socket socket) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return;  // gone already
  std::string address = ep.address().to_string();
  if (!Admit(address)) {
    socket.close(ec);
    return;
  }
  std::string peer = address + ":" + std::to_string(ep.port());
  auto session = tls_ ? std::make_shared<ScanSession>(ScanStream(std::move(socket), tls_->Current()),
                                                      std::move(peer), env_)
                      : std::make_shared<ScanSession>(ScanStream(std::move(socket)), std::move(peer), env_);
  Add(std::move(session), std::move(address));
}

void ScanServer::AcceptDevice(size_t i) {
  DeviceListener& l = devices_[i];
  auto& target = *contexts_[next_context_++ % contexts_.size()];
  l.acceptor->async_accept(target, [this, i](const boost::system::error_code& ec,
                                             asio::ip::tcp::socket socket) {
    DeviceListener& l = devices_[i];
    if (ec == asio::error::operation_aborted || !accepting_ || !l.acceptor->is_open()) return;
    if (ec) {
      ScanServerProbe::Add(probe_.accept_errors);
      return l.backoff->Failed(ec, [this, i] {
        if (accepting_) AcceptDevice(i);
      });
    }
    l.backoff->Succeeded();
    OnAcceptDevice(i, std::move(socket));
    AcceptDevice(i);
  });
}

void ScanServer::OnAcceptDevice(size_t i, asio::ip::tcp::socket socket) {
  const DeviceOptions& d = options_.devices[i];
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return;
  std::string address = ep.address().to_string();
  if (!d.allow_from.empty() &&
      std::find(d.allow_from.begin(), d.allow_from.end(), address) == d.allow_from.end()) {
    DeviceProbe::Add(devices_[i].probe->refused);
    uint64_t held = 0;
    if (refuse_log.Allow(&held))
      spdlog::warn("event=device_refused reason=not_in_allow_from peer={} scanner={} suppressed={}", address,
                   util::LogValue(d.scanner_id), held);
    socket.close(ec);
    return;
  }
  if (!Admit(address)) {
    socket.close(ec);
    return;
  }
  std::string peer = address + ":" + std::to_string(ep.port());
  Add(std::make_shared<TelegramSession>(std::move(socket), std::move(peer), d, *devices_[i].probe, env_),
      std::move(address));
}

template <typename Fn>
void ScanServer::ForEachSession(Fn fn) {
  std::vector<std::shared_ptr<Connection>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ptr, entry] : sessions_) all.push_back(entry.session);
  }
  for (auto& s : all) fn(s);
}

void ScanServer::StopAccepting() {
  accepting_ = false;
  draining_ = true;
  asio::post(*contexts_[0], [this] {
    boost::system::error_code ec;
    acceptor_->close(ec);
    backoff_->Cancel();
    for (DeviceListener& d : devices_) {
      d.acceptor->close(ec);
      d.backoff->Cancel();
    }
  });
  ForEachSession([](const std::shared_ptr<Connection>& s) {
    asio::post(s->executor(), [s] { s->StopReading(); });
  });
  // Barrier: once every I/O thread has run a task posted now, no handler
  // that saw draining() == false is still running, so nothing more reaches
  // the sequencer and it can be stopped.
  std::vector<std::future<void>> done;
  for (auto& c : contexts_) {
    auto p = std::make_shared<std::promise<void>>();
    done.push_back(p->get_future());
    asio::post(*c, [p] { p->set_value(); });
  }
  for (auto& f : done) f.wait();
}

void ScanServer::CloseSessions(int timeout_ms) {
  ForEachSession([](const std::shared_ptr<Connection>& s) {
    asio::post(s->executor(), [s] { s->CloseWhenFlushed(); });
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (sessions_open() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (sessions_open() > 0)
    spdlog::warn("event=sessions_unflushed count={} timeout_ms={}", sessions_open(), timeout_ms);
  for (auto& c : contexts_) c->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

size_t ScanServer::sessions_open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

void ScanServer::Forget(Connection* session) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  auto at = per_address_.find(it->second.address);
  if (at != per_address_.end() && --at->second == 0) per_address_.erase(at);
  // The last reference may be this one; the caller's handler holds another.
  sessions_.erase(it);
  if (!trim_pending_) {
    trim_pending_ = true;
    asio::post(*contexts_[0], [this] { TrimMemory(); });
  }
}

// Closed sessions free their buffers, but glibc keeps freed memory in its
// arenas; after a wave of closes (a burst of hostile connections holding
// partial frames, a shift change) hand it back to the system, at most once
// a second.
void ScanServer::TrimMemory() {
  auto timer = std::make_shared<asio::steady_timer>(*contexts_[0], std::chrono::seconds(1));
  timer->async_wait([this, timer](const boost::system::error_code& ec) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      trim_pending_ = false;
    }
    if (!ec) ::malloc_trim(0);
  });
}

}  // namespace hub::net
