// fuzz_api: hostile supervisor API requests against the real parts.
//
//   input = METHOD \n TARGET \n AUTHORIZATION \n BODY...
//
// (the body is everything after the third newline and may hold newlines;
// missing lines are empty). Each input goes
//   - through the pure parsers of api/api_parse.h (Query, Unescape,
//     ParseNumber, ParseJson) with their invariants checked, and
//   - as one request through api::ApiRouter, against a RocksDbStore in a
//     temporary directory (TMPDIR), a HubState recovered from it and a
//     running Sequencer, wired as in src/daemon/main.cc. The store starts
//     with a generated hub day (cases, bags, loads, vehicles to look at);
//     one admin token, "admin-token", is configured, so the corpus reaches
//     every authenticated path. Writes the fuzzer makes (acknowledge,
//     resolve, reference data) stay in the store for later inputs.
//
// Invariants checked on every answer: a request without the admin token
// gets 401 and nothing else; no 500 (the store does not fail here); the
// status is one docs/api.md names; the body is one line of JSON (bytes that
// are not UTF-8 aside: see CheckAnswer).
// FUZZ_API_VERBOSE=1 prints each request and the start of its answer, and
// keeps hubd's own log lines (off otherwise).

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "core/hub_state.h"
#include "api/router.h"
#include "api/api_parse.h"
#include "fuzz/fuzz_check.h"
#include "hub/v1/exception.pb.h"
#include "hub/v1/reference.pb.h"
#include "sequencer/sequencer.h"
#include "store/rocksdb_store.h"
#include "testutil/events.h"

namespace {

namespace fs = std::filesystem;
namespace v1 = hub::v1;

constexpr char kToken[] = "admin-token";

// The daemon's parts, wired as main.cc wires them; lives for the process.
struct Daemon {
  fs::path dir;
  std::unique_ptr<hub::store::RocksDbStore> store;
  hub::core::HubState state;
  std::unique_ptr<hub::sequencer::Sequencer> sequencer;
  std::atomic<bool> ready{false};
  std::unique_ptr<hub::api::ApiRouter> api;
};
Daemon* daemon_ = nullptr;

void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_api: setup failed: %s\n", what.c_str());
  std::abort();
}

hub::store::StoreOptions Options(const fs::path& dir) {
  hub::store::StoreOptions o;
  o.path = dir.string();
  return o;
}

// Writes a generated hub day to the store directly (as the sequencer
// would), with a checkpoint half way so recovery also replays a tail.
void WriteDay(const fs::path& dir) {
  std::unique_ptr<hub::store::RocksDbStore> store;
  if (!hub::store::RocksDbStore::Open(Options(dir), &store).ok()) Fail("open " + dir.string());
  hub::core::HubState state;
  hub::core::ApplyResult result;
  hub::store::CommitBatch batch(store.get());
  const auto day = hub::testutil::GenerateDay(/*seed=*/9, /*events=*/3000);
  for (size_t i = 0; i < day.size(); ++i) {
    state.Apply(day[i], &result);
    batch.Add(day[i], &result);
    if (batch.records() >= 256 || i + 1 == day.size())
      if (!store->Commit(&batch).ok()) Fail("commit");
    if (i + 1 == day.size() / 2)
      if (!store->Commit(&batch).ok() || !store->WriteCheckpoint(state.Snapshot()).ok())
        Fail("checkpoint");
  }
}

void StopDaemon() {
  if (daemon_ == nullptr) return;
  daemon_->api.reset();  // finishes its queries first
  daemon_->sequencer->Stop();
  daemon_->sequencer.reset();
  daemon_->store.reset();
  std::error_code ec;
  fs::remove_all(daemon_->dir, ec);
  delete daemon_;
  daemon_ = nullptr;
}

