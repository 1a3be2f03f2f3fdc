#include "codec/telegram.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <regex>
#include <stdexcept>

#include "codec/device_names.h"
#include "core/upu.h"
#include "core/validate.h"
#include "util/utf8.h"

namespace hub::codec {

// --- names ---------------------------------------------------------------------

namespace {

struct FieldEntry {
  Field field;
  std::string_view name;
};
constexpr FieldEntry kFields[] = {
    {Field::kIgnore, "ignore"},
    {Field::kObject, "object"},
    {Field::kCode, "code"},
    {Field::kCodes, "codes"},
    {Field::kDestination, "destination"},
    {Field::kWeight, "weight"},
    {Field::kWeightUnit, "weight_unit"},
    {Field::kLength, "length"},
    {Field::kWidth, "width"},
    {Field::kHeight, "height"},
    {Field::kDimensionUnit, "dimension_unit"},
    {Field::kVolume, "volume"},
    {Field::kScaleError, "scale_error"},
    {Field::kLegalForTrade, "legal_for_trade"},
    {Field::kNoDimensionReason, "no_dimension_reason"},
};

struct UnitEntry {
  Quantity q;
  std::string_view name;
  double factor;
};
constexpr UnitEntry kUnits[] = {
    {Quantity::kWeight, "g", 1},           {Quantity::kWeight, "kg", 1000},
    {Quantity::kWeight, "lb", 453.59237},  {Quantity::kDimension, "mm", 1},
    {Quantity::kDimension, "cm", 10},      {Quantity::kDimension, "m", 1000},
    {Quantity::kDimension, "in", 25.4},    {Quantity::kVolume, "cm3", 1},
    {Quantity::kVolume, "dm3", 1000},      {Quantity::kVolume, "m3", 1e6},
    {Quantity::kVolume, "in3", 16.387064},
};

bool WellFormedUtf8(std::string_view s) {
  while (!s.empty()) {
    const size_t n = util::Utf8SequenceLength(s);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

}  // namespace

std::string_view FieldName(Field field) {
  for (const FieldEntry& e : kFields)
    if (e.field == field) return e.name;
  return "ignore";
}

bool FieldFromName(std::string_view name, Field* field) {
  if (name == "-") name = "ignore";
  for (const FieldEntry& e : kFields) {
    if (e.name == name) {
      *field = e.field;
      return true;
    }
  }
  return false;
}

std::string IdProblem(std::string_view code) {
  if (code.empty()) return "is empty";
  if (code.size() > core::kMaxIdLength) return "is longer than 64 bytes";
  if (core::HasControlCharacter(code)) return "holds a control character";
  if (!WellFormedUtf8(code)) return "is not UTF-8";
  return "";
}

double UnitFactor(Quantity q, std::string_view unit) {
  for (const UnitEntry& u : kUnits)
    if (u.q == q && u.name == unit) return u.factor;
  return 0;
}

std::string_view UnitNames(Quantity q) {
  switch (q) {
    case Quantity::kWeight:
      return "g, kg, lb";
    case Quantity::kDimension:
      return "mm, cm, m, in";
    case Quantity::kVolume:
      return "cm3, dm3, m3, in3";
  }
  return "";
}

// --- framing -------------------------------------------------------------------

TelegramFramer::TelegramFramer(const DeviceProfile& profile) : p_(profile) {}

void TelegramFramer::Append(std::string_view bytes) {
  buf_.erase(0, pos_);
  pos_ = 0;
  buf_.append(bytes);
}

// Every byte the framer consumes without delivering it is counted in
// discarded_. Decisions look only at a window of header + max_telegram +
// terminator bytes, so they never depend on how the stream was split.
TelegramFramer::Result TelegramFramer::Next(std::string* payload) {
  const std::string& head = p_.header;
  const std::string& term = p_.terminator;
  const size_t keep = head.empty() ? 0 : head.size() - 1;  // a header's start may be at the end
  auto drop_to = [&](size_t to) {
    discarded_ += to - pos_;
    pos_ = to;
  };
  for (;;) {
    if (skipping_) {
      // Inside an oversized telegram: up to the next header (or, without a
      // header, past the next terminator).
      if (head.empty()) {
        const size_t t = buf_.find(term, pos_);
        if (t == std::string::npos) {
          drop_to(std::max(pos_, buf_.size() - std::min(buf_.size(), term.size() - 1)));
          return Result::kNeedMore;
        }
        drop_to(t + term.size());
      } else {
        const size_t h = buf_.find(head, pos_);
        if (h == std::string::npos) {
          drop_to(std::max(pos_, buf_.size() - std::min(buf_.size(), keep)));
          return Result::kNeedMore;
        }
        drop_to(h);
      }
      skipping_ = false;
      continue;
    }
    if (!head.empty()) {
      const size_t h = buf_.find(head, pos_);
      if (h == std::string::npos) {
        drop_to(std::max(pos_, buf_.size() - std::min(buf_.size(), keep)));
        return Result::kNeedMore;
      }
      drop_to(h);
    }
    const size_t start = pos_ + head.size();
    const size_t window_end = std::min(buf_.size(), start + p_.max_telegram + term.size());
    const std::string_view window(buf_.data() + start, window_end - start);
    const size_t t = window.find(term);
    if (!head.empty()) {
      // A new header before the terminator: what came before it was a cut-off
      // telegram (noise).
      const size_t again = window.find(head);
      if (again != std::string_view::npos && (t == std::string_view::npos || again < t)) {
        drop_to(start + again);
        continue;
      }
    }
    if (t != std::string_view::npos) {
      payload->assign(window.substr(0, t));
      pos_ = start + t + term.size();
      return Result::kTelegram;
    }
    if (window.size() < p_.max_telegram + term.size()) return Result::kNeedMore;
    drop_to(start);
    skipping_ = true;
    return Result::kOversized;
  }
}

// --- parsing -------------------------------------------------------------------

namespace {

constexpr size_t kMaxCodes = 16;
constexpr size_t kMaxText = 1024;

std::vector<std::string_view> Split(std::string_view text, std::string_view sep) {
  std::vector<std::string_view> out;
  if (sep.empty()) {
    out.push_back(text);
    return out;
  }
  for (;;) {
    const size_t at = text.find(sep);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + sep.size());
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Shown in a reason: printable, at most 40 bytes.
std::string Quote(std::string_view text) {
  std::string out = "'";
  for (char c : text.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out.push_back(c);
    }
  }
  if (text.size() > 40) out += "...";
  return out + "'";
}

// A decimal number: digits with at most one decimal point, spaces around it
// allowed. nullopt when it is not one.
std::optional<double> Decimal(std::string_view text) {
  text = Trim(text);
  if (text.empty() || text.size() > 32) return std::nullopt;
  size_t digits = 0, points = 0;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '.') {
      ++points;
    } else {
      return std::nullopt;
    }
  }
  if (digits == 0 || points > 1) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

class Parser {
 public:
  Parser(const DeviceProfile& p, DeviceRead* out) : p_(p), out_(out) {}

  std::string Take(size_t index, codec::Field field, std::string_view text) {
    index_ = index;
    field_ = field;
    switch (field) {
      case Field::kIgnore:
        return "";
      case Field::kObject:
        if (text.size() > core::kMaxIdLength || core::HasControlCharacter(text) ||
            !WellFormedUtf8(text))
          return Bad(Quote(text) + " is not a printable id of at most 64 bytes");
        out_->object.assign(text);
        return "";
      case Field::kCode:
        for (std::string_view code : Split(text, p_.code_separator))
          if (std::string why = Code(code); !why.empty()) return why;
        return "";
      case Field::kCodes:
        return Code(text);
      case Field::kDestination:
        if (!text.empty())
          if (std::string why = IdProblem(text); !why.empty()) return Bad(Quote(text) + " " + why);
        out_->destination.assign(text);
        return "";
      case Field::kWeight:
        return Number(text, &weight_);
      case Field::kLength:
        return Number(text, &length_);
      case Field::kWidth:
        return Number(text, &width_);
      case Field::kHeight:
        return Number(text, &height_);
      case Field::kVolume:
        return Number(text, &volume_);
      case Field::kWeightUnit:
        return Unit(Quantity::kWeight, text, &weight_unit_);
      case Field::kDimensionUnit:
        return Unit(Quantity::kDimension, text, &dimension_unit_);
      case Field::kScaleError:
        out_->measurement.set_scale_error(Flag(text));
        return "";
      case Field::kLegalForTrade:
        out_->measurement.set_legal_for_trade(Flag(text));
        return "";
      case Field::kNoDimensionReason:
        text = Trim(text);
        if (text.size() > kMaxText || core::HasControlCharacter(text) || !WellFormedUtf8(text))
          return Bad(Quote(text) + " is not printable text of at most 1024 bytes");
        out_->measurement.set_no_dimension_reason(std::string(text));
        return "";
    }
    return "";
  }

  // Converts the numbers once every unit field is known.
  std::string Finish() {
    v1::Measurement& m = out_->measurement;
    uint64_t v = 0;
    if (std::string why = Scaled("weight", weight_, Quantity::kWeight, weight_unit_, 1e12, &v);
        !why.empty())
      return why;
    m.set_weight_g(v);
    const double kMaxMm = 4294967295.0;
    if (std::string why =
            Scaled("length", length_, Quantity::kDimension, dimension_unit_, kMaxMm, &v);
        !why.empty())
      return why;
    m.set_length_mm(static_cast<uint32_t>(v));
    if (std::string why =
            Scaled("width", width_, Quantity::kDimension, dimension_unit_, kMaxMm, &v);
        !why.empty())
      return why;
    m.set_width_mm(static_cast<uint32_t>(v));
    if (std::string why =
            Scaled("height", height_, Quantity::kDimension, dimension_unit_, kMaxMm, &v);
        !why.empty())
      return why;
    m.set_height_mm(static_cast<uint32_t>(v));
    if (std::string why = Scaled("volume", volume_, Quantity::kVolume, p_.volume_unit, 1e15, &v);
        !why.empty())
      return why;
    m.set_volume_cm3(v);
    if (out_->codes.empty() && multi_read_) out_->codes.push_back(p_.multi_read);
    out_->multi_read = multi_read_;
    out_->no_read = out_->codes.empty();
    return "";
  }

 private:
  std::string Bad(const std::string& what) const {
    return "field " + std::to_string(index_ + 1) + " (" + std::string(FieldName(field_)) +
           "): " + what;
  }

  std::string Code(std::string_view code) {
    if (code.empty() || code == p_.no_read) return "";
    if (!p_.multi_read.empty() && code == p_.multi_read) {
      multi_read_ = true;
      return "";
    }
    if (std::string why = IdProblem(code); !why.empty())
      return Bad("code " + Quote(code) + " " + why);
    if (out_->codes.size() == kMaxCodes) return Bad("more than 16 codes in one read");
    out_->codes.emplace_back(code);
    return "";
  }

  std::string Number(std::string_view text, double* value) {
    if (Trim(text).empty()) return "";
    const std::optional<double> v = Decimal(text);
    if (!v) return Bad(Quote(text) + " is not a number");
    *value = *v;
    return "";
  }

  std::string Unit(Quantity q, std::string_view text, std::string* unit) {
    text = Trim(text);
    if (text.empty()) return "";
    if (UnitFactor(q, text) == 0)
      return Bad(Quote(text) + " is not a unit (" + std::string(UnitNames(q)) + ")");
    unit->assign(text);
    return "";
  }

  bool Flag(std::string_view text) const {
    text = Trim(text);
    return std::find(p_.true_values.begin(), p_.true_values.end(), text) != p_.true_values.end();
  }

  std::string Scaled(const char* what, double value, Quantity q, const std::string& unit,
                     double max, uint64_t* out) const {
    const double factor = UnitFactor(q, unit);
    if (factor == 0) return std::string(what) + ": unknown unit " + Quote(unit);
    const double scaled = std::round(value * factor);
    if (!(scaled <= max))
      return std::string(what) + ": " + std::to_string(value) + " " + unit + " is out of range";
    *out = static_cast<uint64_t>(scaled);
    return "";
  }

  const DeviceProfile& p_;
  DeviceRead* out_;
  size_t index_ = 0;
  codec::Field field_ = Field::kIgnore;
  double weight_ = 0, length_ = 0, width_ = 0, height_ = 0, volume_ = 0;
  std::string weight_unit_ = p_.weight_unit, dimension_unit_ = p_.dimension_unit;
  bool multi_read_ = false;
};

}  // namespace

std::string ParseTelegram(const DeviceProfile& profile, std::string_view payload, DeviceRead* out) {
  *out = DeviceRead();
  const std::vector<std::string_view> parts = Split(payload, profile.separator);
  const size_t n = profile.fields.size();
  const bool codes_last = n > 0 && profile.fields.back() == Field::kCodes;
  if (codes_last ? parts.size() + 1 < n : parts.size() != n) {
    return std::to_string(parts.size()) + " fields where profile '" + profile.name + "' has " +
           (codes_last ? "at least " + std::to_string(n - 1) : std::to_string(n));
  }
  Parser parser(profile, out);
  for (size_t i = 0; i < parts.size(); ++i) {
    const Field field = i < n ? profile.fields[i] : Field::kCodes;
    if (std::string why = parser.Take(i, field, parts[i]); !why.empty()) return why;
  }
  return parser.Finish();
}

namespace {

// `value` (grams, mm, cm3) in `unit`, with up to 6 decimals, trailing zeros cut.
std::string InUnit(uint64_t value, Quantity q, const std::string& unit) {
  const double factor = UnitFactor(q, unit);
  if (value == 0 || factor == 0) return "0";
  char text[64];
  std::snprintf(text, sizeof text, "%.6f", static_cast<double>(value) / factor);
  std::string s = text;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::string FormatTelegram(const DeviceProfile& profile, const DeviceRead& read) {
  const v1::Measurement& m = read.measurement;
  // The codes as sent: the multi-read string first when the read is a
  // multi-read that does not carry it, the no-read string when none.
  std::vector<std::string> codes = read.codes;
  if (read.multi_read && !profile.multi_read.empty() &&
      std::find(codes.begin(), codes.end(), profile.multi_read) == codes.end())
    codes.insert(codes.begin(), profile.multi_read);
  if (codes.empty()) codes.push_back(profile.no_read);
  auto flag = [&](bool on) -> std::string {
    return on && !profile.true_values.empty() ? profile.true_values.front() : "0";
  };
  std::string out = profile.header;
  for (size_t i = 0; i < profile.fields.size(); ++i) {
    if (i > 0) out += profile.separator;
    switch (profile.fields[i]) {
      case Field::kIgnore:
        break;
      case Field::kObject:
        out += read.object;
        break;
      case Field::kCode:
        if (profile.code_separator.empty()) {
          out += codes.front();
        } else {
          for (size_t k = 0; k < codes.size(); ++k)
            out += (k ? profile.code_separator : "") + codes[k];
        }
        break;
      case Field::kCodes:
        for (size_t k = 0; k < codes.size(); ++k) out += (k ? profile.separator : "") + codes[k];
        break;
      case Field::kDestination:
        out += read.destination;
        break;
      case Field::kWeight:
        out += InUnit(m.weight_g(), Quantity::kWeight, profile.weight_unit);
        break;
      case Field::kWeightUnit:
        out += profile.weight_unit;
        break;
      case Field::kLength:
        out += InUnit(m.length_mm(), Quantity::kDimension, profile.dimension_unit);
        break;
      case Field::kWidth:
        out += InUnit(m.width_mm(), Quantity::kDimension, profile.dimension_unit);
        break;
      case Field::kHeight:
        out += InUnit(m.height_mm(), Quantity::kDimension, profile.dimension_unit);
        break;
      case Field::kDimensionUnit:
        out += profile.dimension_unit;
        break;
      case Field::kVolume:
        out += InUnit(m.volume_cm3(), Quantity::kVolume, profile.volume_unit);
        break;
      case Field::kScaleError:
        out += flag(m.scale_error());
        break;
      case Field::kLegalForTrade:
        out += flag(m.legal_for_trade());
        break;
      case Field::kNoDimensionReason:
        out += m.no_dimension_reason();
        break;
    }
  }
  return out + profile.terminator;
}

// --- picking a code --------------------------------------------------------------

namespace {

std::regex Compile(const std::string& pattern, const char* what) {
  try {
    return std::regex(pattern, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    throw std::invalid_argument(std::string(what) + " '" + pattern +
                                "' does not compile: " + e.what());
  }
}

// Codes in the order sent, each once.
std::vector<std::string> Unique(const std::vector<std::string>& codes) {
  std::vector<std::string> out;
  for (const std::string& c : codes)
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  return out;
}

}  // namespace

struct CodePicker::Impl {
  CodeRules rules;
  std::vector<std::regex> patterns;
  std::optional<std::regex> destination;
};

CodePicker::CodePicker(const CodeRules& rules) : impl_(std::make_unique<Impl>()) {
  impl_->rules = rules;
  for (const std::string& p : rules.parcel_patterns)
    impl_->patterns.push_back(Compile(p, "parcel pattern"));
  if (!rules.destination_pattern.empty())
    impl_->destination = Compile(rules.destination_pattern, "destination pattern");
}

CodePicker::~CodePicker() = default;

CodeChoice CodePicker::Pick(const DeviceRead& read) const {
  CodeChoice choice;
  const std::vector<std::string> codes = Unique(read.codes);
  if (read.multi_read) {
    choice.outcome = v1::READ_AMBIGUOUS;
    choice.read_codes = codes;
    choice.destination = read.destination;
    return choice;
  }
  if (codes.empty()) {
    choice.outcome = v1::READ_NO_READ;
    choice.destination = read.destination;
    return choice;
  }
  // Rule 3: destinations.
  std::vector<std::string> destinations;
  std::vector<const std::string*> others;
  for (const std::string& c : codes) {
    if (impl_->destination && std::regex_match(c, *impl_->destination)) {
      destinations.push_back(c);
    } else {
      others.push_back(&c);
    }
  }
  if (!read.destination.empty()) {
    choice.destination = read.destination;
  } else if (destinations.size() == 1) {
    choice.destination = destinations.front();
  } else if (destinations.size() > 1) {
    choice.outcome = v1::READ_AMBIGUOUS;
    choice.read_codes = codes;
    return choice;
  }
  // Rule 4: rank 0 valid S10 ids, rank 1 + i the i-th pattern (or every code).
  const size_t none = impl_->patterns.size() + 2;
  size_t best = none;
  std::vector<const std::string*> best_codes;
  bool failed_check = false;
  for (const std::string* c : others) {
    size_t rank = none;
    if (core::ValidS10(*c)) {
      rank = 0;
    } else if (impl_->rules.validate_s10 && core::LooksLikeS10(*c)) {
      failed_check = true;
    } else if (impl_->patterns.empty()) {
      rank = 1;
    } else {
      for (size_t i = 0; i < impl_->patterns.size(); ++i) {
        if (std::regex_match(*c, impl_->patterns[i])) {
          rank = 1 + i;
          break;
        }
      }
    }
    if (rank < best) {
      best = rank;
      best_codes.clear();
    }
    if (rank == best && rank != none) best_codes.push_back(c);
  }
  // Rules 5 and 6.
  if (best_codes.size() == 1) {
    choice.outcome = v1::READ_SINGLE;
    choice.parcel_id = *best_codes.front();
    if (codes.size() > 1) choice.read_codes = codes;
  } else {
    choice.outcome = best_codes.size() > 1 ? v1::READ_AMBIGUOUS
                     : failed_check        ? v1::READ_INVALID_ID
                                           : v1::READ_NO_READ;
    choice.read_codes = codes;
  }
  return choice;
}

// --- events ----------------------------------------------------------------------

struct ReadMapper::Impl {
  explicit Impl(const DeviceRole& r) : role(r), picker(r.rules) {}

  Mapped Sort(const DeviceRead& read) const;
  Mapped WithContext(const DeviceRead& read);
  // The one context label in the read: "" when none; *two when the read
  // holds several different ones.
  std::string Context(const DeviceRead& read, bool* two) const;
  bool Ends(const DeviceRead& read) const;
  // The parcel (or bag) id of a read without a context label, or *why not.
  std::string Item(const DeviceRead& read, const char* where, std::string* why) const;

  DeviceRole role;
  CodePicker picker;
  std::optional<std::regex> context;
  std::string open;  // the open bag (kUnbag) or the vehicle being unloaded (kUnload)
};

ReadMapper::ReadMapper(const DeviceRole& role) : impl_(std::make_unique<Impl>(role)) {
  if (role.kind == DeviceKind::kSort) return;
  if (role.context_pattern.empty())
    throw std::invalid_argument(
        role.kind == DeviceKind::kUnbag
            ? "an unbagging device needs a context_pattern (bag labels)"
            : "an unloading device needs a context_pattern (vehicle labels)");
  impl_->context = Compile(role.context_pattern, "context pattern");
}

ReadMapper::~ReadMapper() = default;

ReadMapper::Mapped ReadMapper::Map(const DeviceRead& read) {
  switch (impl_->role.kind) {
    case DeviceKind::kSort:
      return impl_->Sort(read);
    case DeviceKind::kUnbag:
    case DeviceKind::kUnload:
      return impl_->WithContext(read);
  }
  return {};
}

ReadMapper::Mapped ReadMapper::Impl::Sort(const DeviceRead& read) const {
  const CodeChoice choice = picker.Pick(read);
  Mapped m;
  m.answer = true;
  v1::ParcelSorted* s = m.events.emplace_back().mutable_parcel_sorted();
  s->set_parcel_id(choice.parcel_id);
  s->set_destination(choice.destination);
  s->set_read(choice.outcome);
  for (const std::string& c : choice.read_codes) s->add_read_codes(c);
  if (read.measurement.ByteSizeLong() > 0) {
    *s->mutable_measurement() = read.measurement;
    if (!read.measurement.scale_error()) s->set_weight_g(read.measurement.weight_g());
  }
  return m;
}

std::string ReadMapper::Impl::Context(const DeviceRead& read, bool* two) const {
  std::string found;
  *two = false;
  for (const std::string& c : read.codes) {
    if (!std::regex_match(c, *context)) continue;
    if (!found.empty() && found != c) *two = true;
    if (found.empty()) found = c;
  }
  return found;
}

bool ReadMapper::Impl::Ends(const DeviceRead& read) const {
  return !role.end_code.empty() &&
         std::find(read.codes.begin(), read.codes.end(), role.end_code) != read.codes.end();
}

std::string ReadMapper::Impl::Item(const DeviceRead& read, const char* where,
                                   std::string* why) const {
  const CodeChoice choice = picker.Pick(read);
  auto list = [&] {
    std::string s;
    for (const std::string& c : choice.read_codes) s += (s.empty() ? "" : ", ") + c;
    return s;
  };
  switch (choice.outcome) {
    case v1::READ_SINGLE:
      return choice.parcel_id;
    case v1::READ_AMBIGUOUS:
      *why = std::string("ambiguous read ") + where + ": " + list();
      break;
    case v1::READ_INVALID_ID:
      *why = std::string("invalid id ") + where + ": " + list();
      break;
    default:
      *why = read.codes.empty() ? std::string("no read ") + where
                                : std::string("no usable code ") + where + ": " + list();
  }
  return "";
}

// kUnbag and kUnload: `open` is the bag being emptied or the vehicle being
// unloaded.
ReadMapper::Mapped ReadMapper::Impl::WithContext(const DeviceRead& read) {
  const bool unbag = role.kind == DeviceKind::kUnbag;
  const std::string label = unbag ? "bag" : "vehicle";
  Mapped m;
  if (Ends(read)) {
    if (open.empty()) {
      m.unused = "end code with no " + label + " open";
    } else if (unbag) {
      m.events.emplace_back().mutable_bag_emptied()->set_bag_id(open);
    } else {
      m.events.emplace_back().mutable_vehicle_unloaded()->set_vehicle_id(open);
    }
    open.clear();
    return m;
  }
  bool two = false;
  if (const std::string context = Context(read, &two); !context.empty()) {
    if (two) {
      m.unused = "two different " + label + " labels in one read";
    } else if (context == open) {
      m.unused = label + " " + context + " is already open";
    } else if (unbag) {
      if (!open.empty()) m.events.emplace_back().mutable_bag_emptied()->set_bag_id(open);
      m.events.emplace_back().mutable_bag_opened()->set_bag_id(context);
    }  // a vehicle label: no event, and nothing unused either
    if (!two) open = context;
    return m;
  }
  const std::string item =
      Item(read, unbag ? "at an unbagging table" : "at an unloading dock", &m.unused);
  if (item.empty()) return m;
  if (open.empty()) {
    m.unused = "no " + label + " label read yet (" + (unbag ? "parcel " : "bag ") + item + ")";
  } else if (unbag) {
    v1::ParcelUnbagged* u = m.events.emplace_back().mutable_parcel_unbagged();
    u->set_parcel_id(item);
    u->set_bag_id(open);
  } else {
    v1::BagUnloaded* u = m.events.emplace_back().mutable_bag_unloaded();
    u->set_bag_id(item);
    u->set_vehicle_id(open);
    if (!read.measurement.scale_error()) u->set_weight_g(read.measurement.weight_g());
  }
  return m;
}

// --- answering -------------------------------------------------------------------

std::string FormatReply(const DeviceProfile& profile, const DeviceRead& read,
                        const v1::SortDecision& decision) {
  if (profile.reply.empty()) return "";
  const bool diverted = decision.divert() != v1::DIVERT_NONE;
  std::string divert;
  if (diverted) {
    divert = v1::DivertReason_Name(decision.divert());
    if (divert.rfind("DIVERT_", 0) == 0) divert.erase(0, 7);
  }
  struct Placeholder {
    std::string_view name;
    const std::string& value;
  };
  const Placeholder values[] = {
      {"{object}", read.object},
      {"{code}", decision.parcel_id()},
      {"{chute}", diverted ? profile.divert_chute : decision.chute()},
      {"{route}", decision.route_code()},
      {"{load}", decision.load_id()},
      {"{destination}", read.destination},
      {"{divert}", divert},
  };
  std::string out;
  std::string_view rest = profile.reply;
  while (!rest.empty()) {
    bool replaced = false;
    if (rest.front() == '{') {
      for (const Placeholder& p : values) {
        if (rest.substr(0, p.name.size()) == p.name) {
          out += p.value;
          rest.remove_prefix(p.name.size());
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) {
      out.push_back(rest.front());
      rest.remove_prefix(1);
    }
  }
  return out;
}

}  // namespace hub::codec
