#pragma once

#include <cstdint>
#include <string>

#include <google/protobuf/util/json_util.h>

namespace hub::testutil {

// For parsing answers: they carry ISO times beside the protobuf fields
// (docs/api.md, "Times"), as a client must expect.
inline const google::protobuf::util::JsonParseOptions kLenientJson = [] {
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  return o;
}();

struct HttpResult {
  int status = 0;  // 0: no answer
  std::string body;
};

// One blocking HTTP/1.1 request to 127.0.0.1:port.
HttpResult HttpCall(uint16_t port, const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& bearer = "");
// Sends raw bytes and returns the status line's code (0 if none).
int HttpRawStatus(uint16_t port, const std::string& bytes);

}  // namespace hub::testutil
