#pragma once

// UPU identifiers: S10 item ids and S9 receptacle (bag) ids. Pure functions.
//
// S10 (13 characters): service indicator (2 letters), serial number (8
// digits), check digit, country code (2 letters), e.g. "RR473124829GB".
// The check digit: weights 8 6 4 2 3 5 9 7 on the serial's digits, S their
// weighted sum, C = 11 - S mod 11, with 10 -> 0 and 11 -> 5.
//
// S9 (29 characters): see v1::Receptacle in views.proto for the fields.

#include <optional>
#include <string_view>

#include "hub/v1/views.pb.h"

namespace hub::core {

// Two letters, nine digits, two letters (the check digit not checked).
bool LooksLikeS10(std::string_view id);
// The check digit of an 8-digit serial; -1 when `serial` is not 8 digits.
int S10CheckDigit(std::string_view serial);
// LooksLikeS10 and its check digit is right.
bool ValidS10(std::string_view id);
// The fields of an S9 receptacle id; nullopt when `id` is not one (length,
// letters where letters go, digits where digits go).
std::optional<v1::Receptacle> ParseS9(std::string_view id);

}  // namespace hub::core
