#include "testutil/pki.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testutil/scan_client.h"

namespace hub::testutil {

namespace {

bool Run(const std::string& cmd) {
  const CommandResult r = RunCommand(cmd);
  if (r.code != 0) ADD_FAILURE() << cmd << "\n" << r.out;
  return r.code == 0;
}

}  // namespace

TestPki::TestPki(std::string dir) : dir_(std::move(dir)) {
  ca_ = dir_ + "/ca.pem";
  ca_key_ = dir_ + "/ca.key";
  Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj '/CN=hubd test CA' -keyout " + ca_key_ + " -out " + ca_);
  Pair server = Issue("hubd-test-server", true);
  server_cert_ = server.cert;
  server_key_ = server.key;
}

TestPki::Pair TestPki::Issue(const std::string& name, bool server) {
  const std::string base = dir_ + "/" + name + "-" + std::to_string(++serial_);
  Pair p{base + ".pem", base + ".key"};
  std::ofstream(base + ".ext") << "subjectAltName=DNS:" << name
                               << (server ? ",DNS:localhost,IP:127.0.0.1" : "") << "\n"
                               << "extendedKeyUsage=" << (server ? "serverAuth" : "clientAuth")
                               << "\n";
  Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj '/CN=" + name +
      "' -keyout " + p.key + " -out " + base + ".csr");
  Run("openssl x509 -req -days 2 -in " + base + ".csr -CA " + ca_ + " -CAkey " + ca_key_ +
      " -set_serial " + std::to_string(1000 + serial_) + " -extfile " + base + ".ext -out " + p.cert);
  return p;
}

}  // namespace hub::testutil
