// hubctl feed tail against a real nats-server (testutil/nats_server.h): the
// test publishes a hub's feed and dispatch advices itself, as hubd's feed
// does (subjects and Nats-Msg-Id of feed/feed_names.h), and runs the real
// hubctl binary: the JSON lines, the kinds, --from-seq, --no-follow ending,
// following until SIGTERM or SIGINT, and the error exits.

#include "tools/feed_tail.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "feed/feed_names.h"
#include "testutil/nats_server.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

using Json = nlohmann::json;
using testutil::OutMessage;

// --- the pure parts -----------------------------------------------------------

TEST(FeedTailSelectTest, KindsMapToStreamsAndSubjects) {
  std::string error;
  auto s = tools::SelectFeed("SH1", "", "", &error);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->stream, "HUB_SH1");
  EXPECT_EQ(s->subject, "hub.SH1.>");
  EXPECT_FALSE(s->dispatch);
  EXPECT_EQ(tools::SelectFeed("SH1", "events", "", &error)->subject, "hub.SH1.events.>");
  EXPECT_EQ(tools::SelectFeed("SH1", "events.parcel_sorted", "", &error)->subject,
            "hub.SH1.events.parcel_sorted");
  EXPECT_EQ(tools::SelectFeed("SH1", "cases", "", &error)->subject, "hub.SH1.cases");
  EXPECT_EQ(tools::SelectFeed("SH1", "reference", "", &error)->subject, "hub.SH1.reference");
  EXPECT_EQ(tools::SelectFeed("SH1", "retention", "", &error)->subject, "hub.SH1.retention");
  s = tools::SelectFeed("SH1", "dispatch", "", &error);
  EXPECT_EQ(s->stream, "DISPATCH");
  EXPECT_EQ(s->subject, "dispatch.SH1");
  EXPECT_TRUE(s->dispatch);
  EXPECT_EQ(tools::SelectFeed("SH1", "cases", "FEED_SH1", &error)->stream, "FEED_SH1");

  EXPECT_FALSE(tools::SelectFeed("SH1", "case", "", &error));
  EXPECT_NE(error.find("events, events.<kind>, cases, reference, retention, dispatch"),
            std::string::npos)
      << error;
  EXPECT_FALSE(tools::SelectFeed("SH1", "events.parcel", "", &error));
  EXPECT_NE(error.find("parcel_sorted"), std::string::npos) << error;
  EXPECT_FALSE(tools::SelectFeed("SH1", "events.", "", &error));
  EXPECT_FALSE(tools::SelectFeed("SH1", "events.>", "", &error));
  // A field of ScanEvent that is not an event kind.
  EXPECT_FALSE(tools::SelectFeed("SH1", "events.scanner_id", "", &error));
}

TEST(FeedTailSelectTest, ServersSplitOnCommas) {
  EXPECT_EQ(tools::SplitServers("nats://a:1, nats://b:2,,nats://c:3 "),
            (std::vector<std::string>{"nats://a:1", "nats://b:2", "nats://c:3"}));
  EXPECT_TRUE(tools::SplitServers(" , ").empty());
}

