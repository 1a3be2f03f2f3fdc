#pragma once

namespace hub::core {

// The four kinds of entity the hub tracks; the byte is their tag in store
// keys and in the entity index.
enum class EntityKind : char { kVehicle = 'V', kBag = 'B', kParcel = 'P', kLoad = 'L' };

}  // namespace hub::core
