#include "core/validate.h"

#include <algorithm>
#include <string_view>
#include <vector>

namespace hub::core {

bool HasControlCharacter(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return true;
    // C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8 (U+009B is a
    // terminal's CSI, as dangerous in a log as ESC).
    if (c == 0xc2 && i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xe0) == 0x80)
      return true;
  }
  return false;
}

bool ConsumesSeq(v1::RejectCode code) {
  switch (code) {
    case v1::REJECT_UNKNOWN_KIND:
    case v1::REJECT_MISSING_ID:
    case v1::REJECT_ID_TOO_LONG:
    case v1::REJECT_BAD_ENUM:
    case v1::REJECT_BAD_ID:
    case v1::REJECT_BAD_TIME:
      return true;
    default:
      return false;
  }
}

bool ValidScannerId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxIdLength && !HasControlCharacter(id);
}

bool ValidHubId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

// Runs checks in order and stops at the first failure.
#define HUB_CHECK(expr)                               \
  do {                                                    \
    if (v1::RejectCode c_ = (expr); c_ != v1::REJECT_NONE) \
      return c_;                                          \
  } while (0)

// Builds the reason on failure; each check returns the code to report.
class Checker {
 public:
  explicit Checker(std::string* reason) : reason_(reason) {}

  v1::RejectCode Id(std::string_view field, const std::string& value) {
    if (value.empty()) return Fail(v1::REJECT_MISSING_ID, field, " is missing");
    return OptionalId(field, value);
  }
  v1::RejectCode OptionalId(std::string_view field, const std::string& value) {
    HUB_CHECK(Length(field, value, kMaxIdLength));
    if (HasControlCharacter(value))
      return Fail(v1::REJECT_BAD_ID, field, " holds a control character");
    return v1::REJECT_NONE;
  }
  v1::RejectCode Note(std::string_view field, const std::string& value) {
    return Length(field, value, kMaxNoteLength);
  }
  v1::RejectCode HubId(std::string_view field, const std::string& value) {
    if (value.empty()) return Fail(v1::REJECT_MISSING_ID, field, " is missing");
    return OptionalHubId(field, value);
  }
  v1::RejectCode OptionalHubId(std::string_view field, const std::string& value) {
    if (value.empty() || ValidHubId(value)) return v1::REJECT_NONE;
    return Fail(v1::REJECT_BAD_ID, field, " must be 1..64 of A-Z a-z 0-9 _ -");
  }
  v1::RejectCode Fail(v1::RejectCode code, std::string_view field,
                      std::string_view what) {
    if (reason_ != nullptr) {
      reason_->assign(field);
      reason_->append(what);
    }
    return code;
  }

 private:
  v1::RejectCode Length(std::string_view field, const std::string& value,
                        size_t max) {
    if (value.size() <= max) return v1::REJECT_NONE;
    return Fail(v1::REJECT_ID_TOO_LONG, field,
                " is longer than " + std::to_string(max) + " bytes");
  }
  std::string* reason_;
};

// A sort scan: its ids, and a read outcome that agrees with parcel_id and
// read_codes (event.proto, ParcelSorted.read).
v1::RejectCode ValidateSorted(const v1::ParcelSorted& s, Checker& c) {
  // An empty parcel id is a no-read and an empty destination an unclear
  // address; both are applied and raise a case, neither is rejected.
  HUB_CHECK(c.OptionalId("parcel_sorted.parcel_id", s.parcel_id()));
  HUB_CHECK(c.OptionalId("parcel_sorted.destination", s.destination()));
  if (!v1::ServiceClass_IsValid(s.service_class()))
    return c.Fail(v1::REJECT_BAD_ENUM, "parcel_sorted.service_class", " is not a defined value");
  if (!v1::ReadOutcome_IsValid(s.read()))
    return c.Fail(v1::REJECT_BAD_ENUM, "parcel_sorted.read", " is not a defined value");
  if (s.read_codes_size() > static_cast<int>(kMaxReadCodes))
    return c.Fail(v1::REJECT_ID_TOO_LONG, "parcel_sorted.read_codes",
                  " holds more than " + std::to_string(kMaxReadCodes) + " codes");
  for (const auto& code : s.read_codes()) HUB_CHECK(c.Id("parcel_sorted.read_codes", code));
  HUB_CHECK(c.Note("parcel_sorted.measurement.no_dimension_reason",
                   s.measurement().no_dimension_reason()));
  const std::string outcome = v1::ReadOutcome_Name(s.read());
  switch (s.read()) {
    case v1::READ_AMBIGUOUS:
    case v1::READ_INVALID_ID:
      if (!s.parcel_id().empty())
        return c.Fail(v1::REJECT_BAD_ENUM, "parcel_sorted.read",
                      " is " + outcome + " but parcel_id is set");
      if (s.read_codes().empty())
        return c.Fail(v1::REJECT_MISSING_ID, "parcel_sorted.read_codes",
                      " is empty but read is " + outcome);
      break;
    case v1::READ_NO_READ:
      if (!s.parcel_id().empty())
        return c.Fail(v1::REJECT_BAD_ENUM, "parcel_sorted.read",
                      " is " + outcome + " but parcel_id is set");
      break;
    case v1::READ_SINGLE:
      if (s.parcel_id().empty())
        return c.Fail(v1::REJECT_MISSING_ID, "parcel_sorted.parcel_id",
                      " is missing but read is " + outcome);
      break;
    default: break;
  }
  return v1::REJECT_NONE;
}

