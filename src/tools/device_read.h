#pragma once

// The read a device makes of a generated sort scan: how hubreplay turns the
// canonical ScanEvents of a telegram scanner (ReplayPlan.telegram_scanners)
// into what a fixed-mount scanner or DWS unit would send. Pure; uses only
// the data types of codec/telegram.h.

#include <cstdint>

#include "codec/telegram.h"
#include "hub/v1/event.pb.h"

namespace hub::tools {

// codes: the scan's read_codes, else its parcel id; a no-read (no codes)
// when the scan says READ_NO_READ or nothing was read; the destination in
// the profile's destination field, or else as one more code at the end
// (unless a code already is it; devices.toml's destination_pattern tells it
// apart); the DWS reading as it is; `object` as the object number.
codec::DeviceRead DeviceReadOf(const v1::ParcelSorted& scan, const codec::DeviceProfile& profile,
                               uint64_t object);

}  // namespace hub::tools