TEST(FeedTailSelectTest, JsonLineHasSubjectAndIdFirstThenTheMessage) {
  v1::FeedMessage m;
  m.set_schema_version(1);
  m.set_hub_id("SH1");
  m.set_hub_seq(12);
  m.set_part(1);
  m.mutable_case_raised()->set_id(3);
  std::string line;
  ASSERT_TRUE(
      tools::FeedJsonLine(false, "hub.SH1.cases", "SH1.12.1", m.SerializeAsString(), &line));
  EXPECT_EQ(line.rfind(R"({"subject":"hub.SH1.cases","msg_id":"SH1.12.1",)", 0), 0u) << line;
  const Json j = Json::parse(line);
  EXPECT_EQ(j["hub_seq"], "12");
  EXPECT_EQ(j["part"], 1);
  EXPECT_EQ(j["case_raised"]["id"], "3");
  // An empty message, an odd id, bytes that are not a message.
  ASSERT_TRUE(tools::FeedJsonLine(false, "hub.SH1.x", "a\"b", "", &line));
  EXPECT_EQ(line, R"({"subject":"hub.SH1.x","msg_id":"a\"b"})");
  EXPECT_FALSE(tools::FeedJsonLine(false, "hub.SH1.x", "", "\xff\xff\xff", &line));
  v1::DispatchAdvice a;
  a.set_from_hub("SH1");
  a.set_from_hub_seq(7);
  ASSERT_TRUE(tools::FeedJsonLine(true, "dispatch.SH2", "SH1.7", a.SerializeAsString(), &line));
  EXPECT_EQ(Json::parse(line)["from_hub_seq"], "7");
}

// --- against nats-server ------------------------------------------------------

OutMessage Out(const v1::FeedMessage& m) {
  return {feed::SubjectOf(m), feed::MessageId(m.hub_id(), m.hub_seq(), m.part()),
          m.SerializeAsString()};
}

v1::FeedMessage Message(const std::string& hub, uint64_t hub_seq, uint32_t part = 0) {
  v1::FeedMessage m;
  m.set_schema_version(feed::kSchemaVersion);
  m.set_hub_id(hub);
  m.set_hub_seq(hub_seq);
  m.set_part(part);
  return m;
}

v1::FeedMessage Sorted(const std::string& hub, uint64_t hub_seq, const std::string& parcel) {
  auto m = Message(hub, hub_seq);
  m.mutable_event()->set_scanner_id("SORTER-1");
  m.mutable_event()->mutable_parcel_sorted()->set_parcel_id(parcel);
  m.mutable_decision()->set_parcel_id(parcel);
  m.mutable_decision()->set_chute("C7");
  return m;
}

OutMessage Advice(const std::string& from, uint64_t from_seq, const std::string& to,
                  const std::string& load) {
  v1::DispatchAdvice a;
  a.set_from_hub(from);
  a.set_from_hub_seq(from_seq);
  a.set_to_hub(to);
  a.set_load_id(load);
  a.mutable_vehicle()->set_vehicle_id("V-" + load);
  return {feed::DispatchSubject(to), feed::DispatchMessageId(from, from_seq),
          a.SerializeAsString()};
}

// hubctl feed tail started in the background, stdout and stderr in one
// file, for following.
// hubctl feed tail in the background.
class BackgroundTail : public testutil::BackgroundCommand {
 public:
  BackgroundTail(const std::vector<std::string>& args, std::string out)
      : BackgroundCommand(WithBinary(args), std::move(out)) {}

 private:
  static std::vector<std::string> WithBinary(const std::vector<std::string>& args) {
    std::vector<std::string> all = {HUBCTL_PATH, "feed", "tail"};
    all.insert(all.end(), args.begin(), args.end());
    return all;
  }
};

