// The supervisor API in one process with its real parts (a RocksDB store in
// a temporary directory, the sequencer, the HTTP server on a loopback port):
// the listener's thread is never held by a query or a write, and the case
// stream carries every raised and changed case once, in hub order.

#include "api/router.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>

#include "daemon/ops_endpoints.h"
#include "testutil/events.h"
#include "testutil/http_client.h"

namespace hub::testing {
namespace {

namespace fs = std::filesystem;
using testutil::HttpCall;

constexpr const char* kSupervisor = "sup-token";
constexpr const char* kAdmin = "admin-token";

// A scanner session that ignores its answers.
class NullLink : public sequencer::SessionLink {
 public:
  void Deliver(sequencer::Reply&&) override {}
};

// A raw HTTP client that reads an answer as it arrives (a stream).
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~RawClient() { close(fd_); }
  void Send(const std::string& bytes) { EXPECT_EQ(write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())); }
  // Reads until `needle` is in what was read after the last call's match
  // (or 10 s pass: then false, with what came in *seen).
  bool ReadUntil(const std::string& needle, std::string* seen = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      if (auto at = buf_.find(needle); at != std::string::npos) {
        if (seen != nullptr) *seen = buf_.substr(0, at + needle.size());
        buf_.erase(0, at + needle.size());
        return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char chunk[4096];
      const ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n <= 0) break;
      buf_.append(chunk, static_cast<size_t>(n));
    }
    if (seen != nullptr) *seen = buf_;
    return false;
  }
  bool connected() const { return connected_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hubd-router-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store::StoreOptions o;
    o.path = dir_.string();
    ASSERT_TRUE(store::RocksDbStore::Open(o, &db_).ok());
    uint64_t replayed = 0;
    ASSERT_TRUE(db_->Recover(&state_, &replayed).ok());
    sequencer::SequencerOptions so;
    so.on_cases = [this](std::vector<store::CaseChange>&& c) {
      if (router_) router_->PublishCases(std::move(c));
    };
    seq_ = std::make_unique<sequencer::Sequencer>(&state_, db_.get(), so);
    api::ApiSources src{seq_.get(), db_.get(), &ready_, {{"sup-li", kSupervisor, api::Role::kSupervisor}, {"ops", kAdmin, api::Role::kAdmin}}, 2,
                        [this] {
                          ++held_;
                          gate_.wait();
                        }};
    if (!hold_queries_) src.before_query = nullptr;
    router_ = std::make_unique<api::ApiRouter>(std::move(src));
    ops_ = daemon::OpsSources{seq_.get(), nullptr, &ready_, 0, db_.get(), {}};
    http_ = std::make_unique<net::HttpServer>(
        "127.0.0.1", 0,
        [this](net::HttpRequest r, net::HttpReply reply) {
          if (r.target.rfind("/v1/", 0) == 0) return router_->Handle(std::move(r), std::move(reply));
          reply.Send(daemon::HandleOps(r, ops_));
        },
        net::TlsFiles{}, api::RenderServerError);
    http_->Listen();
    http_->Start();
    seq_->Start();
    ready_ = true;
  }
  void TearDown() override {
    release_.set_value();
    router_->Stop();
    http_->Stop();
    seq_->Stop();
    router_.reset();
    seq_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }
  void Scan(const std::vector<v1::ScanEvent>& events) {
    sequencer::Submission s;
    s.session = link_;
    s.arena = std::make_unique<google::protobuf::Arena>();
    for (const auto& e : events) {
      auto* copy = google::protobuf::Arena::CreateMessage<v1::ScanEvent>(s.arena.get());
      *copy = e;
      s.events.push_back(copy);
    }
    seq_->Submit(std::move(s));
  }
  uint16_t port() const { return http_->port(); }
  std::string Get(const std::string& target) const {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kSupervisor + "\r\n\r\n";
  }

  bool hold_queries_ = false;
  std::promise<void> release_;
  std::shared_future<void> gate_ = release_.get_future().share();
  std::atomic<int> held_{0};
  fs::path dir_;
  std::unique_ptr<store::RocksDbStore> db_;
  core::HubState state_;
  std::unique_ptr<sequencer::Sequencer> seq_;
  std::unique_ptr<api::ApiRouter> router_;
  std::atomic<bool> ready_{false};
  daemon::OpsSources ops_;
  std::unique_ptr<net::HttpServer> http_;
  std::shared_ptr<NullLink> link_ = std::make_shared<NullLink>();
};

