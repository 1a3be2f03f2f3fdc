#include "net/scan_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>

#include "net/acceptor.h"
#include "net/scan_session.h"

namespace hub::net {

namespace asio = boost::asio;

ScanServer::ScanServer(ServerOptions options, sequencer::Sequencer* sequencer)
    : options_(std::move(options)), sequencer_(sequencer) {
  const int n = std::max(1, options_.io_threads);
  for (int i = 0; i < n; ++i) contexts_.push_back(std::make_unique<asio::io_context>(1));
}

ScanServer::~ScanServer() {
  for (auto& c : contexts_) c->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void ScanServer::Listen() {
  acceptor_ = OpenAcceptor(*contexts_[0], options_.host, options_.port);
  port_ = acceptor_->local_endpoint().port();
}

void ScanServer::Start() {
  accepting_ = true;
  Accept();
  for (auto& c : contexts_) {
    threads_.emplace_back([ctx = c.get()] {
      auto guard = asio::make_work_guard(*ctx);
      ctx->run();
    });
  }
}

void ScanServer::Accept() {
  auto& target = *contexts_[next_context_++ % contexts_.size()];
  acceptor_->async_accept(target, [this](const boost::system::error_code& ec,
                                         asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted)
        spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
      if (accepting_ && acceptor_->is_open()) Accept();
      return;
    }
    if (!accepting_) return;  // draining: the socket closes unserved
    auto session = std::make_shared<ScanSession>(std::move(socket), this);
    {
      std::lock_guard<std::mutex> lock(mu_);
      sessions_.insert(session);
    }
    asio::post(session->executor(), [session] { session->Start(); });
    if (accepting_) Accept();
  });
}

template <typename Fn>
void ScanServer::ForEachSession(Fn fn) {
  std::vector<std::shared_ptr<ScanSession>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.assign(sessions_.begin(), sessions_.end());
  }
  for (auto& s : all) fn(s);
}

void ScanServer::StopAccepting() {
  accepting_ = false;
  draining_ = true;
  asio::post(*contexts_[0], [this] {
    boost::system::error_code ec;
    acceptor_->close(ec);
  });
  ForEachSession([](const std::shared_ptr<ScanSession>& s) {
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
  ForEachSession([](const std::shared_ptr<ScanSession>& s) {
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

void ScanServer::Forget(const std::shared_ptr<ScanSession>& session) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(session);
}

}  // namespace hub::net