class FeedTailTest : public ::testing::Test {
 protected:
  // Hub SH1's feed: seq 1 a sort, 2 a bag closed that raised case 1 (part
  // 1), 3 a hold, 4 case 1 acknowledged, 5 a retention, 6 a load departed
  // for SH2. DISPATCH: advices to SH2 from SH3 (3) and SH1 (6), one to SH4.
  void SetUp() override {
    ASSERT_TRUE(nats_.running());
    std::string error;
    ASSERT_TRUE(testutil::CreateStream(url(), "HUB_SH1", {"hub.SH1.>"}, 1, &error)) << error;
    ASSERT_TRUE(testutil::CreateStream(url(), "DISPATCH", {"dispatch.>"}, 1, &error)) << error;
    std::vector<OutMessage> feed;
    feed.push_back(Out(Sorted("SH1", 1, "P1")));
    auto closed = Message("SH1", 2);
    closed.mutable_event()->mutable_bag_closed()->set_bag_id("B1");
    feed.push_back(Out(closed));
    auto raised = Message("SH1", 2, 1);
    raised.mutable_case_raised()->set_id(1);
    raised.mutable_case_raised()->set_type(v1::BAG_SHORT);
    raised.mutable_case_raised()->set_bag_id("B1");
    feed.push_back(Out(raised));
    auto hold = Message("SH1", 3);
    hold.mutable_reference()->mutable_add_hold()->set_parcel_id("P9");
    hold.mutable_origin()->set_who("sup-li");
    feed.push_back(Out(hold));
    auto ack = Message("SH1", 4);
    ack.mutable_case_action()->set_case_id(1);
    ack.mutable_case_action()->set_to(v1::ACKNOWLEDGED);
    feed.push_back(Out(ack));
    auto retention = Message("SH1", 5);
    retention.mutable_retention()->set_through_hub_seq(1);
    feed.push_back(Out(retention));
    auto departed = Message("SH1", 6);
    departed.mutable_event()->mutable_load_departed()->set_load_id("L-SH2");
    departed.mutable_dispatch()->set_to_hub("SH2");
    feed.push_back(Out(departed));
    ASSERT_TRUE(testutil::PublishAll(url(), feed, &error)) << error;
    ASSERT_TRUE(
        testutil::PublishAll(url(),
                             {Advice("SH3", 3, "SH2", "L-A"), Advice("SH1", 6, "SH2", "L-SH2"),
                              Advice("SH1", 7, "SH4", "L-SH4")},
                             &error))
        << error;
  }

  std::string url() const { return nats_.url(); }

  testutil::CommandResult Tail(const std::string& args) {
    return testutil::RunCommand(std::string(HUBCTL_PATH) + " feed tail --nats " + url() + " " +
                                args);
  }

  // The output's lines as JSON; a test failure for one that is not.
  static std::vector<Json> Lines(const std::string& out) {
    std::vector<Json> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      Json j = Json::parse(line, nullptr, false);
      if (j.is_discarded())
        ADD_FAILURE() << "not JSON: " << line;
      else
        lines.push_back(std::move(j));
    }
    return lines;
  }
  static std::vector<std::string> Ids(const std::vector<Json>& lines) {
    std::vector<std::string> ids;
    for (const auto& j : lines) ids.push_back(j.value("msg_id", ""));
    return ids;
  }

  testutil::NatsServer nats_{"feed-tail"};
};

TEST_F(FeedTailTest, NoFollowPrintsTheWholeFeedInOrderAndEnds) {
  const auto r = Tail("--hub SH1 --no-follow");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto lines = Lines(r.out);
  EXPECT_EQ(Ids(lines), (std::vector<std::string>{"SH1.1.0", "SH1.2.0", "SH1.2.1", "SH1.3.0",
                                                  "SH1.4.0", "SH1.5.0", "SH1.6.0"}));
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0]["subject"], "hub.SH1.events.parcel_sorted");
  EXPECT_EQ(lines[0]["schema_version"], 1);
  EXPECT_EQ(lines[0]["hub_id"], "SH1");
  EXPECT_EQ(lines[0]["hub_seq"], "1");
  EXPECT_EQ(lines[0]["event"]["parcel_sorted"]["parcel_id"], "P1");
  EXPECT_EQ(lines[0]["decision"]["chute"], "C7");
  EXPECT_EQ(lines[2]["subject"], "hub.SH1.cases");
  EXPECT_EQ(lines[2]["part"], 1);
  EXPECT_EQ(lines[2]["case_raised"]["type"], "BAG_SHORT");
  EXPECT_EQ(lines[3]["subject"], "hub.SH1.reference");
  EXPECT_EQ(lines[3]["reference"]["add_hold"]["parcel_id"], "P9");
  EXPECT_EQ(lines[3]["origin"]["who"], "sup-li");
  EXPECT_EQ(lines[4]["case_action"]["to"], "ACKNOWLEDGED");
  EXPECT_EQ(lines[5]["subject"], "hub.SH1.retention");
  EXPECT_EQ(lines[6]["dispatch"]["to_hub"], "SH2");
}

