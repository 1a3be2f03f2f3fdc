#include "net/http_server.h"

#include "net/acceptor.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "util/log_value.h"
#include "util/thread_name.h"

namespace hub::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace detail {
// The connection a request came on, from the handler's side.
class ReplyTarget {
 public:
  virtual ~ReplyTarget() = default;
  virtual void Respond(HttpResponse response) = 0;
  virtual std::shared_ptr<HttpStream> OpenStream(const std::string& content_type) = 0;
};
}  // namespace detail

struct HttpReply::Pending {
  std::shared_ptr<detail::ReplyTarget> target;
  std::atomic<bool> answered{false};

  bool Claim() { return !answered.exchange(true); }
  ~Pending() {
    if (!answered) target->Respond({500, "text/plain; charset=utf-8", "internal error: no answer\n", {}});
  }
};

HttpReply::HttpReply(std::shared_ptr<detail::ReplyTarget> target)
    : pending_(std::make_shared<Pending>()) {
  pending_->target = std::move(target);
}

void HttpReply::Send(HttpResponse response) const {
  if (pending_->Claim()) pending_->target->Respond(std::move(response));
}

namespace {

class CallbackTarget : public detail::ReplyTarget {
 public:
  explicit CallbackTarget(std::function<void(HttpResponse)> done) : done_(std::move(done)) {}
  void Respond(HttpResponse response) override { done_(std::move(response)); }
  std::shared_ptr<HttpStream> OpenStream(const std::string& content_type) override {
    done_({200, content_type, "", {}});
    return std::make_shared<Nowhere>();
  }

 private:
  struct Nowhere : HttpStream {
    bool Write(std::string) override { return false; }
    void Close() override {}
    bool closed() const override { return true; }
    size_t queued() const override { return 0; }
  };
  std::function<void(HttpResponse)> done_;
};

}  // namespace

HttpReply HttpReply::ToCallback(std::function<void(HttpResponse)> done) {
  return HttpReply(std::make_shared<CallbackTarget>(std::move(done)));
}

std::shared_ptr<HttpStream> HttpReply::OpenStream(const std::string& content_type) const {
  if (!pending_->Claim()) return nullptr;
  return pending_->target->OpenStream(content_type);
}

namespace {

util::LogThrottle tls_log(std::chrono::seconds(10));

// One HTTP connection: read a request, answer it, repeat while keep-alive.
// Stream is beast::tcp_stream, or beast::ssl_stream over one (TLS).
template <typename Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  // `context` (TLS only) stays alive as long as the session.
  HttpSession(const HttpHandler* handler, const HttpServer::ErrorRenderer* errors,
              asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> context = nullptr)
      : context_(std::move(context)), stream_(MakeStream(std::move(socket), context_.get())),
        handler_(handler), errors_(errors) {}