class HeldQueriesTest : public RouterTest {
 protected:
  void SetUp() override {
    hold_queries_ = true;
    RouterTest::SetUp();
  }
};

// Both query threads held inside slow queries (and a third query queued
// behind them): the listener still answers health, readiness, metrics,
// who-am-I and a write, each from its own path.
TEST_F(HeldQueriesTest, HealthAndWritesAnswerWhileSlowQueriesAreInProgress) {
  std::vector<std::future<testutil::HttpResult>> slow;
  for (int i = 0; i < 3; ++i)
    slow.push_back(std::async(std::launch::async, [this] {
      return HttpCall(port(), "GET", "/v1/exceptions", "", kSupervisor);
    }));
  for (int i = 0; i < 3000 && held_ < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(held_, 2);
  auto prompt = [this](const std::string& method, const std::string& target, const std::string& body = "") {
    auto f = std::async(std::launch::async, [=, this] { return HttpCall(port(), method, target, body, kSupervisor); });
    // A hang here is the failure: the answer would wait for the held queries.
    EXPECT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready) << target;
    return f.get();
  };
  EXPECT_EQ(prompt("GET", "/healthz").status, 200);
  EXPECT_EQ(prompt("GET", "/readyz").status, 200);
  EXPECT_EQ(prompt("GET", "/v1/hub").status, 200);
  // The scan goes in from this thread, the acknowledgement from the API's:
  // the sequencer's queue keeps order per thread only, so the case must be
  // committed before it is acknowledged.
  const uint64_t before = seq_->committed();
  Scan({testutil::Scanner("DESK-1").ParcelDamaged("P1", 100)});
  for (int i = 0; i < 1000 && seq_->committed() == before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto ack = prompt("POST", "/v1/exceptions/1:acknowledge", R"({"note":"seen"})");
  EXPECT_EQ(ack.status, 200) << ack.body;
  EXPECT_NE(ack.body.find("\"status\":\"ACKNOWLEDGED\""), std::string::npos) << ack.body;
  for (auto& f : slow) EXPECT_EQ(f.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  release_.set_value();
  release_ = std::promise<void>();  // TearDown sets this one
  for (auto& f : slow) EXPECT_EQ(f.get().status, 200);
}

TEST_F(RouterTest, StreamCarriesEachRaisedAndChangedCaseOnceInHubOrder) {
  RawClient all(port()), no_route(port());
  ASSERT_TRUE(all.connected() && no_route.connected());
  all.Send(Get("/v1/exceptions/stream"));
  no_route.Send(Get("/v1/exceptions/stream?type=no_route"));
  std::string head;
  ASSERT_TRUE(all.ReadUntil("event: hello\ndata: {\"hub_seq\":\"0\"}\n\n", &head)) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
  ASSERT_TRUE(no_route.ReadUntil("event: hello"));
  testutil::Scanner desk("DESK-1");
  Scan({desk.ParcelDamaged("P1", 100), desk.ParcelDamaged("P2", 100)});
  std::string seen;
  ASSERT_TRUE(all.ReadUntil("\"parcel_id\":\"P1\"", &seen)) << seen;
  EXPECT_NE(seen.find("event: case\nid: 1\ndata: {\"id\":\"1\",\"type\":\"DAMAGED\",\"status\":\"OPEN\""),
            std::string::npos)
      << seen;
  ASSERT_TRUE(all.ReadUntil("\"parcel_id\":\"P2\"", &seen)) << seen;
  // Both resolved in one bulk action: two changes, in hub order.
  auto r = HttpCall(port(), "POST", "/v1/exceptions:resolve", R"({"ids":["2","1","9"],"note":"ok"})", kSupervisor);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"applied\":2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"({"id":"9","status":404,"error":"no case 9"})"), std::string::npos) << r.body;
  ASSERT_TRUE(all.ReadUntil("\"status\":\"RESOLVED\"", &seen)) << seen;
  EXPECT_NE(seen.find("id: 3\ndata: {\"id\":\"2\""), std::string::npos) << seen;
  ASSERT_TRUE(all.ReadUntil("\"status\":\"RESOLVED\"", &seen)) << seen;
  EXPECT_NE(seen.find("id: 4\ndata: {\"id\":\"1\""), std::string::npos) << seen;
  EXPECT_NE(seen.find("\"resolved\":{\"by\":\"sup-li\""), std::string::npos) << seen;
  // The filtered stream saw none of it; a sort scan with no route reaches it.
  Scan({testutil::Scanner("SORTER-1").ParcelSorted("P3", "D-NOWHERE")});
  ASSERT_TRUE(no_route.ReadUntil("\"type\":\"NO_ROUTE\"", &seen)) << seen;
  EXPECT_EQ(seen.find("DAMAGED"), std::string::npos) << seen;
}

// A dispatch advice through POST /v1/reference (as an upstream system may
// send it): applied once as its vehicle and bag advices, a re-delivery is a
// 409 and changes nothing; routes read back with their next hub.
TEST_F(RouterTest, ADispatchAdviceIsAppliedOnceAndARedeliveryIsAConflict) {
  const std::string advice = R"({"changes":[{"dispatch_advice":{"from_hub":"HUB-A","from_hub_seq":"17",
      "to_hub":"HUB-HERE","load_id":"L-7","departed_ms":"1767225600000",
      "vehicle":{"vehicle_id":"TRUCK-9","seal_id":"S-9","bag_ids":["B1"]},
      "bags":[{"bag_id":"B1","parcel_ids":["P1","P2"],"label_count":2}]}}]})";
  auto r = HttpCall(port(), "POST", "/v1/reference", advice, kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"applied\":1"), std::string::npos) << r.body;
  r = HttpCall(port(), "POST", "/v1/reference", advice, kAdmin);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("0 of 1 changes applied: dispatch advice 17 from hub HUB-A was applied already"),
            std::string::npos)
      << r.body;
  r = HttpCall(port(), "GET", "/v1/advices/bags/B1", "", kSupervisor);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("parcel_ids":["P1","P2"],"label_count":2)"), std::string::npos) << r.body;
  EXPECT_EQ(HttpCall(port(), "GET", "/v1/advices/vehicles/TRUCK-9", "", kSupervisor).status, 200);
  // An invalid one is a 400, before anything is applied.
  r = HttpCall(port(), "POST", "/v1/reference",
               R"({"changes":[{"dispatch_advice":{"from_hub":"HUB A","from_hub_seq":"18","vehicle":{"vehicle_id":"V"}}}]})",
               kAdmin);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("change 0: dispatch_advice.from_hub must be 1..64 of A-Z a-z 0-9 _ -"), std::string::npos)
      << r.body;
  r = HttpCall(port(), "POST", "/v1/reference",
               R"({"changes":[{"upsert_route":{"destination":"D1","route_code":"R1","next_hub":"HUB-B","transit_minutes":90}}]})",
               kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  r = HttpCall(port(), "GET", "/v1/routes", "", kSupervisor);
  EXPECT_NE(r.body.find(R"("next_hub":"HUB-B","transit_minutes":90)"), std::string::npos) << r.body;
}

TEST_F(RouterTest, ServerRefusalsUnderV1AreJsonAndA401CarriesWwwAuthenticate) {
  RawClient big(port());
  big.Send("POST /v1/reference HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
  std::string seen;
  ASSERT_TRUE(big.ReadUntil("}\n", &seen)) << seen;
  EXPECT_NE(seen.find("HTTP/1.1 413"), std::string::npos) << seen;
  EXPECT_NE(seen.find("{\"error\":\"request body larger than 1 MiB\"}"), std::string::npos) << seen;
  RawClient anon(port());
  anon.Send("GET /v1/exceptions HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(anon.ReadUntil("}\n", &seen)) << seen;
  EXPECT_NE(seen.find("HTTP/1.1 401"), std::string::npos) << seen;
  EXPECT_NE(seen.find("WWW-Authenticate: Bearer"), std::string::npos) << seen;
  // Outside /v1/ the server's own answers stay plain text.
  RawClient ops(port());
  ops.Send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
  ASSERT_TRUE(ops.ReadUntil("MiB\n", &seen)) << seen;
  EXPECT_NE(seen.find("text/plain"), std::string::npos) << seen;
}

}  // namespace
}  // namespace hub::testing
