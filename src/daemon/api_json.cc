#include "daemon/api_json.h"

#include <google/protobuf/util/json_util.h>

#include "util/utf8.h"

namespace hub::daemon {
namespace {
constexpr const char* kJson = "application/json";
}  // namespace

net::HttpResponse Error(int status, const std::string& message) {
  return {status, kJson, "{\"error\":\"" + util::JsonStringContents(message) + "\"}\n"};
}

net::HttpResponse Json(const google::protobuf::Message& m, int status) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(m, &out, o).ok())
    return Error(500, "cannot render JSON");
  return {status, kJson, out + "\n"};
}

}  // namespace hub::daemon