  void Start() {
    beast::error_code ec;
    const auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  uint64_t held = 0;
                                  if (tls_log.Allow(&held))
                                    spdlog::info("event=http_tls_handshake_failed error={} suppressed={}",
                                                 util::LogValue(ec.message()), held);
                                  return;
                                }
                                self->Read();
                              });
    } else {
      Read();
    }
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  static Stream MakeStream(asio::ip::tcp::socket socket, asio::ssl::context* context) {
    if constexpr (kTls) {
      return Stream(beast::tcp_stream(std::move(socket)), *context);
    } else {
      return Stream(std::move(socket));
    }
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(HttpServer::kMaxBody);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return Close();
    // The request line, once read, names the target of the error (Beast
    // refuses a too-long body as soon as it reads Content-Length).
    const std::string target(parser_->get().target());
    if (ec == http::error::body_limit) return Refuse(target, 413, "request body larger than 1 MiB");
    if (ec) {
      if (ec != asio::error::operation_aborted && ec != beast::error::timeout &&
          ec != asio::ssl::error::stream_truncated)
        return Refuse(target, 400, "malformed HTTP request: " + ec.message());
      return Close();
    }
    const auto& req = parser_->get();
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.body = req.body();
    r.peer = peer_;
    if (auto it = req.find(http::field::authorization); it != req.end())
      r.authorization = std::string(it->value());
    keep_alive_ = req.keep_alive();
    HttpReply reply(std::make_shared<Target>(this->shared_from_this()));
    try {
      (*handler_)(std::move(r), reply);
    } catch (const std::exception& e) {
      spdlog::error("event=http_handler_failed target={} error={}", util::LogValue(std::string(req.target())),
                    util::LogValue(e.what()));
      reply.Send(HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}});
    }
  }

  // An answer hubd gives before any handler saw the request; the connection
  // closes after it.
  void Refuse(const std::string& target, int status, const std::string& text) {
    HttpResponse out{status, "text/plain; charset=utf-8", text + "\n", {}};
    if (*errors_) out = (*errors_)(target, status, text);
    Send(out, false);
  }

  // The handler's side of this connection for one request. Answers are
  // posted to the connection's own thread.
  class Target : public detail::ReplyTarget {
   public:
    explicit Target(std::shared_ptr<HttpSession> session) : session_(std::move(session)) {}
    void Respond(HttpResponse response) override {
      asio::post(session_->stream_.get_executor(), [s = session_, out = std::move(response)] {
        s->Send(out, s->keep_alive_);
      });
    }
    std::shared_ptr<HttpStream> OpenStream(const std::string& content_type) override {
      auto writer = std::make_shared<Writer>(session_);
      asio::post(session_->stream_.get_executor(),
                 [s = session_, writer, content_type] { s->StartStream(writer, content_type); });
      return writer;
    }

   private:
    std::shared_ptr<HttpSession> session_;
  };

  // The write end of a streamed answer. Bytes queue in the writer (bounded)
  // and the connection's thread sends them in order. It holds the session
  // weakly: the session holds it, and the connection's own pending reads
  // and writes keep the session alive while it is open.
  class Writer : public HttpStream {
   public:
    static constexpr size_t kMaxQueued = 8 << 20;
    explicit Writer(const std::shared_ptr<HttpSession>& session) : session_(session) {}
    bool Write(std::string bytes) override {
      if (closed_) return false;
      if (queued_.fetch_add(bytes.size()) + bytes.size() > kMaxQueued) {
        Close();
        return false;
      }
      return Post([b = std::move(bytes)](HttpSession& s) mutable { s.StreamWrite(std::move(b)); });
    }
    void Close() override {
      if (closed_.exchange(true)) return;
      Post([](HttpSession& s) { s.StreamWrite({}, true); });
    }
    bool closed() const override { return closed_; }
    size_t queued() const override { return queued_; }

   private:
    friend class HttpSession;
    template <typename F>
    bool Post(F f) {
      auto session = session_.lock();
      if (!session) {
        closed_ = true;
        return false;
      }
      asio::post(session->stream_.get_executor(), [session, f = std::move(f)]() mutable { f(*session); });
      return true;
    }
    std::weak_ptr<HttpSession> session_;
    std::atomic<bool> closed_{false};
    std::atomic<size_t> queued_{0};
  };

  // Streaming: the head, then each piece as it comes; a read stays pending
  // so that the client closing ends the stream at once.
  void StartStream(const std::shared_ptr<Writer>& writer, const std::string& content_type) {
    writer_ = writer;
    beast::get_lowest_layer(stream_).expires_never();
    out_.push_back("HTTP/1.1 200 OK\r\nServer: hubd\r\nContent-Type: " + content_type +
                   "\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n");
    WatchPeer();
    WriteNext();
  }

  void StreamWrite(std::string bytes, bool end = false) {
    if (end) {
      ending_ = true;
    } else {
      out_.push_back(std::move(bytes));
    }
    WriteNext();
  }

  void WriteNext() {
    if (writing_ || gone_) return;
    if (out_.empty()) {
      if (ending_) PeerGone();  // all sent: the body ends with the connection
      return;
    }
    writing_ = true;
    asio::async_write(stream_, asio::buffer(out_.front()),
                      [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                        self->writing_ = false;
                        self->writer_->queued_ -= std::min(self->writer_->queued_.load(), n);
                        self->out_.pop_front();
                        if (ec) return self->PeerGone();
                        self->WriteNext();
                      });
  }

  void WatchPeer() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->PeerGone();
                              self->WatchPeer();
                            });
  }

  void PeerGone() {
    if (gone_) return;
    gone_ = true;
    writer_->closed_ = true;
    out_.clear();
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  void Send(const HttpResponse& out, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<http::status>(out.status));
    res->set(http::field::server, "hubd");
    res->set(http::field::content_type, out.content_type);
    for (const auto& [name, value] : out.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = out.body;
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive) return self->Close();
                        self->Read();
                      });
  }

  // Half-closes, then reads and drops what the peer still sends (say the
  // rest of a body we refused) until it closes too: closing with unread
  // input would reset the connection and the peer might lose our answer.
  // Under TLS: close_notify, then wait (briefly) for the peer's.
  void Close() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    if constexpr (kTls) {
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
      Drain();
    }
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              if (!ec) self->Drain();
                            });
  }

  std::shared_ptr<asio::ssl::context> context_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::array<char, 16384> discard_;
  const HttpHandler* handler_;
  const HttpServer::ErrorRenderer* errors_;
  std::string peer_;
  bool keep_alive_ = false;
  // Streaming (connection's thread only).
  std::shared_ptr<Writer> writer_;
  std::deque<std::string> out_;
  bool writing_ = false, ending_ = false, gone_ = false;
};

}  // namespace

HttpServer::HttpServer(std::string host, uint16_t port, HttpHandler handler, TlsFiles tls,
                       ErrorRenderer errors)
    : host_(std::move(host)), port_(port), handler_(std::move(handler)), errors_(std::move(errors)) {
  if (tls.enabled()) tls_ = std::make_unique<TlsContextSource>(std::move(tls));
}

std::string HttpServer::ReloadTls() { return tls_ ? tls_->Reload() : ""; }

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Listen() {
  acceptor_ = OpenAcceptor(io_, host_, port_);
  backoff_ = std::make_unique<AcceptBackoff>(io_, "http_accept_failed");
  port_ = acceptor_->local_endpoint().port();
}

void HttpServer::Start() {
  Accept();
  thread_ = std::thread([this] {
    util::NameThisThread("hub-http");
    auto guard = asio::make_work_guard(io_);
    io_.run();
  });
}

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

void HttpServer::Accept() {
  acceptor_->async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      return backoff_->Failed(ec, [this] { Accept(); });
    }
    backoff_->Succeeded();
    if (tls_) {
      // The session keeps the context it was accepted with (a reload on
      // SIGHUP swaps it for later connections only).
      std::make_shared<HttpSession<beast::ssl_stream<beast::tcp_stream>>>(
          &handler_, &errors_, std::move(socket), tls_->Current())->Start();
    } else {
      std::make_shared<HttpSession<beast::tcp_stream>>(&handler_, &errors_, std::move(socket))->Start();
    }
    Accept();
  });
}

}  // namespace hub::net
