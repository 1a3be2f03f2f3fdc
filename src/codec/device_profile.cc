// LoadProfile / ParseProfile: deploy/devices/*.toml into a DeviceProfile.
// docs/devices.md lists the keys.

#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "codec/device_names.h"
#include "codec/telegram.h"

namespace hub::codec {
namespace {

// Reads a profile's keys, each with its type checked; Done() refuses every
// key that was not read.
class ProfileReader {
 public:
  ProfileReader(const toml::table& table, const std::string& origin)
      : table_(table), origin_(origin) {}

  [[noreturn]] void Fail(std::string_view key, const std::string& what) const {
    throw std::runtime_error(origin_ + ": key '" + std::string(key) + "' " + what);
  }

  void String(std::string_view key, std::string* out) {
    if (const toml::node* node = Find(key)) {
      const auto v = node->value_exact<std::string>();
      if (!v) Fail(key, "must be a string");
      *out = *v;
    }
  }

  void Strings(std::string_view key, std::vector<std::string>* out) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    const toml::array* array = node->as_array();
    if (array == nullptr) Fail(key, "must be an array of strings");
    out->clear();
    for (const toml::node& entry : *array) {
      const auto v = entry.value_exact<std::string>();
      if (!v) Fail(key, "must be an array of strings");
      out->push_back(*v);
    }
  }

  void Size(std::string_view key, size_t min, size_t max, size_t* out) {
    if (const toml::node* node = Find(key)) {
      const auto v = node->value_exact<int64_t>();
      if (!v) Fail(key, "must be an integer");
      if (*v < static_cast<int64_t>(min) || *v > static_cast<int64_t>(max))
        Fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      *out = static_cast<size_t>(*v);
    }
  }

  void Done() const {
    for (const auto& [key, value] : table_)
      if (!read_.count(std::string(key.str())))
        throw std::runtime_error(origin_ + ": unknown key '" + std::string(key.str()) + "'");
  }

 private:
  const toml::node* Find(std::string_view key) {
    read_.insert(std::string(key));
    return table_.get(key);
  }

  const toml::table& table_;
  const std::string& origin_;
  std::set<std::string> read_;
};

}  // namespace

DeviceProfile ParseProfile(std::string_view toml_text, const std::string& origin) {
  toml::table table;
  try {
    table = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ": " << e.description() << " at line " << e.source().begin.line;
    throw std::runtime_error(msg.str());
  }
  ProfileReader r(table, origin);
  DeviceProfile p;
  p.name = origin;
  r.String("name", &p.name);
  r.String("header", &p.header);
  r.String("terminator", &p.terminator);
  r.String("separator", &p.separator);
  r.String("code_separator", &p.code_separator);
  std::vector<std::string> fields;
  r.Strings("fields", &fields);
  r.String("no_read", &p.no_read);
  r.String("multi_read", &p.multi_read);
  r.String("weight_unit", &p.weight_unit);
  r.String("dimension_unit", &p.dimension_unit);
  r.String("volume_unit", &p.volume_unit);
  r.Strings("true_values", &p.true_values);
  r.Size("max_telegram", 1, 1 << 20, &p.max_telegram);
  r.String("reply", &p.reply);
  r.String("divert_chute", &p.divert_chute);
  r.Done();

  if (p.terminator.empty()) r.Fail("terminator", "must not be empty");
  if (fields.empty()) r.Fail("fields", "must name at least one field");
  bool has_code = false;
  for (size_t i = 0; i < fields.size(); ++i) {
    Field f;
    if (!FieldFromName(fields[i], &f))
      r.Fail("fields", "names an unknown field '" + fields[i] + "'");
    if (f == Field::kCodes && i + 1 != fields.size())
      r.Fail("fields", "has \"codes\" before its last entry");
    has_code = has_code || f == Field::kCode || f == Field::kCodes;
    p.fields.push_back(f);
  }
  if (!has_code) r.Fail("fields", "has neither \"code\" nor \"codes\"");
  if (p.separator.empty() && fields.size() > 1) r.Fail("separator", "must not be empty");
  if (!p.code_separator.empty() && p.code_separator == p.separator)
    r.Fail("code_separator", "must differ from separator");
  if (!IdProblem(p.no_read).empty()) r.Fail("no_read", IdProblem(p.no_read));
  if (!p.multi_read.empty() && !IdProblem(p.multi_read).empty())
    r.Fail("multi_read", IdProblem(p.multi_read));
  if (p.multi_read == p.no_read) r.Fail("multi_read", "must differ from no_read");
  if (UnitFactor(Quantity::kWeight, p.weight_unit) == 0)
    r.Fail("weight_unit",
           "'" + p.weight_unit + "' is not one of " + std::string(UnitNames(Quantity::kWeight)));
  if (UnitFactor(Quantity::kDimension, p.dimension_unit) == 0)
    r.Fail("dimension_unit", "'" + p.dimension_unit + "' is not one of " +
                                 std::string(UnitNames(Quantity::kDimension)));
  if (UnitFactor(Quantity::kVolume, p.volume_unit) == 0)
    r.Fail("volume_unit",
           "'" + p.volume_unit + "' is not one of " + std::string(UnitNames(Quantity::kVolume)));
  return p;
}

DeviceProfile LoadProfile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseProfile(text.str(), path);
}

}  // namespace hub::codec