TEST_F(FeedTailTest, KindSelectsSubjects) {
  const std::map<std::string, std::vector<std::string>> want = {
      {"events", {"SH1.1.0", "SH1.2.0", "SH1.6.0"}},
      {"events.parcel_sorted", {"SH1.1.0"}},
      {"events.load_departed", {"SH1.6.0"}},
      {"events.vehicle_arrived", {}},
      {"cases", {"SH1.2.1", "SH1.4.0"}},
      {"reference", {"SH1.3.0"}},
      {"retention", {"SH1.5.0"}},
  };
  for (const auto& [kind, ids] : want) {
    const auto r = Tail("--hub SH1 --no-follow --kind " + kind);
    ASSERT_EQ(r.code, 0) << kind << "\n" << r.out;
    EXPECT_EQ(Ids(Lines(r.out)), ids) << kind;
  }
}

TEST_F(FeedTailTest, FromSeqStartsAtThatHubSeq) {
  auto r = Tail("--hub SH1 --no-follow --from-seq 2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(Ids(Lines(r.out)), (std::vector<std::string>{"SH1.2.0", "SH1.2.1", "SH1.3.0", "SH1.4.0",
                                                         "SH1.5.0", "SH1.6.0"}));
  r = Tail("--hub SH1 --no-follow --from-seq 4 --kind cases");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(Ids(Lines(r.out)), (std::vector<std::string>{"SH1.4.0"}));
  r = Tail("--hub SH1 --no-follow --from-seq 6");
  EXPECT_EQ(Ids(Lines(r.out)), (std::vector<std::string>{"SH1.6.0"}));
  r = Tail("--hub SH1 --no-follow --from-seq 7");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "");
}

TEST_F(FeedTailTest, FromSeqFindsItsStartInALongStream) {
  std::vector<OutMessage> more;
  for (uint64_t seq = 7; seq <= 5000; ++seq)
    more.push_back(Out(Sorted("SH1", seq, "Q" + std::to_string(seq))));
  std::string error;
  ASSERT_TRUE(testutil::PublishAll(url(), more, &error)) << error;
  for (uint64_t from : {1u, 7u, 2500u, 4999u, 5000u}) {
    const auto r = Tail("--hub SH1 --no-follow --kind events.parcel_sorted --from-seq " +
                        std::to_string(from));
    ASSERT_EQ(r.code, 0) << r.out;
    const auto lines = Lines(r.out);
    const uint64_t first = from == 1 ? 1 : from;
    ASSERT_EQ(lines.size(), 5000 - first + 1 - (from == 1 ? 5 : 0)) << from;  // 2..6 are not sorts
    EXPECT_EQ(lines.front()["hub_seq"], std::to_string(first)) << from;
    EXPECT_EQ(lines.back()["msg_id"], "SH1.5000.0");
  }
}

TEST_F(FeedTailTest, DispatchPrintsTheAdvicesToTheHub) {
  auto r = Tail("--hub SH2 --kind dispatch --no-follow");
  ASSERT_EQ(r.code, 0) << r.out;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0]["subject"], "dispatch.SH2");
  EXPECT_EQ(lines[0]["msg_id"], "SH3.3");
  EXPECT_EQ(lines[0]["from_hub"], "SH3");
  EXPECT_EQ(lines[1]["msg_id"], "SH1.6");
  EXPECT_EQ(lines[1]["load_id"], "L-SH2");
  EXPECT_EQ(lines[1]["vehicle"]["vehicle_id"], "V-L-SH2");
  // --from-seq filters on from_hub_seq.
  r = Tail("--hub SH2 --kind dispatch --no-follow --from-seq 5");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(Ids(Lines(r.out)), (std::vector<std::string>{"SH1.6"}));
  r = Tail("--hub SH5 --kind dispatch --no-follow");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "");
}

