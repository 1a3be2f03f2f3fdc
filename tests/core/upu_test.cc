#include "core/upu.h"

#include <gtest/gtest.h>

namespace hub::testing {
namespace {

TEST(UpuS10, ValidIdPassesItsCheckDigit) {
  EXPECT_EQ(core::S10CheckDigit("47312482"), 9);
  EXPECT_TRUE(core::ValidS10("RR473124829GB"));
}

TEST(UpuS10, WrongCheckDigitIsInvalidButStillLooksLikeS10) {
  EXPECT_TRUE(core::LooksLikeS10("RR473124828GB"));
  EXPECT_FALSE(core::ValidS10("RR473124828GB"));
}

TEST(UpuS10, RemainderTenGivesCheckDigitZero) {
  // 8*1 + 9*1 + 7*4 = 45; 45 mod 11 = 1; 11 - 1 = 10 -> 0.
  EXPECT_EQ(core::S10CheckDigit("10000014"), 0);
  EXPECT_TRUE(core::ValidS10("RR100000140GB"));
}

TEST(UpuS10, RemainderElevenGivesCheckDigitFive) {
  // 8*1 + 7*2 = 22; 22 mod 11 = 0; 11 - 0 = 11 -> 5.
  EXPECT_EQ(core::S10CheckDigit("10000002"), 5);
  EXPECT_TRUE(core::ValidS10("RR100000025GB"));
  EXPECT_FALSE(core::ValidS10("RR100000021GB"));
}

TEST(UpuS10, ShapeIsTwoLettersNineDigitsTwoLetters) {
  EXPECT_TRUE(core::LooksLikeS10("AB123456789CD"));
  EXPECT_FALSE(core::LooksLikeS10("AB12345678CD"));    // 8 digits
  EXPECT_FALSE(core::LooksLikeS10("AB1234567890CD"));  // 10 digits
  EXPECT_FALSE(core::LooksLikeS10("ab123456789CD"));   // lower case
  EXPECT_FALSE(core::LooksLikeS10("A1123456789CD"));
  EXPECT_FALSE(core::LooksLikeS10("AB12345678XCD"));
  EXPECT_FALSE(core::LooksLikeS10(""));
  EXPECT_EQ(core::S10CheckDigit("1234567"), -1);
  EXPECT_EQ(core::S10CheckDigit("1234567X"), -1);
}

TEST(UpuS9, ReceptacleIdGivesEveryField) {
  const auto r = core::ParseS9("CNPEKAAUSYDAAUN61234001100125");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->origin_office(), "CNPEKA");
  EXPECT_EQ(r->destination_office(), "AUSYDA");
  EXPECT_EQ(r->mail_category(), "A");
  EXPECT_EQ(r->mail_subclass(), "UN");
  EXPECT_EQ(r->year_digit(), 6u);
  EXPECT_EQ(r->dispatch_number(), 1234u);
  EXPECT_EQ(r->receptacle_number(), 1u);
  EXPECT_TRUE(r->last_receptacle());
  EXPECT_EQ(r->registered_flag(), "0");
  EXPECT_EQ(r->weight_g(), 12'500u);  // 0125 hectograms
}

TEST(UpuS9, OtherStringsAreNotReceptacleIds) {
  EXPECT_FALSE(core::ParseS9(""));
  EXPECT_FALSE(core::ParseS9("CNPEKAAUSYDAAUN6123400110012"));    // 28
  EXPECT_FALSE(core::ParseS9("CNPEKAAUSYDAAUN612340011001255"));  // 30
  EXPECT_FALSE(core::ParseS9("CNPEK1AUSYDAAUN61234001100125"));   // digit in an office
  EXPECT_FALSE(core::ParseS9("CNPEKAAUSYDA1UN61234001100125"));   // digit as category
  EXPECT_FALSE(core::ParseS9("CNPEKAAUSYDAAUN6123400110012X"));   // letter in the weight
  EXPECT_FALSE(core::ParseS9("CNPEKAAUSYDAAU-61234001100125"));   // subclass
  EXPECT_FALSE(core::ParseS9("RR473124829GB"));
}

}  // namespace
}  // namespace hub::testing
