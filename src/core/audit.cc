#include "core/audit.h"

#include <string>

namespace hub::core {

std::optional<v1::AuditEntry> AuditEntryOf(const v1::LogRecord& rec) {
  if (!rec.has_origin()) return std::nullopt;
  v1::AuditEntry e;
  e.set_hub_seq(rec.hub_seq());
  e.set_at_ms(rec.origin().at_ms());
  e.set_who(rec.origin().who());
  if (rec.has_case_action()) {
    const auto& a = rec.case_action();
    e.set_action(a.to() == v1::ACKNOWLEDGED ? "acknowledge" : "resolve");
    e.set_subject(std::to_string(a.case_id()));
    e.set_note(a.transition().note());
    return e;
  }
  if (!rec.has_reference()) return std::nullopt;
  const v1::ReferenceChange& c = rec.reference();
  const auto* field = v1::ReferenceChange::descriptor()->FindFieldByNumber(c.body_case());
  if (field == nullptr) return std::nullopt;
  e.set_action(field->name());
  using R = v1::ReferenceChange;
  switch (c.body_case()) {
    case R::kReplaceRoutes:
      e.set_subject(std::to_string(c.replace_routes().entries_size()) + " routes");
      break;
    case R::kUpsertRoute: e.set_subject(c.upsert_route().destination()); break;
    case R::kVehicleAdvice: e.set_subject(c.vehicle_advice().vehicle_id()); break;
    case R::kBagAdvice: e.set_subject(c.bag_advice().bag_id()); break;
    case R::kDispatchAdvice: {
      const auto& d = c.dispatch_advice();
      e.set_subject(d.vehicle().vehicle_id());
      e.set_note("from hub " + d.from_hub() + " (its hub_seq " + std::to_string(d.from_hub_seq()) +
                 "), " + std::to_string(d.bags_size()) + " bags");
      break;
    }
    case R::kAddHold:
      e.set_subject(c.add_hold().parcel_id());
      e.set_note(c.add_hold().note());
      break;
    case R::kRemoveHold: e.set_subject(c.remove_hold()); break;
    case R::kSettings:
      e.set_subject("dwell_hours=" + std::to_string(c.settings().dwell_hours()) +
                    " forget_after_days=" + std::to_string(c.settings().forget_after_days()));
      break;
    case R::BODY_NOT_SET: break;
  }
  return e;
}

}  // namespace hub::core
