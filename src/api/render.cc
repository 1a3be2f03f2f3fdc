#include "api/render.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "util/time_text.h"
#include "util/utf8.h"

namespace hub::api {
namespace {

using Json = nlohmann::ordered_json;
constexpr const char* kJson = "application/json";

bool EndsWithMs(const std::string& key) {
  return key.size() > 3 && key.compare(key.size() - 3, 3, "_ms") == 0;
}

// Adds the ISO sibling after each `X_ms` member, recursively.
Json WithIsoTimes(const Json& in) {
  if (in.is_array()) {
    Json out = Json::array();
    for (const auto& v : in) out.push_back(WithIsoTimes(v));
    return out;
  }
  if (!in.is_object()) return in;
  Json out = Json::object();
  for (const auto& [key, value] : in.items()) {
    out[key] = WithIsoTimes(value);
    if (!EndsWithMs(key)) continue;
    int64_t ms = 0;
    if (value.is_string()) {
      const std::string& text = value.get_ref<const std::string&>();
      char* end = nullptr;
      ms = std::strtoll(text.c_str(), &end, 10);
      if (end == text.c_str() || *end != '\0') continue;
    } else if (value.is_number_integer()) {
      ms = value.get<int64_t>();
    } else {
      continue;
    }
    std::string name = key.substr(0, key.size() - 3);
    if (in.contains(name)) name += "_at";
    out[name] = util::LocalIso(ms);
  }
  return out;
}

std::string ToJson(const google::protobuf::Message& m, bool* ok) {
  std::string text;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  *ok = google::protobuf::util::MessageToJsonString(m, &text, o).ok();
  if (!*ok) return {};
  // Protobuf escapes what is not UTF-8; the parse cannot fail on its output.
  return WithIsoTimes(Json::parse(text, nullptr, false)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

net::HttpResponse Render(const Failure& failure) {
  net::HttpResponse out{HttpStatus(failure.error), kJson,
                        "{\"error\":\"" + util::JsonStringContents(failure.message) + "\"}\n", {}};
  if (failure.error == ApiError::kUnauthenticated)
    out.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"hubd\"");
  return out;
}

net::HttpResponse Render(const Answer& answer) {
  if (!answer.ok()) return Render(answer.failure());
  bool ok = false;
  std::string text = ToJson(answer.body(), &ok);
  if (!ok) return Render(Failure{ApiError::kInternal, "cannot render JSON"});
  return {200, kJson, text + "\n", {}};
}

std::string RenderLine(const google::protobuf::Message& m) {
  bool ok = false;
  std::string text = ToJson(m, &ok);
  return ok ? text : "{}";
}

}  // namespace hub::api
