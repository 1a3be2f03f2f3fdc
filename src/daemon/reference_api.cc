#include "daemon/reference_api.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/validate.h"
#include "daemon/api_json.h"
#include "daemon/api_parse.h"
#include "hub/v1/desk.pb.h"

namespace hub::daemon {
namespace {

constexpr auto kReadTimeout = std::chrono::seconds(10);

// Runs `copy` against the core's state on the sequencer thread and returns
// its result; nullopt when the state could not be read (store failed,
// stopping) or the sequencer did not get to it in time.
template <typename T, typename Copy>
std::optional<T> ReadState(const ApiSources& src, Copy copy) {
  auto promise = std::make_shared<std::promise<std::optional<T>>>();
  auto future = promise->get_future();
  sequencer::Submission s;
  s.inspect = [promise, copy = std::move(copy)](const core::HubState* state) {
    promise->set_value(state != nullptr ? std::optional<T>(copy(*state)) : std::nullopt);
  };
  src.sequencer->Submit(std::move(s));
  if (future.wait_for(kReadTimeout) != std::future_status::ready) return std::nullopt;
  return future.get();
}

// Pointers to the elements of `list`, sorted by `key` (off the sequencer
// thread: the core hands its copies out unsorted).
template <typename List, typename Key>
std::vector<const typename List::value_type*> SortedBy(const List& list, Key key) {
  std::vector<const typename List::value_type*> out;
  out.reserve(list.size());
  for (const auto& e : list) out.push_back(&e);
  std::sort(out.begin(), out.end(), [&key](const auto* a, const auto* b) { return key(*a) < key(*b); });
  return out;
}

net::HttpResponse Unavailable() {
  return Error(503, "the hub's state cannot be read now (store failed, stopping or busy): try again");
}

std::optional<net::HttpResponse> RefuseBadRequest(const net::HttpRequest& r, std::string_view path) {
  if (r.method != "GET") return Error(405, std::string(path) + " answers GET");
  if (r.target.find('?') != std::string::npos)
    return Error(400, std::string(path) + " takes no parameters");
  return std::nullopt;
}

}  // namespace

net::HttpResponse ListRoutes(const net::HttpRequest& r, const ApiSources& src) {
  if (auto bad = RefuseBadRequest(r, "/v1/routes")) return *bad;
  auto table = ReadState<std::shared_ptr<const v1::RoutingTable>>(
      src, [](const core::HubState& s) { return s.Routes(); });
  if (!table) return Unavailable();
  v1::RoutingTable out;
  out.mutable_entries()->Reserve((*table)->entries_size());
  for (const auto* e : SortedBy((*table)->entries(), [](const auto& e) -> auto& { return e.destination(); }))
    *out.add_entries() = *e;
  return Json(out);
}

net::HttpResponse ListHolds(const net::HttpRequest& r, const ApiSources& src) {
  if (auto bad = RefuseBadRequest(r, "/v1/holds")) return *bad;
  auto holds = ReadState<std::shared_ptr<const std::vector<v1::HoldEntry>>>(
      src, [](const core::HubState& s) { return s.Holds(); });
  if (!holds) return Unavailable();
  v1::HoldList out;
  out.mutable_holds()->Reserve(static_cast<int>((*holds)->size()));
  for (const auto* h : SortedBy(**holds, [](const auto& h) -> auto& { return h.parcel_id(); }))
    *out.add_holds() = *h;
  return Json(out);
}

net::HttpResponse GetAdvice(const net::HttpRequest& r, const ApiSources& src) {
  const std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
  if (auto bad = RefuseBadRequest(r, path)) return *bad;
  constexpr std::string_view kVehicles = "/v1/advices/vehicles/", kBags = "/v1/advices/bags/";
  const bool vehicle = path.starts_with(kVehicles);
  if (!vehicle && !path.starts_with(kBags))
    return Error(404, "no such endpoint: " + std::string(path) +
                          " (/v1/advices/vehicles/{id} or /v1/advices/bags/{id})");
  const char* noun = vehicle ? "vehicle" : "bag";
  const std::string id = Unescape(path.substr((vehicle ? kVehicles : kBags).size()), false);
  if (id.empty() || id.size() > core::kMaxIdLength)
    return Error(400, std::string(noun) + " id must be 1.." + std::to_string(core::kMaxIdLength) +
                          " bytes");
  const std::string none = std::string("no advice for ") + noun + " " + id;
  if (vehicle) {
    auto advice = ReadState<std::optional<v1::VehicleAdvice>>(
        src, [id](const core::HubState& s) { return s.VehicleAdviceOf(id); });
    if (!advice) return Unavailable();
    return *advice ? Json(**advice) : Error(404, none);
  }
  auto advice = ReadState<std::optional<v1::BagAdvice>>(
      src, [id](const core::HubState& s) { return s.BagAdviceOf(id); });
  if (!advice) return Unavailable();
  return *advice ? Json(**advice) : Error(404, none);
}

}  // namespace hub::daemon
