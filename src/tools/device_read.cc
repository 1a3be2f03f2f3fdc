#include "tools/device_read.h"

#include <algorithm>
#include <string>

namespace hub::tools {

codec::DeviceRead DeviceReadOf(const v1::ParcelSorted& scan, const codec::DeviceProfile& profile,
                               uint64_t object) {
  codec::DeviceRead r;
  r.object = std::to_string(object);
  for (const auto& c : scan.read_codes()) r.codes.push_back(c);
  if (r.codes.empty() && !scan.parcel_id().empty()) r.codes.push_back(scan.parcel_id());
  const bool destination_field =
      std::find(profile.fields.begin(), profile.fields.end(), codec::Field::kDestination) != profile.fields.end();
  if (r.codes.empty() || scan.read() == v1::READ_NO_READ) {
    r.codes.clear();
    r.no_read = true;
  } else if (!scan.destination().empty() && !destination_field &&
             std::find(r.codes.begin(), r.codes.end(), scan.destination()) == r.codes.end()) {
    r.codes.push_back(scan.destination());
  }
  if (destination_field) r.destination = scan.destination();
  r.measurement = scan.measurement();
  return r;
}

}  // namespace hub::tools
