#include "api/api_parse.h"

#include <google/protobuf/util/json_util.h>

#include <cctype>
#include <charconv>

namespace hub::api {

namespace pbu = google::protobuf::util;

bool ParseJson(const std::string& body, google::protobuf::Message* m, std::string* error) {
  pbu::JsonParseOptions o;
  o.ignore_unknown_fields = false;
  auto s = pbu::JsonStringToMessage(body.empty() ? "{}" : body, m, o);
  if (!s.ok()) *error = "bad JSON: " + std::string(s.message());
  return s.ok();
}

bool ParseNumber(std::string_view text, uint64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}
bool ParseNumber(std::string_view text, int64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::string Unescape(std::string_view v, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (v[i] == '%' && i + 2 < v.size() && std::isxdigit(static_cast<unsigned char>(v[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> Query(const std::string& target) {
  std::map<std::string, std::string> q;
  const auto at = target.find('?');
  if (at == std::string::npos) return q;
  std::string_view rest(target);
  rest.remove_prefix(at + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    q[Unescape(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : Unescape(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return q;
}

}  // namespace hub::api
