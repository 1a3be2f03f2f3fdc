// Devices that speak vendor telegrams, against a real hubd: the shipped
// profiles in deploy/devices, reads becoming events through the same
// sequencer path as protobuf sessions, answers in the device's format, and
// the cases the reads must raise (SPEC §4, §7; docs/devices.md).

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "hub/v1/exception.pb.h"
#include "hub/v1/views.pb.h"
#include "net/api_fixture.h"
#include "testutil/events.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testing {
namespace {

namespace asio = boost::asio;
using testutil::HttpCall;
using testutil::kLenientJson;

// A device on a plain TCP connection: writes bytes, reads answers.
class Device {
 public:
  explicit Device(uint16_t port, const std::string& source = "") : socket_(io_) {
    const asio::ip::tcp::endpoint to(asio::ip::make_address("127.0.0.1"), port);
    socket_.open(to.protocol());
    if (!source.empty()) socket_.bind({asio::ip::make_address(source), 0});
    socket_.connect(to);
  }
  void Send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // Reads until `want` bytes arrived, the peer closed or `timeout_ms` passed.
  std::string Read(size_t want, int timeout_ms = 10000) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    socket_.non_blocking(true);
    char buf[4096];
    while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
      boost::system::error_code ec;
      const size_t n = socket_.read_some(asio::buffer(buf), ec);
      if (ec == asio::error::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
      if (ec) break;
      got.append(buf, n);
    }
    return got;
  }
  // True when hubd closes the connection within `timeout_ms`.
  bool Closed(int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    socket_.non_blocking(true);
    char buf[256];
    while (std::chrono::steady_clock::now() < deadline) {
      boost::system::error_code ec;
      socket_.read_some(asio::buffer(buf), ec);
      if (ec == asio::error::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      if (ec) return true;
    }
    return false;
  }
  void Close() {
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
};

// One [[device]] block.
std::string DeviceToml(const std::string& scanner, uint16_t port, const std::string& profile,
                       const std::string& more = "") {
  return "[[device]]\nscanner_id = \"" + scanner + "\"\nstation = \"SORTER-A\"\nlisten = \"127.0.0.1:" +
         std::to_string(port) + "\"\nprofile = \"" + profile + "\"\n" + more;
}

std::string DeviceDir() {
  return std::string("device_dir = \"") + HUBD_SOURCE_DIR + "/deploy/devices\"\n";
}

std::vector<v1::ExceptionCase> Cases(uint16_t http, const std::string& type) {
  auto r = HttpCall(http, "GET", "/v1/exceptions?limit=1000&type=" + type, "", kViewer);
  EXPECT_EQ(r.status, 200) << r.body;
  v1::ExceptionPage page;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &page, kLenientJson).ok()) << r.body;
  return {page.exceptions().begin(), page.exceptions().end()};
}

// The value of one series in /metrics ("name{labels}"), or -1.
double Metric(uint16_t http, const std::string& series) {
  const std::string body = HttpCall(http, "GET", "/metrics").body;
  const size_t at = body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(body.substr(at + series.size() + 2));
}

std::vector<std::string> Codes(const v1::ExceptionCase& c) {
  return {c.read_codes().begin(), c.read_codes().end()};
}

