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

// Sends `method` ("GET" or "POST") `target` with a JSON body and, when
// `token` is set, a bearer token. Throws std::exception when the daemon
// cannot be reached or the exchange fails.
ApiAnswer CallApi(const std::string& host, const std::string& port, const std::string& token,
                  const std::string& method, const std::string& target,
                  const std::string& body = "");

// The message of an error answer ({"error":"..."}), or the body as it is.
std::string ErrorMessage(const std::string& body);

// `m` in protobuf's JSON mapping with the .proto field names, as the API
// and the day files use it.
std::string ToJson(const google::protobuf::Message& m);

}  // namespace hub::tools
