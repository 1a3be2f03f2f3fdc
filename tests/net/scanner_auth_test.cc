#include "net/scanner_auth.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace hub::testing {
namespace {

v1::Hello HelloFrom(const std::string& scanner, const std::string& station,
                    const std::string& credential) {
  v1::Hello h;
  h.set_scanner_id(scanner);
  h.set_station(station);
  h.set_credential(credential);
  return h;
}

TEST(ScannerAuthTest, WithNothingConfiguredEveryoneIsAdmitted) {
  net::ScannerAuth auth;
  EXPECT_FALSE(auth.enabled());
  EXPECT_EQ(auth.Admit(HelloFrom("ANY", "", ""), {}), "");
}

TEST(ScannerAuthTest, OwnSecretFirstThenTheStationsSecret) {
  net::ScannerAuth auth({{"SORTER-1", "", "own-secret"}, {"", "DOCK", "dock-secret"}}, false);
  EXPECT_EQ(auth.Admit(HelloFrom("SORTER-1", "DOCK", "own-secret"), {}), "");
  EXPECT_EQ(auth.Admit(HelloFrom("SORTER-1", "DOCK", "dock-secret"), {}),
            "wrong credential for scanner SORTER-1");
  EXPECT_EQ(auth.Admit(HelloFrom("HH-2", "DOCK", "dock-secret"), {}), "");
  EXPECT_EQ(auth.Admit(HelloFrom("HH-2", "YARD", "dock-secret"), {}),
            "no credential is configured for scanner HH-2 or station YARD");
  EXPECT_EQ(auth.Admit(HelloFrom("HH-2", "DOCK", ""), {}), "the hello carries no credential");
}

TEST(ScannerAuthTest, CertificateNamingTheScannerAdmitsItAndOneNamingAnotherNever) {
  net::ScannerAuth auth({{"SORTER-1", "", "own-secret"}}, true);
  EXPECT_EQ(auth.Admit(HelloFrom("SORTER-1", "", ""), {"sorter-1.hub", "SORTER-1"}), "");
  EXPECT_EQ(auth.Admit(HelloFrom("SORTER-1", "", "own-secret"), {"SORTER-9"}),
            "the client certificate is for SORTER-9, not scanner SORTER-1");
}

TEST(ScannerAuthTest, ClientCaWithoutSecretsNeedsACertificate) {
  net::ScannerAuth auth({}, true);
  EXPECT_TRUE(auth.enabled());
  EXPECT_EQ(auth.Admit(HelloFrom("S1", "ST", "x"), {}),
            "no credential is configured for scanner S1 or station ST; present a client certificate");
}

TEST(ScannerAuthTest, EntriesNameOneScannerOrStationOnce) {
  EXPECT_THROW(net::ScannerAuth({{"S1", "ST", "secret-123"}}, false), std::invalid_argument);
  EXPECT_THROW(net::ScannerAuth({{"S1", "", "secret-123"}, {"S1", "", "secret-456"}}, false),
               std::invalid_argument);
}

TEST(ScannerAuthTest, SecretEqualsComparesWholeStrings) {
  EXPECT_TRUE(net::SecretEquals("abc", "abc"));
  EXPECT_FALSE(net::SecretEquals("abc", "ab"));
  EXPECT_FALSE(net::SecretEquals("abc", "abcd"));
  EXPECT_FALSE(net::SecretEquals("abc", "abd"));
  EXPECT_FALSE(net::SecretEquals("", "a"));
}

}  // namespace
}  // namespace hub::testing
