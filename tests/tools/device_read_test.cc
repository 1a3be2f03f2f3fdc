// hubreplay's read of a generated sort scan (tools/device_read.h): pure.

#include "tools/device_read.h"

#include <gtest/gtest.h>

namespace hub::testing {
namespace {

using Codes = std::vector<std::string>;

v1::ParcelSorted Scan(const std::string& parcel, const std::string& destination) {
  v1::ParcelSorted s;
  s.set_parcel_id(parcel);
  s.set_destination(destination);
  return s;
}

codec::DeviceProfile WithDestinationField(bool field) {
  codec::DeviceProfile p;
  p.fields = {codec::Field::kObject, codec::Field::kCodes};
  if (field) p.fields.insert(p.fields.begin() + 1, codec::Field::kDestination);
  return p;
}

TEST(DeviceReadTest, APlainScanIsItsParcelIdAndItsDestinationLabel) {
  auto r = tools::DeviceReadOf(Scan("P1", "D3"), WithDestinationField(false), 7);
  EXPECT_EQ(r.object, "7");
  EXPECT_EQ(r.codes, (Codes{"P1", "D3"}));
  EXPECT_FALSE(r.no_read);
  EXPECT_EQ(r.destination, "");
  r = tools::DeviceReadOf(Scan("P1", "D3"), WithDestinationField(true), 8);
  EXPECT_EQ(r.codes, (Codes{"P1"}));
  EXPECT_EQ(r.destination, "D3");
}

TEST(DeviceReadTest, ReadCodesGoAsTheyAreAndTheDestinationLabelOnlyOnce) {
  auto s = Scan("", "D3");
  s.set_read(v1::READ_AMBIGUOUS);
  for (const char* c : {"P1", "P2", "D3"}) s.add_read_codes(c);
  EXPECT_EQ(tools::DeviceReadOf(s, WithDestinationField(false), 1).codes, (Codes{"P1", "P2", "D3"}));
  auto multi = Scan("P1", "D4");
  multi.set_read(v1::READ_SINGLE);
  for (const char* c : {"P1", "RL-D4"}) multi.add_read_codes(c);
  EXPECT_EQ(tools::DeviceReadOf(multi, WithDestinationField(false), 1).codes, (Codes{"P1", "RL-D4", "D4"}));
}

TEST(DeviceReadTest, NothingReadIsANoReadWithoutCodesAndTheReadingGoesAlong) {
  auto s = Scan("", "D3");
  s.mutable_measurement()->set_weight_g(1234);
  s.mutable_measurement()->set_scale_error(true);
  auto r = tools::DeviceReadOf(s, WithDestinationField(false), 1);
  EXPECT_TRUE(r.no_read);
  EXPECT_TRUE(r.codes.empty());
  EXPECT_EQ(r.measurement.weight_g(), 1234u);
  EXPECT_TRUE(r.measurement.scale_error());
  auto said = Scan("P1", "D3");
  said.set_read(v1::READ_NO_READ);
  EXPECT_TRUE(tools::DeviceReadOf(said, WithDestinationField(false), 1).no_read);
}

}  // namespace
}  // namespace hub::testing