// A protobuf scanner whose clock reads about now, like the telegram
// devices' (hubd stamps their reads): a scanner months behind would have its
// entities forgotten (forget_after_days) as soon as a device's read moves
// hub time on.
testutil::Scanner Today(const std::string& id) {
  testutil::Scanner s(id);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  s.Wait(now - 60'000 - s.ParcelSorted("", "").event_time_ms());
  s.Rewind(0);
  return s;
}

using TelegramTest = ApiTest;

const std::string kStx = "\x02";

// A Datalogic-style tunnel at the sorter: every read answered in order in
// the device's format, routed or diverted, and the cases each read raises.
TEST_F(TelegramTest, SortReadsAreAnsweredInTheDeviceFormatAndRaiseTheirCases) {
  Seed({testutil::RouteRef("D-SH", "R-SH", "C7", "L-SH")});
  const uint16_t port = testutil::FreePort();
  auto hubd = Start(DeviceDir() + DeviceToml("TUNNEL-1", port, "datalogic-multi",
                                             "validate_s10 = true\n"
                                             "parcel_patterns = [\"^P[0-9]+$\"]\n"
                                             "destination_pattern = \"^D-[A-Z]+$\"\n"));
  ASSERT_NE(hubd->port(), 0);
  EXPECT_NE(hubd->Log().find("event=device_listening scanner=TUNNEL-1"), std::string::npos) << hubd->Log();
  Device d(port);
  d.Send(kStx + "1,P1,D-SH\r\n");                 // a parcel and its routing label: routed
  d.Send(kStx + "2,NOREAD\r\n");                  // no read
  d.Send(kStx + "3,P2,P3,D-SH\r\n");              // two parcel labels: ambiguous
  d.Send(kStx + "4,RR473124829GB,D-SH\r\n");      // a valid S10 id outranks the patterns
  d.Send(kStx + "5,RR473124828GB,D-SH\r\n");      // its check digit is wrong: never routed
  d.Send(kStx + "6,MULTI\r\n");                   // the device's own multiple-read string
  d.Send("line noise");                           // outside any telegram: dropped
  d.Send(kStx + "7,P\x01" "7,D-SH\r\n");          // a control character in a code: malformed
  for (char ch : kStx + "8,P8,D-SH\r\n") d.Send(std::string(1, ch));  // split at every byte
  const std::string want =
      "1,C7,\r\n2,0,NO_READ\r\n3,0,NO_READ\r\n4,C7,\r\n5,0,NO_READ\r\n6,0,NO_READ\r\n8,C7,\r\n";
  EXPECT_EQ(d.Read(want.size()), want);

  const auto ambiguous = Cases(hubd->http_port(), "AMBIGUOUS_READ");
  ASSERT_EQ(ambiguous.size(), 2u);
  EXPECT_EQ(Codes(ambiguous[0]), (std::vector<std::string>{"P2", "P3", "D-SH"}));
  EXPECT_EQ(Codes(ambiguous[1]), (std::vector<std::string>{"MULTI"}));
  EXPECT_EQ(ambiguous[0].scanner_id(), "TUNNEL-1");
  EXPECT_EQ(ambiguous[0].station(), "SORTER-A");
  const auto no_read = Cases(hubd->http_port(), "NO_READ");
  ASSERT_EQ(no_read.size(), 2u);
  EXPECT_TRUE(Codes(no_read[0]).empty());
  EXPECT_EQ(Codes(no_read[1]), (std::vector<std::string>{"RR473124828GB", "D-SH"}));
  EXPECT_NE(no_read[1].detail().find("RR473124828GB"), std::string::npos) << no_read[1].detail();
  EXPECT_TRUE(Cases(hubd->http_port(), "NO_ROUTE").empty());

  auto trace = HttpCall(hubd->http_port(), "GET", "/v1/parcels/RR473124829GB", "", kViewer);
  EXPECT_EQ(trace.status, 200);
  EXPECT_NE(trace.body.find("TUNNEL-1"), std::string::npos) << trace.body;
  EXPECT_NE(trace.body.find("\"C7\""), std::string::npos) << trace.body;

  const uint16_t http = hubd->http_port();
  EXPECT_EQ(Metric(http, "hubd_telegram_reads_total{scanner=\"TUNNEL-1\"}"), 7);
  EXPECT_EQ(Metric(http, "hubd_telegram_malformed_total{scanner=\"TUNNEL-1\"}"), 1);
  EXPECT_EQ(Metric(http, "hubd_telegram_replies_total{scanner=\"TUNNEL-1\"}"), 7);
  EXPECT_EQ(Metric(http, "hubd_telegram_noise_bytes_total{scanner=\"TUNNEL-1\"}"), 10);
  d.Close();
  EXPECT_EQ(hubd->Terminate(), 0);
  const auto logged = LoggedEvents();
  std::map<uint64_t, int> seqs;
  for (uint64_t s = 1; s <= 7; ++s) seqs[s] = 1;
  EXPECT_EQ(logged.at("TUNNEL-1"), seqs);  // one event a read, numbered by hubd
}

// A SICK-style DWS unit before the sorter: weights known from the bag
// advice; only a reading outside the tolerance (50 g / 5 %) raises
// WEIGHT_MISMATCH, and a reading flagged as a scale error never does.
TEST_F(TelegramTest, DwsReadingsRaiseWeightMismatchOnlyOutsideTheTolerance) {
  v1::ReferenceChange advice = testutil::BagAdviceRef("B1", {"P1", "P2", "P3"});
  for (const char* p : {"P1", "P2", "P3"}) {
    auto* w = advice.mutable_bag_advice()->add_parcel_weights();
    w->set_parcel_id(p);
    w->set_weight_g(1000);
  }
  Seed({testutil::RouteRef("D-SH", "R-SH", "C7", "L-SH"), advice});
  const uint16_t port = testutil::FreePort();
  auto hubd = Start(DeviceDir() + DeviceToml("DWS-1", port, "sick-dws",
                                             "destination_pattern = \"^D-[A-Z]+$\"\n"));
  ASSERT_NE(hubd->port(), 0);
  {
    testutil::ScanClient table(hubd->port());
    ASSERT_EQ(table.Hello("TABLE-1"), 0);
    testutil::Scanner s = Today("TABLE-1");
    table.SendAll({s.BagOpened("B1"), s.ParcelUnbagged("P1", "B1"), s.ParcelUnbagged("P2", "B1"),
                   s.ParcelUnbagged("P3", "B1")});
    ASSERT_EQ(table.WaitForAck(4), 4u);
  }
  Device d(port);
  // object;code;weight;unit;scale error;L;W;H;unit;status;volume
  d.Send(kStx + "101;P1,D-SH;1.030;kg;0;300;200;100;mm;OK;6000\x03");  // within 50 g
  d.Send(kStx + "102;P2,D-SH;1.600;kg;0;300;200;100;mm;OK;6000\x03");  // 600 g over
  d.Send(kStx + "103;P3,D-SH;9.999;kg;1;300;200;100;mm;ERR;6000\x03"); // scale error
  const std::string want = kStx + "101;C7\x03" + kStx + "102;C7\x03" + kStx + "103;C7\x03";
  EXPECT_EQ(d.Read(want.size()), want);
  const auto mismatch = Cases(hubd->http_port(), "WEIGHT_MISMATCH");
  ASSERT_EQ(mismatch.size(), 1u);
  EXPECT_EQ(mismatch[0].parcel_id(), "P2");
  EXPECT_EQ(mismatch[0].known_weight_g(), 1000u);
  EXPECT_EQ(mismatch[0].measured_weight_g(), 1600u);
  // hubctl shows the supervisor both weights.
  const auto shown = testutil::RunCommand(std::string(HUBCTL_PATH) + " --server 127.0.0.1:" +
                                          std::to_string(hubd->http_port()) + " --token " + kViewer +
                                          " exceptions get " + std::to_string(mismatch[0].id()));
  EXPECT_EQ(shown.code, 0) << shown.out;
  EXPECT_NE(shown.out.find("known        1000 g"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("measured     1600 g"), std::string::npos) << shown.out;
  // The reading travels with the event: the trace shows it.
  auto trace = HttpCall(hubd->http_port(), "GET", "/v1/parcels/P2", "", kViewer);
  EXPECT_NE(trace.body.find("\"length_mm\""), std::string::npos) << trace.body;
  d.Close();
  EXPECT_EQ(hubd->Terminate(), 0);
}

// A device that loses its connection comes back under the same scanner id:
// hubd numbers its reads on from the durable seq, so nothing is lost and
// nothing is applied twice.
TEST_F(TelegramTest, AReconnectingDeviceContinuesItsSeqWithNothingLost) {
  Seed({testutil::RouteRef("D-SH", "R-SH", "C7", "L-SH")});
  const uint16_t port = testutil::FreePort();
  auto hubd = Start(DeviceDir() + DeviceToml("TUNNEL-1", port, "datalogic-multi",
                                             "destination_pattern = \"^D-[A-Z]+$\"\n"));
  ASSERT_NE(hubd->port(), 0);
  for (int round = 0; round < 3; ++round) {
    Device d(port);
    std::string want;
    for (int i = 0; i < 4; ++i) {
      const std::string object = std::to_string(round * 10 + i);
      d.Send(kStx + object + ",P" + object + ",D-SH\r\n");
      want += object + ",C7,\r\n";
    }
    EXPECT_EQ(d.Read(want.size()), want);
    d.Close();
  }
  EXPECT_EQ(hubd->Terminate(), 0);
  std::map<uint64_t, int> seqs;
  for (uint64_t s = 1; s <= 12; ++s) seqs[s] = 1;
  EXPECT_EQ(LoggedEvents().at("TUNNEL-1"), seqs);
}

// A newer connection for a device fences the older one, as a newer hello
// fences a scanner session: the old one's reads are answered first.
TEST_F(TelegramTest, ANewConnectionFencesTheOldOneAfterAnsweringIt) {
  Seed({testutil::RouteRef("D-SH", "R-SH", "C7", "L-SH")});
  const uint16_t port = testutil::FreePort();
  auto hubd = Start(DeviceDir() + DeviceToml("TUNNEL-1", port, "datalogic-multi",
                                             "destination_pattern = \"^D-[A-Z]+$\"\n"));
  ASSERT_NE(hubd->port(), 0);
  Device old_link(port);
  old_link.Send(kStx + "1,P1,D-SH\r\n");
  EXPECT_EQ(old_link.Read(7), "1,C7,\r\n");
  Device new_link(port);
  new_link.Send(kStx + "2,P2,D-SH\r\n");
  EXPECT_EQ(new_link.Read(7), "2,C7,\r\n");
  EXPECT_TRUE(old_link.Closed());
  EXPECT_EQ(hubd->Terminate(), 0);
  EXPECT_EQ(LoggedEvents().at("TUNNEL-1"), (std::map<uint64_t, int>{{1, 1}, {2, 1}}));
}

// Devices cannot authenticate: allow_from names the addresses that may
// speak for one, and any other is closed at once.
TEST_F(TelegramTest, AnAddressNotInAllowFromIsRefused) {
  const uint16_t port = testutil::FreePort();
  auto hubd = Start(DeviceDir() + DeviceToml("TUNNEL-1", port, "datalogic-multi",
                                             "allow_from = [\"127.0.0.2\"]\n"));
  ASSERT_NE(hubd->port(), 0);
  Device stranger(port);  // from 127.0.0.1
  stranger.Send(kStx + "1,NOREAD\r\n");
  EXPECT_TRUE(stranger.Closed());
  EXPECT_EQ(Metric(hubd->http_port(), "hubd_telegram_refused_total{scanner=\"TUNNEL-1\"}"), 1);
  Device allowed(port, "127.0.0.2");
  allowed.Send(kStx + "2,NOREAD\r\n");
  EXPECT_EQ(allowed.Read(13), "2,0,NO_READ\r\n");
  EXPECT_EQ(hubd->Terminate(), 0);
}

// An unbagging table: the bag label opens the bag, parcels are unbagged
// into it, the end code empties it and the count is reconciled.
TEST_F(TelegramTest, AnUnbaggingTableReconcilesTheBagItsLabelOpened) {
  const uint16_t port = testutil::FreePort();
  auto hubd = Start(DeviceDir() + DeviceToml("TABLE-9", port, "datalogic-multi",
                                             "kind = \"unbag\"\ncontext_pattern = \"^B[0-9]+$\"\n"
                                             "end_code = \"END\"\n"));
  ASSERT_NE(hubd->port(), 0);
  {
    testutil::ScanClient dock(hubd->port());
    ASSERT_EQ(dock.Hello("DOCK-1"), 0);
    testutil::Scanner s = Today("DOCK-1");
    dock.SendAll({s.VehicleArrived("V1", "S1"), s.BagUnloaded("B7", "V1", 3)});
    ASSERT_EQ(dock.WaitForAck(2), 2u);
  }
  Device d(port);
  d.Send(kStx + "1,P1\r\n");  // before any bag label: no event
  d.Send(kStx + "2,B7\r\n" + kStx + "3,P1\r\n" + kStx + "4,P2\r\n" + kStx + "5,END\r\n");
  for (int i = 0; i < 200 && Cases(hubd->http_port(), "BAG_SHORT").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto shorts = Cases(hubd->http_port(), "BAG_SHORT");
  ASSERT_EQ(shorts.size(), 1u) << HttpCall(hubd->http_port(), "GET", "/v1/bags/B7", "", kViewer).body;
  EXPECT_EQ(shorts[0].bag_id(), "B7");
  EXPECT_EQ(shorts[0].expected_count(), 3u);
  EXPECT_EQ(shorts[0].actual_count(), 2u);
  EXPECT_EQ(Metric(hubd->http_port(), "hubd_telegram_unused_reads_total{scanner=\"TABLE-9\"}"), 1);
  EXPECT_EQ(d.Read(1, 200), "");  // a table takes no answers
  d.Close();
  EXPECT_EQ(hubd->Terminate(), 0);
}

// A Datalogic-style DWS unit at an unloading dock, which takes no answer:
// the vehicle label sets the vehicle, each UPU S9 bag label is a bag
// unloaded with its weighed weight, the end code ends unloading; the bag
// view reads the S9 id.
TEST_F(TelegramTest, AnUnloadingDockWeighsS9BagsOffTheVehicleItsLabelNamed) {
  Seed({testutil::VehicleAdviceRef("V-7", "S-1", {"CNPEKAAUSYDAAUN61234001100125", "B-GONE"})});
  const uint16_t port = testutil::FreePort();
  auto hubd = Start(DeviceDir() + DeviceToml("DOCK-DWS", port, "datalogic-dws",
                                             "kind = \"unload\"\ncontext_pattern = \"^V-[0-9]+$\"\n"
                                             "end_code = \"END\"\n"));
  ASSERT_NE(hubd->port(), 0);
  Device d(port);
  // object|code|weight|L|W|H|legal for trade|no-dimension reason
  d.Send(kStx + "1|V-7|||||N|\x03");
  d.Send(kStx + "2|CNPEKAAUSYDAAUN61234001100125|12.480|600|400|300|Y|\x03");
  d.Send(kStx + "3|END|||||N|\x03");
  std::vector<v1::ExceptionCase> missing;
  for (int i = 0; i < 200 && missing.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    missing = Cases(hubd->http_port(), "BAGS_MISSING");
  }
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].vehicle_id(), "V-7");
  EXPECT_EQ(std::vector<std::string>(missing[0].missing_ids().begin(), missing[0].missing_ids().end()),
            std::vector<std::string>{"B-GONE"});
  auto r = HttpCall(hubd->http_port(), "GET", "/v1/bags/CNPEKAAUSYDAAUN61234001100125", "", kViewer);
  ASSERT_EQ(r.status, 200) << r.body;
  v1::BagView bag;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &bag, kLenientJson).ok()) << r.body;
  EXPECT_EQ(bag.vehicle_id(), "V-7");
  EXPECT_EQ(bag.receptacle().origin_office(), "CNPEKA");
  EXPECT_EQ(bag.receptacle().destination_office(), "AUSYDA");
  EXPECT_EQ(bag.receptacle().dispatch_number(), 1234u);
  EXPECT_EQ(bag.receptacle().weight_g(), 12'500u);       // printed on the label
  EXPECT_NE(r.body.find("\"weight_g\":\"12480\""), std::string::npos) << r.body;  // weighed
  EXPECT_EQ(Metric(hubd->http_port(), "hubd_telegram_unused_reads_total{scanner=\"DOCK-DWS\"}"), 0);
  EXPECT_EQ(d.Read(1, 200), "");  // no reply format: nothing is sent
  d.Close();
  EXPECT_EQ(hubd->Terminate(), 0);
}

// A [[device]] the daemon cannot use is refused at start with its reason.
TEST_F(TelegramTest, ABadDeviceConfigurationIsRefusedAtStart) {
  const std::string config = (dir_ / "bad.toml").string();
  for (const std::string& block :
       {DeviceToml("T", 0, "no-such-profile"), DeviceToml("T", 0, "datalogic-multi", "kind = \"weigh\"\n"),
        DeviceToml("T", 0, "datalogic-multi", "parcel_patterns = [\"(\"]\n"),
        DeviceToml("T", 0, "datalogic-multi", "kind = \"unbag\"\n"),
        DeviceToml("T", 0, "datalogic-multi", "allow_from = [\"dock-7\"]\n")}) {
    std::ofstream(config) << DeviceDir() << block;
    const auto r = testutil::RunCommand(std::string(testutil::HubdPath()) + " --data-dir " + db_ +
                                        " --config " + config + " 2>&1");
    EXPECT_EQ(r.code, 2) << block << r.out;
    EXPECT_NE(r.out.find("device"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace hub::testing