v1::RejectCode ValidateBody(const v1::ScanEvent& e, Checker& c) {
  using E = v1::ScanEvent;
  switch (e.body_case()) {
    case E::kVehicleArrived:
      HUB_CHECK(c.Id("vehicle_arrived.vehicle_id", e.vehicle_arrived().vehicle_id()));
      HUB_CHECK(c.OptionalId("vehicle_arrived.route_code", e.vehicle_arrived().route_code()));
      return c.OptionalId("vehicle_arrived.seal_id", e.vehicle_arrived().seal_id());
    case E::kBagUnloaded:
      HUB_CHECK(c.Id("bag_unloaded.bag_id", e.bag_unloaded().bag_id()));
      return c.Id("bag_unloaded.vehicle_id", e.bag_unloaded().vehicle_id());
    case E::kVehicleUnloaded:
      return c.Id("vehicle_unloaded.vehicle_id", e.vehicle_unloaded().vehicle_id());
    case E::kBagOpened:
      return c.Id("bag_opened.bag_id", e.bag_opened().bag_id());
    case E::kParcelUnbagged:
      HUB_CHECK(c.Id("parcel_unbagged.parcel_id", e.parcel_unbagged().parcel_id()));
      return c.Id("parcel_unbagged.bag_id", e.parcel_unbagged().bag_id());
    case E::kBagEmptied:
      return c.Id("bag_emptied.bag_id", e.bag_emptied().bag_id());
    case E::kParcelSorted:
      return ValidateSorted(e.parcel_sorted(), c);
    case E::kBagCreated:
      HUB_CHECK(c.Id("bag_created.bag_id", e.bag_created().bag_id()));
      return c.Id("bag_created.destination", e.bag_created().destination());
    case E::kParcelBagged:
      HUB_CHECK(c.Id("parcel_bagged.parcel_id", e.parcel_bagged().parcel_id()));
      return c.Id("parcel_bagged.bag_id", e.parcel_bagged().bag_id());
    case E::kBagClosed:
      return c.Id("bag_closed.bag_id", e.bag_closed().bag_id());
    case E::kLoadOpened:
      HUB_CHECK(c.Id("load_opened.load_id", e.load_opened().load_id()));
      HUB_CHECK(c.OptionalId("load_opened.vehicle_id", e.load_opened().vehicle_id()));
      return c.Id("load_opened.route_code", e.load_opened().route_code());
    case E::kBagLoaded:
      HUB_CHECK(c.Id("bag_loaded.bag_id", e.bag_loaded().bag_id()));
      return c.Id("bag_loaded.load_id", e.bag_loaded().load_id());
    case E::kLoadDeparted:
      HUB_CHECK(c.Id("load_departed.load_id", e.load_departed().load_id()));
      return c.OptionalId("load_departed.seal_id", e.load_departed().seal_id());
    case E::kHoldPlaced:
      HUB_CHECK(c.Id("hold_placed.parcel_id", e.hold_placed().parcel_id()));
      if (!v1::HoldReason_IsValid(e.hold_placed().reason()))
        return c.Fail(v1::REJECT_BAD_ENUM, "hold_placed.reason", " is not a defined value");
      return c.Note("hold_placed.note", e.hold_placed().note());
    case E::kHoldReleased:
      return c.Id("hold_released.parcel_id", e.hold_released().parcel_id());
    case E::kParcelDamaged:
      HUB_CHECK(c.Id("parcel_damaged.parcel_id", e.parcel_damaged().parcel_id()));
      return c.Note("parcel_damaged.note", e.parcel_damaged().note());
    case E::BODY_NOT_SET:
      break;
  }
  return c.Fail(v1::REJECT_UNKNOWN_KIND, "body",
                " is not set or is a kind this daemon does not know");
}

