// hubd's log as an operator's tools read it: a real daemon in each format
// (logfmt, JSON lines) goes through sessions, API writes and refusals and a
// drain; every line it writes must parse, carry ts, level and event, and
// the lines an operator looks for must be there (README "Logs").

#include <gtest/gtest.h>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using testutil::DaemonProcess;
using testutil::HttpCall;
using Fields = std::map<std::string, std::string>;

constexpr const char* kViewer = "viewer-secret-1";
constexpr const char* kSupervisor = "supervisor-secret-1";
constexpr const char* kAdmin = "admin-secret-1";

bool IsUtcMillis(const std::string& ts) {
  // 2026-11-30T09:49:56.157Z
  static const std::string kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (ts.size() != kShape.size()) return false;
  for (size_t i = 0; i < ts.size(); ++i)
    if (kShape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(ts[i])) : ts[i] != kShape[i]) return false;
  return true;
}

// One logfmt line: key=value pairs separated by single spaces; a value is
// bare (printable, no space, '"', '=' or '\\') or quoted with \" \\ \xNN
// escapes. Returns nothing when the line breaks that grammar.
std::optional<Fields> ParseLogfmt(const std::string& line) {
  Fields out;
  size_t i = 0;
  while (i < line.size()) {
    size_t eq = i;
    while (eq < line.size() && (std::islower(static_cast<unsigned char>(line[eq])) || line[eq] == '_' ||
                                std::isdigit(static_cast<unsigned char>(line[eq]))))
      ++eq;
    if (eq == i || eq == line.size() || line[eq] != '=') return std::nullopt;
    const std::string key = line.substr(i, eq - i);
    std::string value;
    i = eq + 1;
    if (i < line.size() && line[i] == '"') {
      for (++i;; ++i) {
        if (i >= line.size()) return std::nullopt;  // unterminated
        const char c = line[i];
        if (c == '"') break;
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
        if (c != '\\') {
          value.push_back(c);
          continue;
        }
        if (i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\')) {
          value.push_back(line[++i]);
        } else if (i + 3 < line.size() && line[i + 1] == 'x' && std::isxdigit(static_cast<unsigned char>(line[i + 2])) &&
                   std::isxdigit(static_cast<unsigned char>(line[i + 3]))) {
          value.push_back(static_cast<char>(std::stoi(line.substr(i + 2, 2), nullptr, 16)));
          i += 3;
        } else {
          return std::nullopt;
        }
      }
      ++i;  // the closing quote
    } else {
      while (i < line.size() && line[i] != ' ') {
        const char c = line[i++];
        if (c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
          return std::nullopt;
        value.push_back(c);
      }
      if (value.empty()) return std::nullopt;
    }
    if (out.count(key)) return std::nullopt;  // a key twice
    out[key] = value;
    if (i == line.size()) break;
    if (line[i] != ' ' || i + 1 == line.size()) return std::nullopt;
    ++i;
  }
  return out;
}

// One JSON line: an object whose members are all strings.
std::optional<Fields> ParseJsonLine(const std::string& line) {
  google::protobuf::Struct s;
  if (line.empty() || line.front() != '{' || !google::protobuf::util::JsonStringToMessage(line, &s).ok())
    return std::nullopt;
  Fields out;
  for (const auto& [key, value] : s.fields()) {
    if (value.kind_case() != google::protobuf::Value::kStringValue) return std::nullopt;
    out[key] = value.string_value();
  }
  return out;
}

class LogLinesTest : public DaemonTest, public ::testing::WithParamInterface<std::string> {
 protected:
  // Every line of the log, parsed; a line that does not parse fails the test.
  std::vector<Fields> ParseAll(const std::string& log) {
    std::vector<Fields> lines;
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line)) {
      auto fields = GetParam() == "json" ? ParseJsonLine(line) : ParseLogfmt(line);
      if (!fields) {
        ADD_FAILURE() << "a " << GetParam() << " line that does not parse: " << line;
        continue;
      }
      EXPECT_TRUE(IsUtcMillis((*fields)["ts"])) << line;
      EXPECT_TRUE(fields->count("level") && fields->count("event")) << line;
      if (GetParam() == "logfmt") {
        EXPECT_EQ(line.rfind("ts=", 0), 0u) << line;
        EXPECT_NE(line.find(" level="), std::string::npos) << line;
      }
      lines.push_back(std::move(*fields));
    }
    return lines;
  }

  // The lines that hold every one of `want`.
  static size_t Count(const std::vector<Fields>& lines, const Fields& want) {
    size_t n = 0;
    for (const auto& l : lines) {
      bool all = true;
      for (const auto& [k, v] : want) all = all && l.count(k) && l.at(k) == v;
      n += all;
    }
    return n;
  }
};

