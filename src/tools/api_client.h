#pragma once

// One blocking HTTP/1.1 request to hubd's API (docs/api.md), shared by the
// command-line tools. Each tool decides what an error answer means to it.

#include <google/protobuf/message.h>

#include <string>

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

// The message of an error answer ({"error":"..."}), or the body as it is.
std::string ErrorMessage(const std::string& body);

// `m` in protobuf's JSON mapping with the .proto field names, as the API
// and the day files use it.
std::string ToJson(const google::protobuf::Message& m);

}  // namespace hub::tools