// The advices, alone (`field` "vehicle_advice", "bag_advice") or in a
// dispatch advice (`field` "dispatch_advice.vehicle", "dispatch_advice.bags").
v1::RejectCode ValidateVehicleAdvice(const v1::VehicleAdvice& a, const std::string& field, Checker& c) {
  HUB_CHECK(c.Id(field + ".vehicle_id", a.vehicle_id()));
  HUB_CHECK(c.OptionalId(field + ".seal_id", a.seal_id()));
  HUB_CHECK(c.OptionalId(field + ".route_code", a.route_code()));
  const std::string bag_ids = field + ".bag_ids";
  for (const auto& b : a.bag_ids()) HUB_CHECK(c.Id(bag_ids, b));
  if (a.expected_arrival_ms() < 0)
    return c.Fail(v1::REJECT_BAD_ENUM, field + ".expected_arrival_ms", " is negative");
  return v1::REJECT_NONE;
}

v1::RejectCode ValidateBagAdvice(const v1::BagAdvice& a, const std::string& field, Checker& c) {
  HUB_CHECK(c.Id(field + ".bag_id", a.bag_id()));
  const std::string parcel_ids = field + ".parcel_ids";
  for (const auto& p : a.parcel_ids()) HUB_CHECK(c.Id(parcel_ids, p));
  if (a.parcel_weights().empty()) return v1::REJECT_NONE;
  std::vector<std::string_view> listed(a.parcel_ids().begin(), a.parcel_ids().end());
  std::sort(listed.begin(), listed.end());
  const std::string weight_ids = field + ".parcel_weights.parcel_id";
  for (const auto& w : a.parcel_weights()) {
    HUB_CHECK(c.Id(weight_ids, w.parcel_id()));
    if (!std::binary_search(listed.begin(), listed.end(), std::string_view(w.parcel_id())))
      return c.Fail(v1::REJECT_MISSING_ID, field + ".parcel_weights",
                    " names " + w.parcel_id() + ", which parcel_ids does not list");
  }
  return v1::REJECT_NONE;
}

v1::RejectCode ValidateDispatchAdvice(const v1::DispatchAdvice& a, Checker& c) {
  HUB_CHECK(c.HubId("dispatch_advice.from_hub", a.from_hub()));
  if (a.from_hub_seq() == 0)
    return c.Fail(v1::REJECT_BAD_SEQ, "dispatch_advice.from_hub_seq", " must be at least 1");
  HUB_CHECK(c.OptionalId("dispatch_advice.load_id", a.load_id()));
  if (!a.has_vehicle()) return c.Fail(v1::REJECT_MISSING_ID, "dispatch_advice.vehicle", " is missing");
  HUB_CHECK(ValidateVehicleAdvice(a.vehicle(), "dispatch_advice.vehicle", c));
  for (const auto& b : a.bags()) HUB_CHECK(ValidateBagAdvice(b, "dispatch_advice.bags", c));
  return v1::REJECT_NONE;
}

}  // namespace

v1::RejectCode ValidateEvent(const v1::ScanEvent& event, std::string* reason) {
  Checker c(reason);
  HUB_CHECK(c.Id("scanner_id", event.scanner_id()));
  HUB_CHECK(c.Id("station", event.station()));
  if (event.seq() == 0) return c.Fail(v1::REJECT_BAD_SEQ, "seq", " must be at least 1");
  return ValidateBody(event, c);
}

