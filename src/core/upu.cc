#include "core/upu.h"

#include <cstdint>

namespace hub::core {
namespace {

bool Letters(std::string_view s) {
  for (char c : s)
    if (c < 'A' || c > 'Z') return false;
  return true;
}

bool Digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

uint32_t Number(std::string_view digits) {
  uint32_t n = 0;
  for (char c : digits) n = n * 10 + static_cast<uint32_t>(c - '0');
  return n;
}

}  // namespace

bool LooksLikeS10(std::string_view id) {
  return id.size() == 13 && Letters(id.substr(0, 2)) && Digits(id.substr(2, 9)) &&
         Letters(id.substr(11, 2));
}

int S10CheckDigit(std::string_view serial) {
  if (serial.size() != 8 || !Digits(serial)) return -1;
  static constexpr int kWeights[8] = {8, 6, 4, 2, 3, 5, 9, 7};
  int sum = 0;
  for (size_t i = 0; i < 8; ++i) sum += (serial[i] - '0') * kWeights[i];
  const int c = 11 - sum % 11;
  return c == 10 ? 0 : c == 11 ? 5 : c;
}

bool ValidS10(std::string_view id) {
  return LooksLikeS10(id) && S10CheckDigit(id.substr(2, 8)) == id[10] - '0';
}

// Layout (29): origin office 6, destination office 6, category 1, subclass
// 2, year 1, dispatch 4, receptacle 3, highest-receptacle flag 1,
// registered/insured flag 1, weight in hectograms 4.
std::optional<v1::Receptacle> ParseS9(std::string_view id) {
  if (id.size() != 29) return std::nullopt;
  const auto origin = id.substr(0, 6), destination = id.substr(6, 6);
  const auto category = id.substr(12, 1), subclass = id.substr(13, 2);
  const auto numbers = id.substr(15, 14);
  // An office of exchange: country (2 letters), location (3 letters), office (1 letter).
  if (!Letters(origin) || !Letters(destination) || !Letters(category) || !Digits(numbers))
    return std::nullopt;
  for (char c : subclass)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return std::nullopt;
  v1::Receptacle r;
  r.set_origin_office(std::string(origin));
  r.set_destination_office(std::string(destination));
  r.set_mail_category(std::string(category));
  r.set_mail_subclass(std::string(subclass));
  r.set_year_digit(Number(id.substr(15, 1)));
  r.set_dispatch_number(Number(id.substr(16, 4)));
  r.set_receptacle_number(Number(id.substr(20, 3)));
  r.set_last_receptacle(id[23] == '1');
  r.set_registered_flag(std::string(id.substr(24, 1)));
  r.set_weight_g(uint64_t{Number(id.substr(25, 4))} * 100);
  return r;
}

}  // namespace hub::core
