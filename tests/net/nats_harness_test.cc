// The NATS test harness itself (testutil/nats_server.h) against real
// nats-server processes: a standalone JetStream server that keeps its data
// over a restart (SIGTERM or SIGKILL), a stream read back in order, and a
// three-node cluster whose replicas-3 stream survives its leader's node
// being killed.

#include <gtest/gtest.h>

#include <chrono>

#include "feed/feed_names.h"
#include "testutil/nats_server.h"

namespace hub::testing {
namespace {

using testutil::NatsCluster;
using testutil::NatsServer;
using testutil::OutMessage;
using testutil::StreamMessage;

// Feed messages hub_seq from..to of hub `hub` (part 0, a parcel sorted
// each), as the feed publishes them.
std::vector<OutMessage> FeedMessages(const std::string& hub, uint64_t from, uint64_t to) {
  std::vector<OutMessage> out;
  for (uint64_t seq = from; seq <= to; ++seq) {
    v1::FeedMessage m;
    m.set_schema_version(feed::kSchemaVersion);
    m.set_hub_id(hub);
    m.set_hub_seq(seq);
    m.mutable_event()->set_scanner_id("SORTER-1");
    m.mutable_event()->mutable_parcel_sorted()->set_parcel_id("P" + std::to_string(seq));
    out.push_back({feed::SubjectOf(m), feed::MessageId(hub, seq, 0), m.SerializeAsString()});
  }
  return out;
}

// The stream holds exactly hub_seq 1..n of `hub`, in order, stream
// sequences 1..n.
void ExpectFeed(const std::vector<StreamMessage>& got, const std::string& hub, uint64_t n) {
  ASSERT_EQ(got.size(), n);
  for (uint64_t i = 0; i < n; ++i) {
    const auto& sm = got[i];
    EXPECT_EQ(sm.seq, i + 1);
    EXPECT_EQ(sm.subject, "hub." + hub + ".events.parcel_sorted");
    EXPECT_EQ(sm.msg_id, feed::MessageId(hub, i + 1, 0));
    v1::FeedMessage m;
    ASSERT_TRUE(m.ParseFromString(sm.data));
    EXPECT_EQ(m.hub_seq(), i + 1);
    EXPECT_EQ(m.event().parcel_sorted().parcel_id(), "P" + std::to_string(i + 1));
  }
}

TEST(NatsServerTest, StartsAndReadsAStreamBackInOrder) {
  NatsServer nats;
  ASSERT_TRUE(nats.running()) << nats.Log();
  EXPECT_EQ(nats.url(), "nats://127.0.0.1:" + std::to_string(nats.port()));
  std::string error;
  ASSERT_TRUE(testutil::CreateStream(nats.url(), feed::HubStream("SH1"), {feed::HubSubjects("SH1")},
                                     1, &error))
      << error;
  std::vector<StreamMessage> got;
  ASSERT_TRUE(testutil::ReadStream(nats.url(), "HUB_SH1", &got, &error)) << error;
  EXPECT_TRUE(got.empty());
  ASSERT_TRUE(testutil::PublishAll(nats.url(), FeedMessages("SH1", 1, 200), &error)) << error;
  // Published again: the stream's duplicate window keeps them once.
  ASSERT_TRUE(testutil::PublishAll(nats.url(), FeedMessages("SH1", 150, 200), &error)) << error;
  ASSERT_TRUE(testutil::ReadStream(nats.url(), "HUB_SH1", &got, &error)) << error;
  ExpectFeed(got, "SH1", 200);

  EXPECT_FALSE(testutil::ReadStream(nats.url(), "HUB_NOPE", &got, &error));
  EXPECT_NE(error.find("HUB_NOPE"), std::string::npos) << error;

  // A stream of two subjects: read a message at a time, in order too.
  ASSERT_TRUE(testutil::CreateStream(nats.url(), "TWO", {"a.>", "b.*"}, 1, &error)) << error;
  ASSERT_TRUE(testutil::PublishAll(
      nats.url(), {{"b.x", "1", "one"}, {"a.y.z", "", "two"}, {"b.x", "3", "three"}}, &error))
      << error;
  ASSERT_TRUE(testutil::ReadStream(nats.url(), "TWO", &got, &error)) << error;
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].subject, "a.y.z");
  EXPECT_EQ(got[1].seq, 2u);
  EXPECT_EQ(got[1].msg_id, "");
  EXPECT_EQ(got[2].msg_id, "3");
  EXPECT_EQ(got[2].data, "three");
}

