#pragma once

// One blocking HTTP/1.1 request to hubd's API (docs/api.md), shared by the
// command-line tools. Each tool decides what an error answer means to it.

#include <google/protobuf/message.h>

#include <functional>
#include <string>
#include <string_view>

namespace hub::tools {

struct ApiAnswer {
  int status = 0;
  std::string body;
};

// Where the API is. With https, the daemon's certificate is verified against
// ca_file (PEM), or the system's CAs when ca_file is empty, and must name
// `host`.
struct ApiServer {
  std::string host = "127.0.0.1";
  std::string port = "7480";
  bool https = false;
  std::string ca_file;
};

// "HOST:PORT", "http://HOST:PORT" or "https://HOST:PORT" (IPv6 hosts in
// brackets) into *out, keeping out->ca_file. False on anything else.
bool ParseApiServer(const std::string& text, ApiServer* out);

// Sends `method` ("GET" or "POST") `target` with a JSON body and, when
// `token` is set, a bearer token. Throws std::exception when the daemon
// cannot be reached or the exchange (or the TLS handshake) fails.
ApiAnswer CallApi(const ApiServer& server, const std::string& token, const std::string& method,
                  const std::string& target, const std::string& body = "");

// GETs `target` and hands each piece of a 2xx answer's body to `on_data` as
// it arrives (a stream of server-sent events, for one) until the daemon
// ends it, `on_data` returns false, or nothing (not even a keep-alive)
// arrived for `idle_seconds`, which throws. An answer that is not 2xx comes
// back whole, as from CallApi. Throws as CallApi does.
ApiAnswer StreamApi(const ApiServer& server, const std::string& token, const std::string& target,
                    const std::function<bool(std::string_view)>& on_data, int idle_seconds = 60);

// `v` for a query value or a path segment: every byte but A-Z a-z 0-9 - . _ ~
// as %XX (so `+` is %2B, `/` %2F, a space %20).
std::string PercentEncode(std::string_view v);

// The message of an error answer ({"error":"..."}), or the body as it is.
std::string ErrorMessage(const std::string& body);

// `m` in protobuf's JSON mapping with the .proto field names, as the API
// and the day files use it.
std::string ToJson(const google::protobuf::Message& m);

}  // namespace hub::tools
