#pragma once

// The supervisor API's answers (docs/api.md): protobuf's JSON mapping of
// proto/hub/v1 (field names as in the .proto), and errors as
// {"error": "..."}. Pure functions, thread-safe.

#include <string>

#include <google/protobuf/message.h>

#include "net/http_server.h"

namespace hub::daemon {

// {"error": message} with `status`. The message may echo request bytes: it
// is escaped and made UTF-8, so the answer is always JSON.
net::HttpResponse Error(int status, const std::string& message);

// `m` in protobuf's JSON mapping with `status`; a 500 error when it cannot
// be rendered.
net::HttpResponse Json(const google::protobuf::Message& m, int status = 200);

}  // namespace hub::daemon