TEST(NatsServerTest, RestartOnTheSamePortKeepsTheStream) {
  NatsServer nats("restart");
  ASSERT_TRUE(nats.running()) << nats.Log();
  const std::string url = nats.url();
  std::string error;
  ASSERT_TRUE(testutil::CreateStream(url, "HUB_SH1", {"hub.SH1.>"}, 1, &error)) << error;
  ASSERT_TRUE(testutil::PublishAll(url, FeedMessages("SH1", 1, 100), &error)) << error;

  EXPECT_NE(nats.Stop(), -1) << nats.Log();  // exited by itself (nats-server: status 1)
  EXPECT_FALSE(nats.running());
  std::vector<StreamMessage> got;
  EXPECT_FALSE(testutil::ReadStream(url, "HUB_SH1", &got, &error));
  ASSERT_TRUE(nats.Start()) << nats.Log();
  EXPECT_EQ(nats.url(), url);
  ASSERT_TRUE(testutil::ReadStream(url, "HUB_SH1", &got, &error)) << error;
  ExpectFeed(got, "SH1", 100);

  // Killed, acknowledged messages are still there.
  ASSERT_TRUE(testutil::PublishAll(url, FeedMessages("SH1", 101, 150), &error)) << error;
  nats.Kill();
  ASSERT_TRUE(nats.Start()) << nats.Log();
  ASSERT_TRUE(testutil::ReadStream(url, "HUB_SH1", &got, &error)) << error;
  ExpectFeed(got, "SH1", 150);
  EXPECT_NE(nats.Log().find("Server is ready"), std::string::npos);
}

// Through the ordered consumer (more than 1,000 messages).
TEST(NatsServerTest, ReadsTwentyThousandMessagesInAFewSeconds) {
  NatsServer nats("large");
  ASSERT_TRUE(nats.running()) << nats.Log();
  std::string error;
  ASSERT_TRUE(testutil::CreateStream(nats.url(), "HUB_SH1", {"hub.SH1.>"}, 1, &error)) << error;
  ASSERT_TRUE(testutil::PublishAll(nats.url(), FeedMessages("SH1", 1, 20000), &error)) << error;
  const auto start = std::chrono::steady_clock::now();
  std::vector<StreamMessage> got;
  ASSERT_TRUE(testutil::ReadStream(nats.url(), "HUB_SH1", &got, &error)) << error;
  const auto took = std::chrono::steady_clock::now() - start;
  ExpectFeed(got, "SH1", 20000);
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(NatsClusterTest, ReplicasThreeStreamSurvivesItsLeaderKilled) {
  NatsCluster cluster;
  ASSERT_EQ(cluster.size(), 3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cluster.node(i).running()) << cluster.Logs();
  EXPECT_EQ(cluster.url_list(),
            cluster.urls()[0] + "," + cluster.urls()[1] + "," + cluster.urls()[2]);
  const std::string urls = cluster.url_list();
  std::string error, leader;
  ASSERT_TRUE(testutil::CreateStream(urls, "HUB_SH1", {"hub.SH1.>"}, 3, &error)) << error;
  ASSERT_TRUE(testutil::WaitStream(urls, "HUB_SH1", &leader, &error)) << error;
  ASSERT_TRUE(testutil::PublishAll(urls, FeedMessages("SH1", 1, 100), &error)) << error;
  auto index = [&](const std::string& name) {
    for (int i = 0; i < 3; ++i)
      if (cluster.node(i).name() == name) return i;
    return -1;
  };

  // Kill the node that leads the stream: another takes over (an election
  // of some seconds).
  const int killed = index(leader);
  ASSERT_NE(killed, -1) << "leader " << leader;
  cluster.node(killed).Kill();
  ASSERT_TRUE(testutil::WaitStream(urls, "HUB_SH1", &leader, &error)) << error << cluster.Logs();
  ASSERT_NE(index(leader), killed);
  ASSERT_NE(index(leader), -1) << leader;
  ASSERT_TRUE(testutil::PublishAll(urls, FeedMessages("SH1", 101, 200), &error))
      << error << cluster.Logs();
  std::vector<StreamMessage> got;
  ASSERT_TRUE(testutil::ReadStream(urls, "HUB_SH1", &got, &error)) << error << cluster.Logs();
  ExpectFeed(got, "SH1", 200);

  // Back on its ports and store, the node rejoins: with the third node
  // killed, the leader's quorum needs that node, so a publish acknowledged
  // now is one it stored.
  ASSERT_TRUE(cluster.node(killed).Start()) << cluster.node(killed).Log();
  ASSERT_TRUE(cluster.WaitReady());
  const int third = 3 - killed - index(leader);
  cluster.node(third).Kill();
  ASSERT_TRUE(testutil::PublishAll(urls, FeedMessages("SH1", 201, 250), &error))
      << error << cluster.Logs();
  ASSERT_TRUE(testutil::ReadStream(cluster.node(killed).url(), "HUB_SH1", &got, &error))
      << error << cluster.Logs();
  ExpectFeed(got, "SH1", 250);
}

}  // namespace
}  // namespace hub::testing
