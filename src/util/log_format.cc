#include "util/log_format.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "util/utf8.h"

namespace hub::util {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUnicodeEscape(unsigned c, std::string* out) {
  *out += "\\u00";
  out->push_back(kHex[(c >> 4) & 15]);
  out->push_back(kHex[c & 15]);
}

// `text` as a quoted JSON string: control characters (C0, DEL, C1) as
// \u00XX, bytes that are not well-formed UTF-8 as U+FFFD.
void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  while (!text.empty()) {
    const size_t n = Utf8SequenceLength(text);
    const auto c = static_cast<unsigned char>(text[0]);
    if (n == 0) {
      *out += "\xef\xbf\xbd";
      text.remove_prefix(1);
      continue;
    }
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      AppendUnicodeEscape(c, out);
    } else if (n == 2 && c == 0xc2 && static_cast<unsigned char>(text[1]) < 0xa0) {
      AppendUnicodeEscape(static_cast<unsigned char>(text[1]), out);  // U+0080..U+009F
    } else {
      out->append(text.substr(0, n));
    }
    text.remove_prefix(n);
  }
  out->push_back('"');
}

void AppendMember(std::string_view key, std::string_view value, std::string* out) {
  out->push_back(',');
  AppendJsonString(key, out);
  out->push_back(':');
  AppendJsonString(value, out);
}

// The value of a pair from `m[i]` on (just after the '='); moves *i past it.
// A quoted value ends at its closing quote, with LogValue()'s escapes
// (\" \\ \xNN) decoded; an escape it never writes is kept as it stands.
std::string ReadValue(std::string_view m, size_t* i) {
  std::string value;
  size_t j = *i;
  if (j < m.size() && m[j] == '"') {
    for (++j; j < m.size(); ++j) {
      const char c = m[j];
      if (c == '"') {
        ++j;
        break;
      }
      if (c == '\\' && j + 1 < m.size()) {
        const char e = m[j + 1];
        if (e == '"' || e == '\\') {
          value.push_back(e);
          ++j;
          continue;
        }
        if (e == 'x' && j + 3 < m.size() && HexDigit(m[j + 2]) >= 0 && HexDigit(m[j + 3]) >= 0) {
          value.push_back(static_cast<char>(HexDigit(m[j + 2]) * 16 + HexDigit(m[j + 3])));
          j += 3;
          continue;
        }
      }
      value.push_back(c);
    }
  }
  // An unquoted value, or what follows a closing quote before the next space
  // (a message that quoted by hand): kept as it stands.
  for (; j < m.size() && m[j] != ' '; ++j) value.push_back(m[j]);
  *i = j;
  return value;
}

class MessageFlag final : public spdlog::custom_flag_formatter {
 public:
  explicit MessageFlag(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string text;
    if (format_ == LogFormat::kJson) {
      AppendJsonMembers(payload, &text);
    } else {
      AppendLogfmtMessage(payload, &text);
    }
    dest.append(text.data(), text.data() + text.size());
  }

  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<MessageFlag>(format_);
  }

 private:
  const LogFormat format_;
};

}  // namespace

bool ParseLogFormat(std::string_view name, LogFormat* out) {
  if (name == "logfmt") {
    *out = LogFormat::kLogfmt;
  } else if (name == "json") {
    *out = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

void AppendLogfmtMessage(std::string_view message, std::string* out) {
  for (const char ch : message) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      *out += "\\x";
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else {
      out->push_back(ch);
    }
  }
}

void AppendJsonMembers(std::string_view m, std::string* out) {
  std::string loose;  // words that are not key=value pairs
  size_t i = 0;
  while (i < m.size()) {
    if (m[i] == ' ') {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < m.size() && m[end] != ' ' && m[end] != '=' && m[end] != '"') ++end;
    if (end > i && end < m.size() && m[end] == '=') {
      const std::string_view key = m.substr(i, end - i);
      i = end + 1;
      const std::string value = ReadValue(m, &i);
      AppendMember(key, value, out);
      continue;
    }
    end = m.find(' ', i);
    if (end == std::string_view::npos) end = m.size();
    if (!loose.empty()) loose.push_back(' ');
    loose.append(m.substr(i, end - i));
    i = end;
  }
  if (!loose.empty()) AppendMember("msg", loose, out);
}

std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format) {
  auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc, "\n");
  // %* is the message, written by MessageFlag.
  f->add_flag<MessageFlag>('*', format)
      .set_pattern(format == LogFormat::kJson ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l"%*})"
                                              : "ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l %*");
  return f;
}

void UseLogFormat(LogFormat format) {
  auto logger = std::make_shared<spdlog::logger>("hubd", std::make_shared<spdlog::sinks::stdout_sink_mt>());
  logger->set_formatter(MakeLogFormatter(format));
  logger->set_level(spdlog::default_logger()->level());
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace hub::util
