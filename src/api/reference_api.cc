#include "api/reference_api.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/validate.h"
#include "hub/v1/desk.pb.h"

namespace hub::api {
namespace {

constexpr auto kReadTimeout = std::chrono::seconds(10);

// Runs `copy` against the core's state on the sequencer thread and returns
// its result; nullopt when the state could not be read (store failed,
// stopping) or the sequencer did not get to it in time.
template <typename T, typename Copy>
std::optional<T> ReadState(sequencer::Sequencer* sequencer, Copy copy) {
  auto promise = std::make_shared<std::promise<std::optional<T>>>();
  auto future = promise->get_future();
  sequencer::Submission s;
  s.inspect = [promise, copy = std::move(copy)](const core::HubState* state) {
    promise->set_value(state != nullptr ? std::optional<T>(copy(*state)) : std::nullopt);
  };
  sequencer->Submit(std::move(s));
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

Failure StateUnavailable() {
  return Unavailable("the hub's state cannot be read now (store failed, stopping or busy): try again");
}

}  // namespace

Answer ListRoutes(sequencer::Sequencer* sequencer) {
  auto table = ReadState<std::shared_ptr<const v1::RoutingTable>>(
      sequencer, [](const core::HubState& s) { return s.Routes(); });
  if (!table) return StateUnavailable();
  v1::RoutingTable out;
  out.mutable_entries()->Reserve((*table)->entries_size());
  for (const auto* e : SortedBy((*table)->entries(), [](const auto& e) -> auto& { return e.destination(); }))
    *out.add_entries() = *e;
  return out;
}

Answer ListHolds(sequencer::Sequencer* sequencer) {
  auto holds = ReadState<std::shared_ptr<const std::vector<v1::HoldEntry>>>(
      sequencer, [](const core::HubState& s) { return s.Holds(); });
  if (!holds) return StateUnavailable();
  v1::HoldList out;
  out.mutable_holds()->Reserve(static_cast<int>((*holds)->size()));
  for (const auto* h : SortedBy(**holds, [](const auto& h) -> auto& { return h.parcel_id(); }))
    *out.add_holds() = *h;
  return out;
}

Answer GetAdvice(sequencer::Sequencer* sequencer, bool vehicle, const std::string& id) {
  const char* noun = vehicle ? "vehicle" : "bag";
  if (id.empty() || id.size() > core::kMaxIdLength)
    return BadRequest(std::string(noun) + " id must be 1.." + std::to_string(core::kMaxIdLength) + " bytes");
  const Failure none = NotFound(std::string("no advice for ") + noun + " " + id);
  if (vehicle) {
    auto advice = ReadState<std::optional<v1::VehicleAdvice>>(
        sequencer, [id](const core::HubState& s) { return s.VehicleAdviceOf(id); });
    if (!advice) return StateUnavailable();
    if (!*advice) return none;
    return **advice;
  }
  auto advice = ReadState<std::optional<v1::BagAdvice>>(
      sequencer, [id](const core::HubState& s) { return s.BagAdviceOf(id); });
  if (!advice) return StateUnavailable();
  if (!*advice) return none;
  return **advice;
}

}  // namespace hub::api