TEST_F(FeedTailTest, BadUsageExitsTwo) {
  auto r = Tail("--hub SH1 --kind parcels --no-follow");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("hubctl: unknown --kind 'parcels' (one of: events, events.<kind>, cases, "
                       "reference, retention, dispatch)"),
            std::string::npos)
      << r.out;
  r = Tail("--hub SH1 --kind events.parcel --no-follow");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("parcel_sorted"), std::string::npos) << r.out;
  r = Tail("--hub 'SH 1' --no-follow");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("is not a hub id"), std::string::npos) << r.out;
  r = Tail("--no-follow");  // --hub is required
  EXPECT_EQ(r.code, 2) << r.out;
  r = Tail("--hub SH1 --creds /nonexistent/creds");
  EXPECT_EQ(r.code, 2) << r.out;
}

TEST_F(FeedTailTest, MissingStreamExitsOneUnreachableNatsThree) {
  auto r = Tail("--hub SH9 --no-follow");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out, "hubctl: no stream HUB_SH9 on NATS at " + url() + "\n");
  r = Tail("--hub SH1 --stream NOPE --no-follow");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("no stream NOPE"), std::string::npos) << r.out;

  const std::string nowhere = "nats://127.0.0.1:" + std::to_string(testutil::FreePort());
  r = testutil::RunCommand(std::string(HUBCTL_PATH) + " feed tail --no-follow --hub SH1 --nats " +
                           nowhere);
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_EQ(r.out.rfind("hubctl: cannot reach NATS at " + nowhere + ": ", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST_F(FeedTailTest, FollowPrintsNewMessagesUntilSignalled) {
  for (int sig : {SIGTERM, SIGINT}) {
    const std::string out = ::testing::TempDir() + "feed-tail-follow-" + std::to_string(::getpid());
    BackgroundTail tail({"--nats", url(), "--hub", "SH1", "--kind", "events"}, out);
    ASSERT_TRUE(tail.WaitFor("\"SH1.6.0\"")) << tail.Output();
    const uint64_t seq = sig == SIGTERM ? 7 : 8;
    std::string error;
    ASSERT_TRUE(testutil::PublishAll(url(), {Out(Sorted("SH1", seq, "P-new"))}, &error)) << error;
    const std::string id = "SH1." + std::to_string(seq) + ".0";
    ASSERT_TRUE(tail.WaitFor("\"" + id + "\"")) << tail.Output();
    EXPECT_EQ(tail.Stop(sig), 0) << tail.Output();
    const auto lines = Lines(tail.Output());
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back()["msg_id"], id);
    EXPECT_EQ(lines.back()["event"]["parcel_sorted"]["parcel_id"], "P-new");
  }
}

TEST_F(FeedTailTest, FollowFromAnEmptyStreamAndAfterTheEnd) {
  std::string error;
  ASSERT_TRUE(testutil::CreateStream(url(), "HUB_SH7", {"hub.SH7.>"}, 1, &error)) << error;
  const std::string out = ::testing::TempDir() + "feed-tail-empty-" + std::to_string(::getpid());
  BackgroundTail tail({"--nats", url(), "--hub", "SH7", "--from-seq", "3"}, out);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(testutil::PublishAll(
      url(), {Out(Sorted("SH7", 2, "P2")), Out(Sorted("SH7", 3, "P3"))}, &error))
      << error;
  ASSERT_TRUE(tail.WaitFor("\"SH7.3.0\"")) << tail.Output();
  EXPECT_EQ(tail.Stop(SIGTERM), 0) << tail.Output();
  EXPECT_EQ(Ids(Lines(tail.Output())), (std::vector<std::string>{"SH7.3.0"}));
}

}  // namespace
}  // namespace hub::testing