v1::RejectCode ValidateReference(const v1::ReferenceChange& change, std::string* reason) {
  Checker c(reason);
  auto route = [&](const v1::RouteEntry& r) {
    HUB_CHECK(c.Id("route.destination", r.destination()));
    HUB_CHECK(c.Id("route.route_code", r.route_code()));
    HUB_CHECK(c.OptionalId("route.chute", r.chute()));
    HUB_CHECK(c.OptionalId("route.load_id", r.load_id()));
    HUB_CHECK(c.OptionalHubId("route.next_hub", r.next_hub()));
    if (r.transit_minutes() > 7 * 24 * 60)
      return c.Fail(v1::REJECT_BAD_ENUM, "route.transit_minutes", " is over 7 days");
    return v1::REJECT_NONE;
  };
  using R = v1::ReferenceChange;
  switch (change.body_case()) {
    case R::kReplaceRoutes:
      for (const auto& r : change.replace_routes().entries()) HUB_CHECK(route(r));
      return v1::REJECT_NONE;
    case R::kUpsertRoute:
      return route(change.upsert_route());
    case R::kVehicleAdvice:
      return ValidateVehicleAdvice(change.vehicle_advice(), "vehicle_advice", c);
    case R::kBagAdvice:
      return ValidateBagAdvice(change.bag_advice(), "bag_advice", c);
    case R::kDispatchAdvice:
      return ValidateDispatchAdvice(change.dispatch_advice(), c);
    case R::kAddHold:
      if (!v1::HoldReason_IsValid(change.add_hold().reason()))
        return c.Fail(v1::REJECT_BAD_ENUM, "add_hold.reason", " is not a defined value");
      HUB_CHECK(c.Id("add_hold.parcel_id", change.add_hold().parcel_id()));
      return c.Note("add_hold.note", change.add_hold().note());
    case R::kRemoveHold:
      return c.Id("remove_hold", change.remove_hold());
    case R::kSettings:
      if (change.settings().dwell_hours() > 24 * 366)
        return c.Fail(v1::REJECT_BAD_ENUM, "settings.dwell_hours", " is over a year");
      if (change.settings().forget_after_days() > 3660)
        return c.Fail(v1::REJECT_BAD_ENUM, "settings.forget_after_days", " is over ten years");
      if (change.settings().weight_tolerance_g() > kMaxWeightToleranceG)
        return c.Fail(v1::REJECT_BAD_ENUM, "settings.weight_tolerance_g", " is over 1000 kg");
      if (change.settings().weight_tolerance_percent() > 100)
        return c.Fail(v1::REJECT_BAD_ENUM, "settings.weight_tolerance_percent", " is over 100");
      if (change.settings().overdue_grace_minutes() > 7 * 24 * 60)
        return c.Fail(v1::REJECT_BAD_ENUM, "settings.overdue_grace_minutes", " is over 7 days");
      return v1::REJECT_NONE;
    case R::BODY_NOT_SET:
      break;
  }
  return c.Fail(v1::REJECT_UNKNOWN_KIND, "body", " is not set");
}

bool ValidateCaseAction(const v1::CaseAction& action, std::string* reason) {
  Checker c(reason);
  if (action.case_id() == 0) {
    c.Fail(v1::REJECT_MISSING_ID, "case_id", " is missing");
    return false;
  }
  if (action.to() != v1::ACKNOWLEDGED && action.to() != v1::RESOLVED) {
    c.Fail(v1::REJECT_BAD_ENUM, "to", " must be ACKNOWLEDGED or RESOLVED");
    return false;
  }
  return c.Id("transition.by", action.transition().by()) == v1::REJECT_NONE &&
         c.Note("transition.note", action.transition().note()) == v1::REJECT_NONE;
}

const char* EventKindName(v1::ScanEvent::BodyCase kind) {
  using E = v1::ScanEvent;
  switch (kind) {
    case E::kVehicleArrived: return "VEHICLE_ARRIVED";
    case E::kBagUnloaded: return "BAG_UNLOADED";
    case E::kVehicleUnloaded: return "VEHICLE_UNLOADED";
    case E::kBagOpened: return "BAG_OPENED";
    case E::kParcelUnbagged: return "PARCEL_UNBAGGED";
    case E::kBagEmptied: return "BAG_EMPTIED";
    case E::kParcelSorted: return "PARCEL_SORTED";
    case E::kBagCreated: return "BAG_CREATED";
    case E::kParcelBagged: return "PARCEL_BAGGED";
    case E::kBagClosed: return "BAG_CLOSED";
    case E::kLoadOpened: return "LOAD_OPENED";
    case E::kBagLoaded: return "BAG_LOADED";
    case E::kLoadDeparted: return "LOAD_DEPARTED";
    case E::kHoldPlaced: return "HOLD_PLACED";
    case E::kHoldReleased: return "HOLD_RELEASED";
    case E::kParcelDamaged: return "PARCEL_DAMAGED";
    case E::BODY_NOT_SET: break;
  }
  return "UNKNOWN";
}

}  // namespace hub::core
