#include "net/http_server.h"

#include "net/acceptor.h"

#include <spdlog/spdlog.h>

#include <array>
#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "util/log_value.h"

namespace hub::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

util::LogThrottle tls_log(std::chrono::seconds(10));

// One HTTP connection: read a request, answer it, repeat while keep-alive.
// Stream is beast::tcp_stream, or beast::ssl_stream over one (TLS).
template <typename Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  // `context` (TLS only) stays alive as long as the session.
  HttpSession(const HttpHandler* handler, asio::ip::tcp::socket socket,
              std::shared_ptr<asio::ssl::context> context = nullptr)
      : context_(std::move(context)), stream_(MakeStream(std::move(socket), context_.get())),
        handler_(handler) {}

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
    if (ec == http::error::body_limit) return Reply(413, "request body larger than 1 MiB", false);
    if (ec) {
      if (ec != asio::error::operation_aborted && ec != beast::error::timeout &&
          ec != asio::ssl::error::stream_truncated)
        return Reply(400, "malformed HTTP request: " + ec.message(), false);
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
    HttpResponse out;
    try {
      out = (*handler_)(r);
    } catch (const std::exception& e) {
      spdlog::error("event=http_handler_failed target={} error={}", util::LogValue(r.target),
                    util::LogValue(e.what()));
      out = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n"};
    }
    Send(out, req.keep_alive());
  }

  void Reply(int status, const std::string& text, bool keep_alive) {
    Send(HttpResponse{status, "text/plain; charset=utf-8", text + "\n"}, keep_alive);
  }

  void Send(const HttpResponse& out, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<http::status>(out.status));
    res->set(http::field::server, "hubd");
    res->set(http::field::content_type, out.content_type);
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
  std::string peer_;
};

}  // namespace

HttpServer::HttpServer(std::string host, uint16_t port, HttpHandler handler, TlsFiles tls)
    : host_(std::move(host)), port_(port), handler_(std::move(handler)) {
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
          &handler_, std::move(socket), tls_->Current())->Start();
    } else {
      std::make_shared<HttpSession<beast::tcp_stream>>(&handler_, std::move(socket))->Start();
    }
    Accept();
  });
}

}  // namespace hub::net
