#pragma once

// The words a device profile is written in (field names, unit names), shared
// by the profile loader and the telegram parser. Internal to hub_devices.
//
// Thread safety: pure functions over constant tables.

#include <string>
#include <string_view>

#include "codec/telegram.h"

namespace hub::codec {

// A field's name in a profile's `fields` ("object", "code", ...).
std::string_view FieldName(Field field);
// False when `name` names no field ("-" and "ignore" are kIgnore).
bool FieldFromName(std::string_view name, Field* field);

// What is wrong with `code` as an id ("is empty", "holds a control
// character", ...); "" when it is 1..64 bytes of UTF-8 without control
// characters (C0, DEL, C1), as proto/hub/v1/event.proto wants ids.
std::string IdProblem(std::string_view code);

enum class Quantity { kWeight, kDimension, kVolume };
// How many grams, millimetres or cm3 one `unit` is; 0 when `unit` is not a
// unit of `q` ("g", "kg", "lb"; "mm", "cm", "m", "in"; "cm3", "dm3", "m3", "in3").
double UnitFactor(Quantity q, std::string_view unit);
// The unit names of `q`, comma-separated, for error messages.
std::string_view UnitNames(Quantity q);

}  // namespace hub::codec
