#include "tools/answer_times.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <charconv>

#include "tools/time_arg.h"

namespace hub::tools {

namespace {

using google::protobuf::Value;

void Collect(const Value& v, std::map<int64_t, std::string>* out) {
  if (v.has_list_value()) {
    for (const auto& e : v.list_value().values()) Collect(e, out);
    return;
  }
  if (!v.has_struct_value()) return;
  const auto& fields = v.struct_value().fields();
  for (const auto& [name, member] : fields) {
    Collect(member, out);
    if (name.size() <= 3 || name.compare(name.size() - 3, 3, "_ms") != 0) continue;
    const auto sibling = fields.find(name.substr(0, name.size() - 3));
    if (sibling == fields.end() || !sibling->second.has_string_value()) continue;
    int64_t ms = 0;
    if (member.has_string_value()) {  // 64-bit numbers come as strings
      const std::string& s = member.string_value();
      if (std::from_chars(s.data(), s.data() + s.size(), ms).ec != std::errc()) continue;
    } else if (member.has_number_value()) {
      ms = static_cast<int64_t>(member.number_value());
    } else {
      continue;
    }
    out->emplace(ms, sibling->second.string_value());
  }
}

}  // namespace

AnswerTimes::AnswerTimes(const std::string& body) {
  Value v;
  if (google::protobuf::util::JsonStringToMessage(body, &v).ok()) Collect(v, &iso_);
}

std::string AnswerTimes::Text(int64_t ms) const {
  if (ms == 0) return "-";
  const auto it = iso_.find(ms);
  return it != iso_.end() ? it->second : IsoUtcMillis(ms);
}

}  // namespace hub::tools