TEST_P(LogLinesTest, EveryLineParsesAndTellsWhoDidWhat) {
  const std::string config = (dir_ / "hubd.toml").string();
  std::ofstream(config) << "log_format = \"logfmt\"\n"
                        << "[[api.tokens]]\nname = \"wall\"\ntoken = \"" << kViewer << "\"\nrole = \"viewer\"\n"
                        << "[[api.tokens]]\nname = \"sup-li\"\ntoken = \"" << kSupervisor
                        << "\"\nrole = \"supervisor\"\n"
                        << "[[api.tokens]]\nname = \"ops\"\ntoken = \"" << kAdmin << "\"\nrole = \"admin\"\n";
  // The flag overrides the file's log_format.
  DaemonProcess hubd(db_, {"--config", config, "--log-format", GetParam()});
  ASSERT_NE(hubd.port(), 0);
  const uint16_t http = hubd.http_port();
  {
    testutil::ScanClient c(hubd.port());
    ASSERT_EQ(c.Hello("DESK-1", "DESK"), 0);
    testutil::Scanner s("DESK-1");
    c.Send(s.ParcelDamaged("P1", 100));  // raises DAMAGED, case 1
    ASSERT_EQ(c.WaitForAck(1), 1u);
    c.ShutdownSend();
    ASSERT_TRUE(c.WaitClosed());
  }
  {
    testutil::ScanClient c(hubd.port());  // an id that needs quoting
    ASSERT_EQ(c.Hello("TABLE 1 event=forged", "ST \"A\""), 0);
  }
  // Two refusals for who sent them; one line per 10 s, so the first one
  // differs between the runs: each kind is seen in one of them.
  const bool unknown_first = GetParam() == "logfmt";
  const std::string guessed = "guessed-token-123";
  auto unknown = [&] { EXPECT_EQ(HttpCall(http, "GET", "/v1/exceptions", "", guessed).status, 401); };
  auto too_low = [&] {
    EXPECT_EQ(HttpCall(http, "POST", "/v1/exceptions/1:resolve", "{}", kViewer).status, 403);
  };
  if (unknown_first) {
    unknown();
    too_low();
  } else {
    too_low();
    unknown();
  }
  ASSERT_EQ(HttpCall(http, "POST", "/v1/reference",
                     R"({"changes":[{"upsert_route":{"destination":"D-SH","route_code":"R-SH","chute":"C9","load_id":"L-SH"}},
                                    {"upsert_route":{"destination":"D-BJ","route_code":"R-BJ","chute":"C3","load_id":"L-BJ"}},
                                    {"add_hold":{"parcel_id":"P-HELD","reason":"HOLD_REASON_SECURITY"}}]})",
                     kAdmin)
                .status,
            200);
  ASSERT_EQ(HttpCall(http, "POST", "/v1/exceptions/1:acknowledge", R"({"note":"on the scale"})", kSupervisor).status,
            200);
  ASSERT_EQ(HttpCall(http, "POST", "/v1/exceptions/1:acknowledge", "{}", kSupervisor).status, 409);
  ASSERT_EQ(hubd.Terminate(), 0);

  const std::string log = hubd.Log();
  const auto lines = ParseAll(log);
  ASSERT_GE(lines.size(), 10u) << log;
  for (const char* secret : {kViewer, kSupervisor, kAdmin})
    EXPECT_EQ(log.find(secret), std::string::npos) << "a token reached the log:\n" << log;
  EXPECT_EQ(log.find(guessed), std::string::npos) << "a refused token reached the log:\n" << log;

  EXPECT_EQ(Count(lines, {{"event", "ready"}, {"level", "info"}}), 1u) << log;
  // Sessions: opened with the peer, named at the hello, closed with why.
  EXPECT_EQ(Count(lines, {{"event", "session_opened"}}), 2u) << log;
  EXPECT_EQ(Count(lines, {{"event", "session_hello"}, {"scanner", "DESK-1"}, {"station", "DESK"}}), 1u) << log;
  EXPECT_EQ(Count(lines, {{"event", "session_closed"}, {"scanner", "DESK-1"}, {"reason", "peer_closed"},
                          {"events", "1"}, {"acked_seq", "1"}}),
            1u)
      << log;
  EXPECT_EQ(Count(lines, {{"event", "session_hello"}, {"scanner", "TABLE 1 event=forged"}, {"station", "ST \"A\""}}),
            1u)
      << log;
  for (const auto& l : lines) {
    if (l.at("event") != "session_opened" && l.at("event") != "session_closed") continue;
    EXPECT_EQ(l.count("peer") ? l.at("peer").rfind("127.0.0.1:", 0) : 1, 0u) << "no peer in a session line";
  }
  // API writes: who, what and the result.
  EXPECT_EQ(Count(lines, {{"event", "api_action"}, {"who", "ops"}, {"what", "reference_load"}, {"changes", "3"},
                          {"kinds", "add_hold:1,upsert_route:2"}, {"applied", "3"}, {"result", "applied"}}),
            1u)
      << log;
  EXPECT_EQ(Count(lines, {{"event", "api_action"}, {"who", "sup-li"}, {"what", "acknowledge"}, {"case", "1"},
                          {"result", "applied"}}),
            1u)
      << log;
  EXPECT_EQ(Count(lines, {{"event", "api_action"}, {"who", "sup-li"}, {"what", "acknowledge"}, {"case", "1"},
                          {"result", "refused"}, {"status", "409"}}),
            1u)
      << log;
  // Refusals: the first is logged, the second held back (suppressed).
  if (unknown_first) {
    EXPECT_EQ(Count(lines, {{"event", "api_auth_failed"}, {"reason", "unknown_token"}, {"path", "/v1/exceptions"}}),
              1u)
        << log;
  } else {
    EXPECT_EQ(Count(lines, {{"event", "api_auth_failed"}, {"reason", "role_too_low"}, {"who", "wall"},
                            {"role", "viewer"}, {"needs", "supervisor"}}),
              1u)
        << log;
  }
  EXPECT_EQ(Count(lines, {{"event", "api_auth_failed"}}), 1u) << "throttled to one line per 10 s:\n" << log;
  EXPECT_EQ(Count(lines, {{"event", "draining"}}), 1u) << log;
  EXPECT_EQ(Count(lines, {{"event", "stopped"}}), 1u) << log;
}

INSTANTIATE_TEST_SUITE_P(Formats, LogLinesTest, ::testing::Values("logfmt", "json"),
                         [](const auto& info) { return info.param; });

TEST_F(DaemonTest, LogFormatFromTheConfigFileAlone) {
  const std::string config = (dir_ / "hubd.toml").string();
  std::ofstream(config) << "log_format = \"json\"\n";
  DaemonProcess hubd(db_, {"--config", config});
  ASSERT_NE(hubd.port(), 0);
  ASSERT_EQ(hubd.Terminate(), 0);
  std::istringstream in(hubd.Log());
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    EXPECT_TRUE(ParseJsonLine(line)) << line;
    ++n;
  }
  EXPECT_GE(n, 3u);
}

}  // namespace
}  // namespace hub::testing
