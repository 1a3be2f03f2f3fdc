#include "codec/telegram.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

namespace hub::testing {
namespace {

using codec::CodeChoice;
using codec::CodePicker;
using codec::CodeRules;
using codec::DeviceKind;
using codec::DeviceProfile;
using codec::DeviceRead;
using codec::DeviceRole;
using codec::Field;
using codec::ReadMapper;
using codec::TelegramFramer;

const std::string kDevices = std::string(HUBD_SOURCE_DIR) + "/deploy/devices/";

DeviceProfile Shipped(const std::string& name) {
  return codec::LoadProfile(kDevices + name + ".toml");
}

std::string Join(const std::vector<std::string>& items) {
  std::string s;
  for (const std::string& i : items) s += (s.empty() ? "" : ",") + i;
  return s;
}

// One line per read, for comparing whole reads at once.
std::string Print(const DeviceRead& r) {
  const v1::Measurement& m = r.measurement;
  std::string s = "object=" + r.object + " codes=[" + Join(r.codes) + "]";
  if (r.no_read) s += " no_read";
  if (r.multi_read) s += " multi_read";
  if (!r.destination.empty()) s += " destination=" + r.destination;
  if (m.weight_g()) s += " " + std::to_string(m.weight_g()) + "g";
  if (m.length_mm() || m.width_mm() || m.height_mm())
    s += " " + std::to_string(m.length_mm()) + "x" + std::to_string(m.width_mm()) + "x" +
         std::to_string(m.height_mm()) + "mm";
  if (m.volume_cm3()) s += " " + std::to_string(m.volume_cm3()) + "cm3";
  if (m.scale_error()) s += " scale_error";
  if (m.legal_for_trade()) s += " legal_for_trade";
  if (!m.no_dimension_reason().empty()) s += " no_dimension_reason=" + m.no_dimension_reason();
  return s;
}

std::string Print(const CodeChoice& c) {
  std::string s = v1::ReadOutcome_Name(c.outcome);
  if (!c.parcel_id.empty()) s += " " + c.parcel_id;
  if (!c.destination.empty()) s += " to " + c.destination;
  if (!c.read_codes.empty()) s += " [" + Join(c.read_codes) + "]";
  return s;
}

std::string Print(const ReadMapper::Mapped& m) {
  std::string s;
  for (const v1::ScanEvent& e : m.events) {
    if (!s.empty()) s += "; ";
    switch (e.body_case()) {
      case v1::ScanEvent::kBagOpened:
        s += "BAG_OPENED " + e.bag_opened().bag_id();
        break;
      case v1::ScanEvent::kBagEmptied:
        s += "BAG_EMPTIED " + e.bag_emptied().bag_id();
        break;
      case v1::ScanEvent::kParcelUnbagged:
        s += "PARCEL_UNBAGGED " + e.parcel_unbagged().parcel_id() + " from " +
             e.parcel_unbagged().bag_id();
        break;
      case v1::ScanEvent::kBagUnloaded:
        s += "BAG_UNLOADED " + e.bag_unloaded().bag_id() + " from " +
             e.bag_unloaded().vehicle_id() + " " + std::to_string(e.bag_unloaded().weight_g()) +
             "g";
        break;
      case v1::ScanEvent::kVehicleUnloaded:
        s += "VEHICLE_UNLOADED " + e.vehicle_unloaded().vehicle_id();
        break;
      case v1::ScanEvent::kParcelSorted: {
        const v1::ParcelSorted& p = e.parcel_sorted();
        s += "PARCEL_SORTED " + v1::ReadOutcome_Name(p.read()) + " '" + p.parcel_id() + "'";
        if (!p.destination().empty()) s += " to " + p.destination();
        if (p.read_codes_size() > 0)
          s += " [" + Join(std::vector<std::string>(p.read_codes().begin(), p.read_codes().end())) +
               "]";
        if (p.has_measurement()) s += " " + std::to_string(p.measurement().weight_g()) + "g";
        break;
      }
      default:
        s += "?";
    }
  }
  if (!m.unused.empty()) s += "unused: " + m.unused;
  return s;
}

DeviceRead Read(std::vector<std::string> codes) {
  DeviceRead r;
  r.codes = std::move(codes);
  r.no_read = r.codes.empty();
  return r;
}

std::string Parsed(const DeviceProfile& p, std::string_view payload) {
  DeviceRead r;
  const std::string why = codec::ParseTelegram(p, payload, &r);
  return why.empty() ? Print(r) : "malformed: " + why;
}

// Every telegram (or "<oversized>") the framer gives for `bytes` fed in
// pieces cut at `cuts`.
std::vector<std::string> Frame(const DeviceProfile& p, std::string_view bytes,
                               std::vector<size_t> cuts, uint64_t* discarded = nullptr,
                               size_t* buffered = nullptr) {
  TelegramFramer f(p);
  std::vector<std::string> out;
  cuts.push_back(bytes.size());
  size_t from = 0;
  for (size_t to : cuts) {
    f.Append(bytes.substr(from, to - from));
    from = to;
    std::string payload;
    for (;;) {
      const TelegramFramer::Result r = f.Next(&payload);
      if (r == TelegramFramer::Result::kNeedMore) break;
      out.push_back(r == TelegramFramer::Result::kTelegram ? payload : "<oversized>");
    }
  }
  if (discarded) *discarded = f.discarded();
  if (buffered) *buffered = f.buffered();
  return out;
}

// --- framing ---------------------------------------------------------------------

// The telegrams of `bytes` and the framer's counts after it, on one line.
std::string Framed(const DeviceProfile& p, std::string_view bytes) {
  uint64_t discarded = 0;
  size_t buffered = 0;
  std::string s;
  for (const std::string& t : Frame(p, bytes, {}, &discarded, &buffered)) s += "[" + t + "] ";
  return s + "discarded " + std::to_string(discarded) + ", buffered " + std::to_string(buffered);
}

DeviceProfile Framing(std::string header, std::string terminator) {
  DeviceProfile p;
  p.header = std::move(header);
  p.terminator = std::move(terminator);
  return p;
}

TEST(TelegramFramer, StxEtxTelegramsAreCutOutWithoutHeaderAndTerminator) {
  EXPECT_EQ(Framed(DeviceProfile{},
                   "\x02"
                   "1;A\x03\x02"
                   "2;B\x03"),
            "[1;A] [2;B] discarded 0, buffered 0");
}

TEST(TelegramFramer, HeaderAndTerminatorOfSeveralBytes) {
  // The last '<' may be the start of a header: kept.
  EXPECT_EQ(Framed(Framing("<<", "\r\n"), "<<1,A\r\n<<2,B\r\n<"),
            "[1,A] [2,B] discarded 0, buffered 1");
}

TEST(TelegramFramer, EmptyHeaderStartsATelegramAfterThePreviousTerminator) {
  EXPECT_EQ(Framed(Framing("", "\r\n"), "1,A\r\n2,B\r\n3"), "[1,A] [2,B] discarded 0, buffered 1");
}

TEST(TelegramFramer, NoiseBetweenTelegramsIsDiscardedAndCounted) {
  EXPECT_EQ(Framed(DeviceProfile{},
                   "ab\x02"
                   "1\x03\r\n\x02"
                   "2\x03xyz"),
            "[1] [2] discarded 7, buffered 0");
}

TEST(TelegramFramer, TelegramCutOffByANewHeaderIsNoise) {
  EXPECT_EQ(Framed(DeviceProfile{},
                   "\x02"
                   "1;AB\x02"
                   "2;C\x03"),
            "[2;C] discarded 5, buffered 0");
}

TEST(TelegramFramer, OversizedTelegramIsDroppedAndTheNextOneStillRead) {
  DeviceProfile p;
  p.max_telegram = 8;
  const std::string bytes = "\x02" + std::string(20, 'x') +
                            "\x03\x02"
                            "12345678\x03";
  uint64_t discarded = 0;
  EXPECT_EQ(Frame(p, bytes, {}, &discarded), (std::vector<std::string>{"<oversized>", "12345678"}));
  EXPECT_EQ(discarded, 22u);
  // Dropped before its terminator arrives: the buffer never holds much more
  // than max_telegram.
  TelegramFramer f(p);
  f.Append("\x02" + std::string(100, 'x'));
  std::string payload;
  EXPECT_EQ(f.Next(&payload), TelegramFramer::Result::kOversized);
  EXPECT_EQ(f.Next(&payload), TelegramFramer::Result::kNeedMore);
  EXPECT_EQ(f.buffered(), 0u);
  f.Append("xx\x03\x02ok\x03");
  EXPECT_EQ(f.Next(&payload), TelegramFramer::Result::kTelegram);
  EXPECT_EQ(payload, "ok");
}

TEST(TelegramFramer, TelegramSplitAtEveryByteGivesTheSameReads) {
  for (const char* terminator : {"\x03", "\r\n"}) {
    DeviceProfile p;
    p.terminator = terminator;
    p.max_telegram = 16;
    const std::string t = terminator;
    const std::string bytes =
        "noise\x02"
        "1;RR473124829GB" +
        t +
        "\x02"
        "2;A" +
        t +
        "\r\n\x02"
        "3;" +
        std::string(30, 'y') + t +
        "\x02"
        "cut\x02"
        "4;B;C" +
        t +
        "\x02"
        "5;";
    uint64_t whole_discarded = 0;
    size_t whole_buffered = 0;
    const auto expected = Frame(p, bytes, {}, &whole_discarded, &whole_buffered);
    ASSERT_EQ(expected,
              (std::vector<std::string>{"1;RR473124829GB", "2;A", "<oversized>", "4;B;C"}));
    for (size_t a = 0; a <= bytes.size(); ++a) {
      for (size_t b = a; b <= bytes.size(); ++b) {
        uint64_t discarded = 0;
        size_t buffered = 0;
        ASSERT_EQ(Frame(p, bytes, {a, b}, &discarded, &buffered), expected)
            << "split at " << a << "," << b;
        ASSERT_EQ(discarded, whole_discarded) << "split at " << a << "," << b;
        ASSERT_EQ(buffered, whole_buffered) << "split at " << a << "," << b;
      }
    }
  }
}

// --- parsing the shipped profiles -----------------------------------------------

TEST(TelegramParse, SickDwsEveryFieldMapped) {
  const DeviceProfile p = Shipped("sick-dws");
  EXPECT_EQ(Parsed(p, "17;RR473124829GB;12.345;kg;0;300;200;100;mm;OK;6000"),
            "object=17 codes=[RR473124829GB] 12345g 300x200x100mm 6000cm3");
  EXPECT_EQ(Parsed(p, "18;NoRead;0.5;kg;1;;;;mm;E12;"),
            "object=18 codes=[] no_read 500g scale_error");
}

TEST(TelegramParse, SickDwsUnitsComeFromTheTelegram) {
  const DeviceProfile p = Shipped("sick-dws");
  EXPECT_EQ(Parsed(p, "1;A;2;lb;0;30.5;20;10.04;cm;OK;1"),
            "object=1 codes=[A] 907g 305x200x100mm 1cm3");
  EXPECT_EQ(Parsed(p, "1;A;250;g;0;1.2;0.5;0.25;m;OK;"), "object=1 codes=[A] 250g 1200x500x250mm");
  EXPECT_EQ(Parsed(p, "1;A;1;kg;0;10;5;2;in;OK;"), "object=1 codes=[A] 1000g 254x127x51mm");
}

TEST(TelegramParse, DatalogicMultiCodesAreEveryFieldAfterTheObject) {
  const DeviceProfile p = Shipped("datalogic-multi");
  EXPECT_EQ(Parsed(p, "5,RR473124829GB,JD0001,D-SHA"),
            "object=5 codes=[RR473124829GB,JD0001,D-SHA]");
  EXPECT_EQ(Parsed(p, "5,A"), "object=5 codes=[A]");
}

TEST(TelegramParse, NoReadStringIsNoCode) {
  EXPECT_EQ(Parsed(Shipped("datalogic-multi"), "6,NOREAD"), "object=6 codes=[] no_read");
  EXPECT_EQ(Parsed(Shipped("datalogic-multi"), "6"), "object=6 codes=[] no_read");
  EXPECT_EQ(Parsed(Shipped("datalogic-multi"), "6,NOREAD,A"), "object=6 codes=[A]");
}

TEST(TelegramParse, MultiReadStringIsKeptWhenNoOtherCodeCame) {
  EXPECT_EQ(Parsed(Shipped("datalogic-multi"), "7,MULTI"), "object=7 codes=[MULTI] multi_read");
  EXPECT_EQ(Parsed(Shipped("datalogic-multi"), "7,MULTI,A,B"), "object=7 codes=[A,B] multi_read");
}

TEST(TelegramParse, DatalogicDwsEveryFieldMapped) {
  const DeviceProfile p = Shipped("datalogic-dws");
  EXPECT_EQ(Parsed(p, "9|RR473124829GB,1Z999|1.5|400|300|200|Y|"),
            "object=9 codes=[RR473124829GB,1Z999] 1500g 400x300x200mm legal_for_trade");
  EXPECT_EQ(Parsed(p, "10|NoRead|0.25||||N|TOO_TALL"),
            "object=10 codes=[] no_read 250g no_dimension_reason=TOO_TALL");
}

TEST(TelegramParse, VolumeUnitsAreConvertedToCubicCentimetres) {
  DeviceProfile p;
  p.fields = {Field::kCode, Field::kVolume};
  for (const auto& [unit, text, cm3] : {std::tuple{"cm3", "12.4", "12"},
                                        {"dm3", "1.5", "1500"},
                                        {"m3", "0.25", "250000"},
                                        {"in3", "10", "164"}}) {
    p.volume_unit = unit;
    EXPECT_EQ(Parsed(p, std::string("A;") + text), std::string("object= codes=[A] ") + cm3 + "cm3")
        << unit;
  }
}

TEST(TelegramParse, WeightUnitsOfTheProfileAreConvertedToGrams) {
  DeviceProfile p;
  p.fields = {Field::kCode, Field::kWeight};
  for (const auto& [unit, text, grams] :
       {std::tuple{"g", "1234.6", "1235"}, {"kg", "1.2346", "1235"}, {"lb", "1", "454"}}) {
    p.weight_unit = unit;
    EXPECT_EQ(Parsed(p, std::string("A;") + text), std::string("object= codes=[A] ") + grams + "g")
        << unit;
  }
}

TEST(TelegramParse, DestinationFieldIsRead) {
  DeviceProfile p;
  p.fields = {Field::kObject, Field::kCode, Field::kDestination};
  EXPECT_EQ(Parsed(p, "1;A;D-SHA"), "object=1 codes=[A] destination=D-SHA");
}

// A good sick-dws telegram with field `n` (from 1) replaced by `value`.
std::string SickWith(size_t n, const std::string& value) {
  std::vector<std::string> fields = {"17", "A", "1", "kg", "0", "1", "1", "1", "mm", "OK", "1"};
  fields.at(n - 1) = value;
  std::string s;
  for (const std::string& f : fields) s += (s.empty() ? "" : ";") + f;
  return s;
}

TEST(TelegramParse, MalformedTelegramsNameTheField) {
  const DeviceProfile sick = Shipped("sick-dws");
  const std::pair<std::string, std::string> cases[] = {
      {"17;A;1", "3 fields where profile 'sick-dws' has 11"},
      {SickWith(3, "abc"), "field 3 (weight): 'abc' is not a number"},
      {SickWith(3, "-1"), "field 3 (weight): '-1' is not a number"},
      {SickWith(3, "1.2.3"), "field 3 (weight): '1.2.3' is not a number"},
      {SickWith(4, "oz"), "field 4 (weight_unit): 'oz' is not a unit (g, kg, lb)"},
      {SickWith(9, "ft"), "field 9 (dimension_unit): 'ft' is not a unit (mm, cm, m, in)"},
      {SickWith(2, "A\tB"), "field 2 (code): code 'A\\x09B' holds a control character"},
      {SickWith(2, "A\xc2\x85"), "field 2 (code): code 'A\\xc2\\x85' holds a control character"},
      {SickWith(2, "A\x7f"), "field 2 (code): code 'A\\x7f' holds a control character"},
      {SickWith(2, std::string(65, 'A')),
       "field 2 (code): code '" + std::string(40, 'A') + "...' is longer than 64 bytes"},
  };
  for (const auto& [telegram, why] : cases) EXPECT_EQ(Parsed(sick, telegram), "malformed: " + why);
  EXPECT_EQ(Parsed(sick, SickWith(2, std::string(64, 'A'))).substr(0, 15), "object=17 codes");
}

TEST(TelegramParse, AtMostSixteenCodesPerRead) {
  const DeviceProfile p = Shipped("datalogic-multi");
  std::string sixteen = "1";
  for (int i = 0; i < 16; ++i) sixteen += ",C" + std::to_string(i);
  EXPECT_NE(Parsed(p, sixteen).substr(0, 9), "malformed");
  EXPECT_EQ(Parsed(p, sixteen + ",C16"),
            "malformed: field 18 (codes): more than 16 codes in one read");
}

// --- profiles --------------------------------------------------------------------

// The telegram a device of `p` sends for a read with every field it has.
DeviceRead FullRead(const DeviceProfile& p) {
  DeviceRead r;
  r.object = "42";
  for (Field f : p.fields) {
    v1::Measurement& m = r.measurement;
    switch (f) {
      case Field::kCode:
        r.codes = p.code_separator.empty() ? std::vector<std::string>{"RR473124829GB"}
                                           : std::vector<std::string>{"RR473124829GB", "JD0001"};
        break;
      case Field::kCodes:
        r.codes = {"RR473124829GB", "JD0001", "D-SHA"};
        break;
      case Field::kDestination:
        r.destination = "D-SHA";
        break;
      case Field::kWeight:
        m.set_weight_g(12'345);
        break;
      case Field::kLength:
        m.set_length_mm(400);
        break;
      case Field::kWidth:
        m.set_width_mm(300);
        break;
      case Field::kHeight:
        m.set_height_mm(250);
        break;
      case Field::kVolume:
        m.set_volume_cm3(30'000);
        break;
      case Field::kScaleError:
        m.set_scale_error(true);
        break;
      case Field::kLegalForTrade:
        m.set_legal_for_trade(true);
        break;
      case Field::kNoDimensionReason:
        m.set_no_dimension_reason("TOO_TALL");
        break;
      default:
        break;
    }
  }
  return r;
}

TEST(ProfileLoader, EveryShippedProfileLoadsAndRoundTripsARead) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kDevices)) {
    if (entry.path().extension() != ".toml") continue;
    ++files;
    SCOPED_TRACE(entry.path().string());
    const DeviceProfile p = codec::LoadProfile(entry.path().string());
    EXPECT_EQ(p.name, entry.path().stem().string());
    for (DeviceRead read : {FullRead(p), Read({})}) {
      read.object = "42";
      const std::string telegram = codec::FormatTelegram(p, read);
      ASSERT_EQ(Frame(p, telegram, {}).size(), 1u) << telegram;
      EXPECT_EQ(Parsed(p, Frame(p, telegram, {}).front()), Print(read)) << telegram;
    }
  }
  EXPECT_EQ(files, 3u);
}

std::string ProfileError(const std::string& toml) {
  try {
    codec::ParseProfile(toml, "test.toml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "loaded";
}

TEST(ProfileLoader, ControlBytesAreWrittenAsUnicodeEscapes) {
  const DeviceProfile p = codec::ParseProfile(
      "fields = [\"-\", \"code\"]\nheader = \"\\u0002\"\nterminator = \"\\r\\n\"\n", "x");
  EXPECT_EQ(p.header, "\x02");
  EXPECT_EQ(p.terminator, "\r\n");
  EXPECT_EQ(p.fields, (std::vector<Field>{Field::kIgnore, Field::kCode}));
  EXPECT_EQ(p.name, "x");
}

TEST(ProfileLoader, MistakesNameTheFileAndTheKey) {
  EXPECT_EQ(ProfileError("fields = [\"code\"]\ncolour = \"red\""),
            "test.toml: unknown key 'colour'");
  EXPECT_EQ(ProfileError("fields = [\"code\", \"price\"]"),
            "test.toml: key 'fields' names an unknown field 'price'");
  EXPECT_EQ(ProfileError("fields = [\"codes\", \"object\"]"),
            "test.toml: key 'fields' has \"codes\" before its last entry");
  EXPECT_EQ(ProfileError("fields = [\"object\"]"),
            "test.toml: key 'fields' has neither \"code\" nor \"codes\"");
  EXPECT_EQ(ProfileError("fields = [\"code\"]\nterminator = \"\""),
            "test.toml: key 'terminator' must not be empty");
  EXPECT_EQ(ProfileError("fields = [\"code\"]\nseparator = \",\"\ncode_separator = \",\""),
            "test.toml: key 'code_separator' must differ from separator");
  EXPECT_EQ(ProfileError("fields = [\"code\"]\nweight_unit = \"oz\""),
            "test.toml: key 'weight_unit' 'oz' is not one of g, kg, lb");
  EXPECT_EQ(ProfileError("fields = [\"code\"]\ndimension_unit = \"ft\""),
            "test.toml: key 'dimension_unit' 'ft' is not one of mm, cm, m, in");
  EXPECT_EQ(ProfileError("fields = [\"code\"]\nvolume_unit = \"l\""),
            "test.toml: key 'volume_unit' 'l' is not one of cm3, dm3, m3, in3");
  EXPECT_EQ(ProfileError("fields = [\"code\"]\nmax_telegram = \"big\""),
            "test.toml: key 'max_telegram' must be an integer");
  EXPECT_EQ(ProfileError("fields = \"code\""),
            "test.toml: key 'fields' must be an array of strings");
  EXPECT_EQ(ProfileError("fields = [\"code\"]\nno_read = \"\""),
            "test.toml: key 'no_read' is empty");
  EXPECT_EQ(ProfileError("fields = [\"code\"\n").substr(0, 11), "test.toml: ");
}

TEST(ProfileLoader, MissingFileIsNamed) {
  EXPECT_THROW(codec::LoadProfile(kDevices + "no-such.toml"), std::runtime_error);
}

// --- picking a code --------------------------------------------------------------

std::string Picked(const CodeRules& rules, const DeviceRead& read) {
  return Print(CodePicker(rules).Pick(read));
}

TEST(TelegramCodePicker, NoCodeIsNoRead) { EXPECT_EQ(Picked({}, Read({})), "READ_NO_READ"); }

TEST(TelegramCodePicker, OneCodeIsASingleReadWithoutReadCodes) {
  EXPECT_EQ(Picked({}, Read({"JD0001"})), "READ_SINGLE JD0001");
}

TEST(TelegramCodePicker, ValidS10RanksFirst) {
  CodeRules rules;
  rules.parcel_patterns = {"[0-9]{12}"};
  EXPECT_EQ(Picked(rules, Read({"123456789012", "RR473124829GB"})),
            "READ_SINGLE RR473124829GB [123456789012,RR473124829GB]");
  EXPECT_EQ(Picked({}, Read({"JD0001", "RR473124829GB"})),
            "READ_SINGLE RR473124829GB [JD0001,RR473124829GB]");
}

TEST(TelegramCodePicker, PatternsRankInTheirOrder) {
  CodeRules rules;
  rules.parcel_patterns = {"JD[0-9]+", "[0-9]{10}"};
  EXPECT_EQ(Picked(rules, Read({"1234567890", "JD0001"})),
            "READ_SINGLE JD0001 [1234567890,JD0001]");
  EXPECT_EQ(Picked(rules, Read({"1234567890", "XX"})), "READ_SINGLE 1234567890 [1234567890,XX]");
}

TEST(TelegramCodePicker, PatternMatchesTheWholeCode) {
  CodeRules rules;
  rules.parcel_patterns = {"JD[0-9]+"};
  EXPECT_EQ(Picked(rules, Read({"XJD0001"})), "READ_NO_READ [XJD0001]");
}

TEST(TelegramCodePicker, CodeMatchingNoPatternIsIgnored) {
  CodeRules rules;
  rules.parcel_patterns = {"JD[0-9]+"};
  EXPECT_EQ(Picked(rules, Read({"JUNK", "JD0001"})), "READ_SINGLE JD0001 [JUNK,JD0001]");
}

TEST(TelegramCodePicker, TwoDisagreeingCandidatesAreAmbiguousWithEveryCode) {
  CodeRules rules;
  rules.parcel_patterns = {"JD[0-9]+"};
  EXPECT_EQ(Picked(rules, Read({"JD0001", "JUNK", "JD0002"})),
            "READ_AMBIGUOUS [JD0001,JUNK,JD0002]");
  EXPECT_EQ(Picked({}, Read({"RR473124829GB", "RR100000025GB"})),
            "READ_AMBIGUOUS [RR473124829GB,RR100000025GB]");
}

TEST(TelegramCodePicker, RepeatedIdenticalCodesCountOnce) {
  EXPECT_EQ(Picked({}, Read({"JD0001", "JD0001"})), "READ_SINGLE JD0001");
  EXPECT_EQ(Picked({}, Read({"JD0001", "X", "JD0001"})), "READ_AMBIGUOUS [JD0001,X]");
}

TEST(TelegramCodePicker, DestinationPatternGivesTheDestination) {
  CodeRules rules;
  rules.destination_pattern = "D-[A-Z]{3}";
  EXPECT_EQ(Picked(rules, Read({"JD0001", "D-SHA"})), "READ_SINGLE JD0001 to D-SHA [JD0001,D-SHA]");
  EXPECT_EQ(Picked(rules, Read({"D-SHA", "D-SHA", "JD0001"})),
            "READ_SINGLE JD0001 to D-SHA [D-SHA,JD0001]");
}

TEST(TelegramCodePicker, TwoDifferentDestinationsAreAmbiguous) {
  CodeRules rules;
  rules.destination_pattern = "D-[A-Z]{3}";
  EXPECT_EQ(Picked(rules, Read({"JD0001", "D-SHA", "D-PEK"})),
            "READ_AMBIGUOUS [JD0001,D-SHA,D-PEK]");
}

TEST(TelegramCodePicker, DestinationFieldWinsOverDestinationCodes) {
  CodeRules rules;
  rules.destination_pattern = "D-[A-Z]{3}";
  DeviceRead read = Read({"JD0001", "D-SHA", "D-PEK"});
  read.destination = "D-CAN";
  EXPECT_EQ(Picked(rules, read), "READ_SINGLE JD0001 to D-CAN [JD0001,D-SHA,D-PEK]");
}

TEST(TelegramCodePicker, WrongS10CheckDigitIsAnInvalidIdWhenValidated) {
  CodeRules rules;
  rules.validate_s10 = true;
  EXPECT_EQ(Picked(rules, Read({"RR473124828GB"})), "READ_INVALID_ID [RR473124828GB]");
  EXPECT_EQ(Picked(rules, Read({"RR473124828GB", "JD0001"})),
            "READ_SINGLE JD0001 [RR473124828GB,JD0001]");
  EXPECT_EQ(Picked({}, Read({"RR473124828GB"})), "READ_SINGLE RR473124828GB");
}

TEST(TelegramCodePicker, MultiReadIsAmbiguous) {
  DeviceRead read = Read({"MULTI"});
  read.multi_read = true;
  EXPECT_EQ(Picked({}, read), "READ_AMBIGUOUS [MULTI]");
}

TEST(TelegramCodePicker, PatternThatDoesNotCompileThrows) {
  CodeRules rules;
  rules.parcel_patterns = {"JD[0-9"};
  EXPECT_THROW(CodePicker{rules}, std::invalid_argument);
}

// --- events ----------------------------------------------------------------------

TEST(TelegramReadMapper, SortReadBecomesParcelSortedWithItsReadingAndWantsAnAnswer) {
  ReadMapper mapper(DeviceRole{});
  DeviceRead read = Read({"RR473124829GB"});
  read.measurement.set_weight_g(1200);
  const ReadMapper::Mapped m = mapper.Map(read);
  EXPECT_EQ(Print(m), "PARCEL_SORTED READ_SINGLE 'RR473124829GB' 1200g");
  EXPECT_TRUE(m.answer);
  EXPECT_EQ(m.events.at(0).parcel_sorted().weight_g(), 1200u);
}

TEST(TelegramReadMapper, SortNoReadAndAmbiguousReadAreStillEvents) {
  ReadMapper mapper(DeviceRole{});
  EXPECT_EQ(Print(mapper.Map(Read({}))), "PARCEL_SORTED READ_NO_READ ''");
  EXPECT_EQ(Print(mapper.Map(Read({"A", "B"}))), "PARCEL_SORTED READ_AMBIGUOUS '' [A,B]");
  EXPECT_TRUE(mapper.Map(Read({})).answer);
}

TEST(TelegramReadMapper, UnbagOpensUnbagsAndEmptiesBags) {
  DeviceRole role;
  role.kind = DeviceKind::kUnbag;
  role.context_pattern = "BAG[0-9]+";
  role.end_code = "END";
  ReadMapper mapper(role);
  EXPECT_EQ(Print(mapper.Map(Read({"P1"}))), "unused: no bag label read yet (parcel P1)");
  EXPECT_EQ(Print(mapper.Map(Read({"END"}))), "unused: end code with no bag open");
  EXPECT_EQ(Print(mapper.Map(Read({"BAG1"}))), "BAG_OPENED BAG1");
  EXPECT_EQ(Print(mapper.Map(Read({"BAG1"}))), "unused: bag BAG1 is already open");
  EXPECT_EQ(Print(mapper.Map(Read({"P1"}))), "PARCEL_UNBAGGED P1 from BAG1");
  EXPECT_EQ(Print(mapper.Map(Read({}))), "unused: no read at an unbagging table");
  EXPECT_EQ(Print(mapper.Map(Read({"P2", "P3"}))),
            "unused: ambiguous read at an unbagging table: P2, P3");
  EXPECT_EQ(Print(mapper.Map(Read({"BAG2"}))), "BAG_EMPTIED BAG1; BAG_OPENED BAG2");
  EXPECT_EQ(Print(mapper.Map(Read({"P4"}))), "PARCEL_UNBAGGED P4 from BAG2");
  const ReadMapper::Mapped end = mapper.Map(Read({"END"}));
  EXPECT_EQ(Print(end), "BAG_EMPTIED BAG2");
  EXPECT_FALSE(end.answer);
  EXPECT_EQ(Print(mapper.Map(Read({"P5"}))), "unused: no bag label read yet (parcel P5)");
}

TEST(TelegramReadMapper, UnloadTakesTheVehicleThenItsBagsThenTheEndCode) {
  DeviceRole role;
  role.kind = DeviceKind::kUnload;
  role.context_pattern = "V-[0-9]+";
  role.end_code = "DONE";
  ReadMapper mapper(role);
  DeviceRead bag = Read({"CNPEKAAUSYDAAUN61234001100125"});
  bag.measurement.set_weight_g(12'400);
  EXPECT_EQ(Print(mapper.Map(bag)),
            "unused: no vehicle label read yet (bag CNPEKAAUSYDAAUN61234001100125)");
  const ReadMapper::Mapped vehicle = mapper.Map(Read({"V-7"}));
  EXPECT_TRUE(vehicle.events.empty());
  EXPECT_TRUE(vehicle.unused.empty());  // it names the vehicle of what follows: not unused
  EXPECT_EQ(Print(mapper.Map(bag)), "BAG_UNLOADED CNPEKAAUSYDAAUN61234001100125 from V-7 12400g");
  EXPECT_EQ(Print(mapper.Map(Read({}))), "unused: no read at an unloading dock");
  EXPECT_EQ(Print(mapper.Map(Read({"DONE"}))), "VEHICLE_UNLOADED V-7");
  EXPECT_EQ(Print(mapper.Map(Read({"DONE"}))), "unused: end code with no vehicle open");
}

TEST(TelegramReadMapper, ContextRoleWithoutPatternIsRefused) {
  DeviceRole role;
  role.kind = DeviceKind::kUnbag;
  EXPECT_THROW(ReadMapper{role}, std::invalid_argument);
  role.kind = DeviceKind::kUnload;
  role.context_pattern = "(";
  EXPECT_THROW(ReadMapper{role}, std::invalid_argument);
}

// --- answers ---------------------------------------------------------------------

v1::SortDecision Routed() {
  v1::SortDecision d;
  d.set_parcel_id("RR473124829GB");
  d.set_route_code("R-SHA");
  d.set_chute("12");
  d.set_load_id("L-9");
  return d;
}

TEST(TelegramReply, RoutedParcelGetsItsChute) {
  DeviceRead read = Read({"RR473124829GB"});
  read.object = "17";
  EXPECT_EQ(codec::FormatReply(Shipped("sick-dws"), read, Routed()),
            "\x02"
            "17;12\x03");
  EXPECT_EQ(codec::FormatReply(Shipped("datalogic-multi"), read, Routed()), "17,12,\r\n");
}

TEST(TelegramReply, DivertedParcelGetsTheDivertChuteAndReason) {
  DeviceRead read = Read({});
  read.object = "18";
  v1::SortDecision d;
  d.set_divert(v1::DIVERT_NO_READ);
  EXPECT_EQ(codec::FormatReply(Shipped("sick-dws"), read, d),
            "\x02"
            "18;999\x03");
  EXPECT_EQ(codec::FormatReply(Shipped("datalogic-multi"), read, d), "18,0,NO_READ\r\n");
}

TEST(TelegramReply, EveryPlaceholderIsFilledAndOtherBracesKept) {
  DeviceProfile p;
  p.reply = "{object}|{code}|{chute}|{route}|{load}|{destination}|{divert}|{other}{";
  DeviceRead read = Read({"RR473124829GB"});
  read.object = "3";
  read.destination = "D-SHA";
  EXPECT_EQ(codec::FormatReply(p, read, Routed()), "3|RR473124829GB|12|R-SHA|L-9|D-SHA||{other}{");
  v1::SortDecision held = Routed();
  held.set_chute("");
  held.set_divert(v1::DIVERT_HELD);
  p.divert_chute = "99";
  EXPECT_EQ(codec::FormatReply(p, read, held), "3|RR473124829GB|99|R-SHA|L-9|D-SHA|HELD|{other}{");
}

TEST(TelegramReply, ProfileWithoutReplyAnswersNothing) {
  EXPECT_EQ(codec::FormatReply(Shipped("datalogic-dws"), Read({"A"}), Routed()), "");
}

}  // namespace
}  // namespace hub::testing
