#include "tools/api_client.h"

#include <google/protobuf/util/json_util.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace hub::tools {

ApiAnswer CallApi(const std::string& host, const std::string& port, const std::string& token,
                  const std::string& method, const std::string& target, const std::string& body) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(boost::asio::ip::tcp::resolver(io).resolve(host, port));
  stream.expires_after(std::chrono::seconds(120));
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, host);
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
