#include "tools/api_client.h"

#include <google/protobuf/util/json_util.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>

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
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
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

template <typename Stream>
ApiAnswer Exchange(Stream& stream, const ApiServer& server, const std::string& token,
                   const std::string& method, const std::string& target, const std::string& body) {
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, server.host);
  req.set(http::field::content_type, "application/json");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return ApiAnswer{static_cast<int>(res.result_int()), std::move(res.body())};
}

}  // namespace

ApiAnswer CallApi(const ApiServer& server, const std::string& token, const std::string& method,
                  const std::string& target, const std::string& body) {
  boost::asio::io_context io;
  beast::tcp_stream tcp(io);
  tcp.connect(boost::asio::ip::tcp::resolver(io).resolve(server.host, server.port));
  tcp.expires_after(std::chrono::seconds(120));
  if (!server.https) return Exchange(tcp, server, token, method, target, body);
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
  return Exchange(stream, server, token, method, target, body);
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
