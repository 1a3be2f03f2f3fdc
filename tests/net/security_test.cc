// Who may speak for a scanner, and TLS on both ports, against a real hubd
// with certificates made by the test (openssl).

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "net/daemon_fixture.h"
#include "testutil/events.h"
#include "testutil/http_client.h"
#include "testutil/pki.h"
#include "testutil/scan_client.h"
#include "tools/api_client.h"

namespace hub::testing {
namespace {

using testutil::ClientTls;
using testutil::DaemonProcess;
using testutil::ScanClient;
using testutil::Scanner;

class SecurityTest : public DaemonTest {
 protected:
  std::string Config(const std::string& text) {
    const std::string path = (dir_ / "hubd.toml").string();
    std::ofstream(path) << text;
    return path;
  }
  // The frame that answered a hello that was refused; checks the session
  // is then closed.
  v1::Reject Refused(ScanClient& c, const std::string& scanner, const std::string& station,
                     const std::string& credential) {
    v1::ServerFrame answer;
    EXPECT_EQ(c.Hello(scanner, station, credential, &answer), -1);
    EXPECT_TRUE(c.WaitClosed()) << "a refused hello must close the session";
    return answer.reject();
  }
};

TEST_F(SecurityTest, CredentialsAdmitTheirScannerOrStationAndRefuseEveryoneElse) {
  const std::string config = Config(
      "[[ingest.credentials]]\nscanner = \"SORTER-1\"\nsecret = \"sorter-1-secret\"\n"
      "[[ingest.credentials]]\nstation = \"DOCK\"\nsecret = \"dock-station-secret\"\n");
  DaemonProcess hubd(db_, {"--config", config});
  {
    ScanClient c(hubd.port());
    ASSERT_EQ(c.Hello("SORTER-1", "SORT-A", "sorter-1-secret"), 0);
    Scanner s("SORTER-1", "SORT-A");
    c.Send(s.BagOpened("B1"));
    EXPECT_EQ(c.WaitForAck(1), 1u);
  }
  {
    ScanClient c(hubd.port());  // any scanner at the station, with its secret
    EXPECT_EQ(c.Hello("DOCK-HH-4", "DOCK", "dock-station-secret"), 0);
  }
  struct Case {
    std::string scanner, station, credential, reason;
  };
  for (const Case& k : std::vector<Case>{
           {"SORTER-1", "SORT-A", "sorter-1-secreT", "wrong credential for scanner SORTER-1"},
           {"SORTER-1", "SORT-A", "", "the hello carries no credential"},
           // a scanner with its own secret cannot use its station's
           {"SORTER-1", "DOCK", "dock-station-secret", "wrong credential for scanner SORTER-1"},
           {"DOCK-HH-4", "DOCK", "sorter-1-secret", "wrong credential for scanner DOCK-HH-4"},
           {"STRANGER", "YARD", "anything-at-all",
            "no credential is configured for scanner STRANGER or station YARD"}}) {
    ScanClient c(hubd.port());
    const v1::Reject r = Refused(c, k.scanner, k.station, k.credential);
    EXPECT_EQ(r.code(), v1::REJECT_UNAUTHENTICATED) << k.scanner;
    EXPECT_EQ(r.reason(), k.reason);
  }
  const auto metrics = testutil::HttpCall(hubd.http_port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("hubd_scanner_auth_failures_total 5"), std::string::npos) << metrics;
  EXPECT_EQ(hubd.Terminate(), 0);
  const std::string log = hubd.Log();
  EXPECT_NE(log.find("event=auth_failed"), std::string::npos);
  EXPECT_EQ(log.find("secreT"), std::string::npos) << "a credential reached the log";
}

TEST_F(SecurityTest, TlsScannerSessionAndTlsApiCall) {
  testutil::TestPki pki(dir_.string());
  const std::string config = Config(
      "[[api.tokens]]\nname = \"sup\"\ntoken = \"supervisor-token\"\nrole = \"supervisor\"\n");
  DaemonProcess hubd(db_, {"--config", config, "--tls-cert", pki.server_cert(), "--tls-key",
                           pki.server_key(), "--http-tls-cert", pki.server_cert(),
                           "--http-tls-key", pki.server_key()});
  const ClientTls tls{pki.ca(), "", ""};
  ScanClient c(hubd.port(), &tls);
  ASSERT_EQ(c.handshake_error(), "");
  ASSERT_EQ(c.Hello("SORTER-1"), 0);
  Scanner s("SORTER-1", "ST-1");
  std::vector<v1::ScanEvent> events;
  for (int i = 0; i < 200; ++i) events.push_back(s.ParcelSorted("P" + std::to_string(i), "D1"));
  c.SendAll(events);
  std::vector<v1::ServerFrame> frames;
  EXPECT_EQ(c.WaitForAck(200, &frames), 200u);
  EXPECT_EQ(frames.size(), 200u);  // a decision for each

  // A plain client on the TLS port gets no welcome.
  ScanClient plain(hubd.port());
  EXPECT_EQ(plain.Hello("SORTER-2"), -1);

  // HTTPS: the API and hubctl, verifying the daemon's certificate.
  tools::ApiServer server;
  server.port = std::to_string(hubd.http_port());
  server.https = true;
  server.ca_file = pki.ca();
  auto answer = tools::CallApi(server, "supervisor-token", "GET", "/v1/summary");
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(tools::CallApi(server, "", "GET", "/healthz").status, 200);
  EXPECT_EQ(testutil::HttpCall(hubd.http_port(), "GET", "/healthz").status, 0)
      << "plain HTTP must not be answered on the HTTPS port";
  const auto ctl = testutil::RunCommand(std::string(HUBCTL_PATH) + " --server https://127.0.0.1:" +
                                        server.port + " --ca-file " + pki.ca() +
                                        " --token supervisor-token summary");
  EXPECT_EQ(ctl.code, 0) << ctl.out;
  // A client that does not trust the daemon's CA refuses it.
  server.ca_file = pki.Issue("not-a-ca").cert;
  EXPECT_THROW(tools::CallApi(server, "", "GET", "/healthz"), std::exception);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(SecurityTest, ClientCertificateMustNameTheScanner) {
  testutil::TestPki pki(dir_.string());
  DaemonProcess hubd(db_, {"--tls-cert", pki.server_cert(), "--tls-key", pki.server_key(),
                           "--tls-client-ca", pki.ca(), "--tls-require-client-cert"});
  const auto sorter1 = pki.Issue("SORTER-1");
  const ClientTls as_sorter1{pki.ca(), sorter1.cert, sorter1.key};
  {
    ScanClient c(hubd.port(), &as_sorter1);
    ASSERT_EQ(c.handshake_error(), "");
    EXPECT_EQ(c.Hello("SORTER-1"), 0) << "the certificate alone admits its scanner";
  }
  {
    ScanClient c(hubd.port(), &as_sorter1);
    const v1::Reject r = Refused(c, "SORTER-2", "ST-1", "");
    EXPECT_EQ(r.code(), v1::REJECT_UNAUTHENTICATED);
    EXPECT_EQ(r.reason(), "the client certificate is for SORTER-1, not scanner SORTER-2");
  }
  {
    const ClientTls anonymous{pki.ca(), "", ""};
    ScanClient c(hubd.port(), &anonymous);
    EXPECT_EQ(c.Hello("SORTER-1"), -1) << "no certificate: the handshake or the hello fails";
  }
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(SecurityTest, SighupReloadsCertificatesWithoutDroppingSessions) {
  testutil::TestPki pki(dir_.string());
  const std::string cert = (dir_ / "live.pem").string(), key = (dir_ / "live.key").string();
  std::filesystem::copy_file(pki.server_cert(), cert);
  std::filesystem::copy_file(pki.server_key(), key);
  DaemonProcess hubd(db_, {"--tls-cert", cert, "--tls-key", key});
  const ClientTls tls{pki.ca(), "", ""};
  ScanClient before(hubd.port(), &tls);
  ASSERT_EQ(before.Hello("DOCK-1"), 0);
  EXPECT_EQ(before.PeerCommonName(), "hubd-test-server");

  const auto renewed = pki.Issue("hubd-renewed", true);
  std::filesystem::copy_file(renewed.cert, cert, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(renewed.key, key, std::filesystem::copy_options::overwrite_existing);
  ::kill(hubd.pid(), SIGHUP);
  for (int i = 0; i < 100 && hubd.Log().find("event=tls_reloaded port=ingest") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ScanClient after(hubd.port(), &tls);
  ASSERT_EQ(after.Hello("DOCK-2"), 0);
  EXPECT_EQ(after.PeerCommonName(), "hubd-renewed");

  // A broken file on the next reload keeps the working certificate.
  std::ofstream(cert) << "not a certificate\n";
  ::kill(hubd.pid(), SIGHUP);
  for (int i = 0; i < 100 && hubd.Log().find("event=tls_reload_failed") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(hubd.Log().find("event=tls_reload_failed port=ingest"), std::string::npos);
  ScanClient third(hubd.port(), &tls);
  EXPECT_EQ(third.Hello("DOCK-3"), 0);
  EXPECT_EQ(third.PeerCommonName(), "hubd-renewed");

  // The session from before the reloads never noticed.
  Scanner s("DOCK-1", "ST-1");
  before.Send(s.BagOpened("B1"));
  EXPECT_EQ(before.WaitForAck(1), 1u);
  EXPECT_EQ(hubd.Terminate(), 0);
}

TEST_F(SecurityTest, StalledTlsHandshakeIsClosedAtTheHelloTimeout) {
  testutil::TestPki pki(dir_.string());
  DaemonProcess hubd(db_, {"--tls-cert", pki.server_cert(), "--tls-key", pki.server_key(),
                           "--hello-timeout-ms", "400"});
  for (const std::string& sent : {std::string(), std::string("\x16\x03\x01\x00", 4)}) {
    ScanClient c(hubd.port());  // TCP only: the handshake never completes
    if (!sent.empty()) c.SendRaw(sent);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.WaitClosed(5000));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, std::chrono::milliseconds(2500)) << "closed after the close grace, not the timeout";
  }
  EXPECT_EQ(hubd.Terminate(), 0);
}

}  // namespace
}  // namespace hub::testing
