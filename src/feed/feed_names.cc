#include "feed/feed_names.h"

#include <charconv>

namespace hub::feed {

std::string HubStream(std::string_view hub_id) { return "HUB_" + std::string(hub_id); }
std::string HubSubjects(std::string_view hub_id) { return "hub." + std::string(hub_id) + ".>"; }
std::string DispatchSubject(std::string_view to_hub) { return "dispatch." + std::string(to_hub); }

std::string EventKind(const v1::ScanEvent& e) {
  if (e.body_case() == v1::ScanEvent::BODY_NOT_SET) return {};
  const auto* field = v1::ScanEvent::descriptor()->FindFieldByNumber(e.body_case());
  return field ? field->name() : std::string();
}

std::string SubjectOf(const v1::FeedMessage& m) {
  const std::string base = "hub." + m.hub_id() + ".";
  using M = v1::FeedMessage;
  switch (m.body_case()) {
    case M::kEvent: return base + "events." + EventKind(m.event());
    case M::kReference: return base + "reference";
    case M::kCaseAction:
    case M::kCaseRaised: return base + "cases";
    case M::kRetention: return base + "retention";
    case M::BODY_NOT_SET: break;
  }
  return {};
}

std::string MessageId(std::string_view hub_id, uint64_t hub_seq, uint32_t part) {
  return std::string(hub_id) + "." + std::to_string(hub_seq) + "." + std::to_string(part);
}

std::optional<Position> ParseMessageId(std::string_view hub_id, std::string_view id) {
  if (id.size() <= hub_id.size() + 1 || id.substr(0, hub_id.size()) != hub_id ||
      id[hub_id.size()] != '.')
    return std::nullopt;
  id.remove_prefix(hub_id.size() + 1);
  const auto dot = id.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  Position p;
  const char* end1 = id.data() + dot;
  const char* end2 = id.data() + id.size();
  auto r1 = std::from_chars(id.data(), end1, p.hub_seq);
  auto r2 = std::from_chars(end1 + 1, end2, p.part);
  if (r1.ec != std::errc() || r1.ptr != end1 || r2.ec != std::errc() || r2.ptr != end2 || dot == 0 ||
      end1 + 1 == end2)
    return std::nullopt;
  return p;
}

std::string DispatchMessageId(std::string_view from_hub, uint64_t from_hub_seq) {
  return std::string(from_hub) + "." + std::to_string(from_hub_seq);
}

}  // namespace hub::feed