void StartDaemon() {
  std::string templ = (fs::temp_directory_path() / "hubd-fuzz-api-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) Fail("mkdtemp " + templ);
  daemon_ = new Daemon;
  daemon_->dir = templ;
  WriteDay(daemon_->dir);
  if (!hub::store::RocksDbStore::Open(Options(daemon_->dir), &daemon_->store).ok()) Fail("reopen");
  uint64_t replayed = 0;
  if (!daemon_->store->Recover(&daemon_->state, &replayed).ok() || replayed == 0) Fail("recover");
  daemon_->sequencer = std::make_unique<hub::sequencer::Sequencer>(
      &daemon_->state, daemon_->store.get(), hub::sequencer::SequencerOptions{});
  daemon_->sequencer->Start();
  daemon_->ready = true;
  daemon_->api = std::make_unique<hub::api::ApiRouter>(hub::api::ApiSources{
      daemon_->sequencer.get(), daemon_->store.get(), &daemon_->ready,
      {{"fuzz-admin", kToken, hub::api::Role::kAdmin}}, 2, nullptr});
  std::atexit(StopDaemon);
}

// Percent-encodes every byte, so Unescape must give the bytes back.
std::string EscapeAll(std::string_view v) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    out.push_back('%');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool AllDigits(std::string_view v) {
  return !v.empty() && v.find_first_not_of("0123456789") == std::string_view::npos;
}

// Length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms,
// surrogates or values above U+10FFFF) at the start of v; 0 if there is none.
size_t Utf8Length(std::string_view v) {
  const auto c = static_cast<unsigned char>(v[0]);
  size_t n = 0;
  uint32_t cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07;
  else return 0;
  if (n > v.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(v[k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// v with every byte that is not part of well-formed UTF-8 replaced by '?'.
std::string WithoutInvalidUtf8(std::string_view v) {
  std::string out;
  while (!v.empty()) {
    const size_t n = Utf8Length(v);
    out.append(n == 0 ? std::string_view("?") : v.substr(0, n));
    v.remove_prefix(n == 0 ? 1 : n);
  }
  return out;
}

template <typename Message>
void CheckJsonRoundTrip(const std::string& body) {
  Message m;
  std::string error;
  if (!hub::api::ParseJson(body, &m, &error)) {
    FUZZ_CHECK(error.rfind("bad JSON: ", 0) == 0, "a JSON error says so");
    return;
  }
  std::string json;
  FUZZ_CHECK(google::protobuf::util::MessageToJsonString(m, &json).ok(), "parsed JSON prints");
  Message again;
  FUZZ_CHECK(hub::api::ParseJson(json, &again, &error), "printed JSON parses");
  FUZZ_CHECK(again.SerializeAsString() == m.SerializeAsString(), "JSON round-trips");
}

void CheckParsers(const std::string& target, const std::string& body) {
  FUZZ_CHECK(hub::api::Unescape(EscapeAll(target)) == target, "Unescape inverts escaping");
  FUZZ_CHECK(hub::api::Unescape(target, false).size() <= target.size(), "decoding shrinks");
  for (const auto& [key, value] : hub::api::Query(target)) {
    FUZZ_CHECK(key.size() + value.size() <= target.size(), "a pair comes from the target");
    uint64_t u = 0;
    if (hub::api::ParseNumber(value, &u))
      FUZZ_CHECK(AllDigits(value), "an unsigned number is all digits");
    int64_t i = 0;
    if (hub::api::ParseNumber(value, &i)) {
      std::string_view digits(value);
      if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
      FUZZ_CHECK(AllDigits(digits), "a signed number is a '-' and digits");
    }
  }
  CheckJsonRoundTrip<v1::CaseNote>(body);
  CheckJsonRoundTrip<v1::ReferenceBatch>(body);
}

void CheckAnswer(const hub::net::HttpRequest& r, const hub::net::HttpResponse& a) {
  const std::string what = std::to_string(a.status) + " " + a.body;
  if (r.authorization != std::string("Bearer ") + kToken)
    FUZZ_CHECK(a.status == 401, what.c_str());
  FUZZ_CHECK(a.status != 500, what.c_str());
  static const std::set<int> kDocumented = {200, 400, 401, 403, 404, 405, 409, 503};
  FUZZ_CHECK(kDocumented.count(a.status), ("status docs/api.md does not name: " + what).c_str());
  FUZZ_CHECK(a.content_type == "application/json", what.c_str());
  FUZZ_CHECK(!a.body.empty() && a.body.back() == '\n' && a.body.find('\n') == a.body.size() - 1,
             ("one line: " + what).c_str());
  google::protobuf::Value json;
  FUZZ_CHECK(WithoutInvalidUtf8(a.body) == a.body, ("answer is UTF-8: " + what).c_str());
  FUZZ_CHECK(google::protobuf::util::JsonStringToMessage(a.body, &json).ok(),
             ("answer is JSON: " + what).c_str());
}

// Cuts the next line off *rest (the whole rest when there is no newline).
std::string Line(std::string_view* rest) {
  const size_t nl = rest->find('\n');
  std::string line(rest->substr(0, nl));
  rest->remove_prefix(nl == std::string_view::npos ? rest->size() : nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // bad input is the point here
  // The API logs every write and refusal: a line per run would slow the
  // fuzzer down and fill its log.
  if (std::getenv("FUZZ_API_VERBOSE") == nullptr) spdlog::set_level(spdlog::level::off);
  StartDaemon();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  hub::net::HttpRequest r;
  r.method = Line(&rest);
  r.target = Line(&rest);
  r.authorization = Line(&rest);
  r.body = std::string(rest);
  CheckParsers(r.target, r.body);
  // Every /v1/ request reaches the router (main.cc routes on the prefix).
  if (r.target.rfind("/v1/", 0) != 0) return 0;
  std::promise<hub::net::HttpResponse> answered;
  const hub::net::HttpRequest request = r;
  daemon_->api->Handle(std::move(r), hub::net::HttpReply::ToCallback([&answered](hub::net::HttpResponse a) {
                         answered.set_value(std::move(a));
                       }));
  r = request;
  const hub::net::HttpResponse answer = answered.get_future().get();
  // A stream's head (text/event-stream) is not a JSON answer.
  if (answer.content_type.rfind("text/event-stream", 0) == 0) return 0;
  // FUZZ_API_VERBOSE=1: what each input got (to check what a seed reaches).
  static const bool verbose = std::getenv("FUZZ_API_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "%s %s -> %d %.160s\n", r.method.c_str(), r.target.c_str(), answer.status,
                 answer.body.c_str());
  CheckAnswer(r, answer);
  return 0;
}
