#include "tools/api_client.h"

#include <google/protobuf/util/json_util.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <limits>

namespace hub::tools {

bool ParseApiServer(const std::string& text, ApiServer* out) {
  std::string rest = text;
  bool https = false;
  if (rest.rfind("https://", 0) == 0) {
    https = true;
    rest = rest.substr(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return false;
  std::string host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port = rest.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos) return false;
  out->host = host;
  out->port = port;
  out->https = https;
  return true;
}

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;

http::request<http::string_body> Request(const ApiServer& server, const std::string& token,
                                         const std::string& method, const std::string& target,
                                         const std::string& body) {
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, server.host);
  req.set(http::field::content_type, "application/json");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  req.body() = body;
  req.prepare_payload();
  return req;
}

template <typename Stream>
ApiAnswer Exchange(Stream& stream, const ApiServer& server, const std::string& token,
                   const std::string& method, const std::string& target, const std::string& body) {
  http::write(stream, Request(server, token, method, target, body));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return ApiAnswer{static_cast<int>(res.result_int()), std::move(res.body())};
}

template <typename Stream>
ApiAnswer ReadStream(Stream& stream, const ApiServer& server, const std::string& token,
                     const std::string& target,
                     const std::function<bool(std::string_view)>& on_data, int idle_seconds) {
  auto req = Request(server, token, "GET", target, "");
  req.set(http::field::accept, "text/event-stream");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  // No limit (Boost 1.74 refuses every Content-Length with boost::none).
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(idle_seconds));
  http::read_header(stream, buffer, parser);
  ApiAnswer answer{static_cast<int>(parser.get().result_int()), ""};
  const bool ok = answer.status / 100 == 2;
  char chunk[8192];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof(chunk);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(idle_seconds));
    boost::system::error_code ec;
    http::read_some(stream, buffer, parser,
                    ec);  // returns with what arrived: a stream may go on for hours
    if (ec && ec != http::error::need_buffer) throw boost::system::system_error(ec);
    const std::string_view got(chunk, sizeof(chunk) - parser.get().body().size);
    if (!ok) {
      answer.body.append(got);
    } else if (!got.empty() && !on_data(got)) {
      break;
    }
  }
  return answer;
}

// Connects to `server` and calls `f(stream)` with a plain or TLS stream.
template <typename F>
ApiAnswer Connected(const ApiServer& server, F&& f) {
  boost::asio::io_context io;
  beast::tcp_stream tcp(io);
  tcp.connect(boost::asio::ip::tcp::resolver(io).resolve(server.host, server.port));
  tcp.expires_after(std::chrono::seconds(120));
  if (!server.https) return f(tcp);
  ssl::context ctx(ssl::context::tls_client);
  if (server.ca_file.empty()) {
    ctx.set_default_verify_paths();
  } else {
    ctx.load_verify_file(server.ca_file);
  }
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), ctx);
  stream.set_verify_callback(ssl::host_name_verification(server.host));
  SSL_set_tlsext_host_name(stream.native_handle(), server.host.c_str());
  stream.handshake(ssl::stream_base::client);
  return f(stream);
}

}  // namespace

ApiAnswer CallApi(const ApiServer& server, const std::string& token, const std::string& method,
                  const std::string& target, const std::string& body) {
  return Connected(
      server, [&](auto& stream) { return Exchange(stream, server, token, method, target, body); });
}

ApiAnswer StreamApi(const ApiServer& server, const std::string& token, const std::string& target,
                    const std::function<bool(std::string_view)>& on_data, int idle_seconds) {
  return Connected(server, [&](auto& stream) {
    return ReadStream(stream, server, token, target, on_data, idle_seconds);
  });
}

std::string PercentEncode(std::string_view v) {
  std::string out;
  for (const char c : v) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

std::string ErrorMessage(const std::string& body) {
  const std::string key = "\"error\":\"";
  const auto at = body.find(key);
  if (at == std::string::npos) return body;
  const auto end = body.rfind('"');
  return end > at + key.size() ? body.substr(at + key.size(), end - at - key.size()) : body;
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

}  // namespace hub::tools
