#include "codec/frame_codec.h"

#include <gtest/gtest.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>

#include "hub/v1/session.pb.h"
#include "testutil/events.h"

namespace hub::testing {
namespace {

using codec::FrameDecoder;

std::string ThreeFrames() {
  testutil::Scanner s("SORTER-1");
  std::string bytes;
  v1::ClientFrame f;
  f.mutable_hello()->set_scanner_id("SORTER-1");
  codec::AppendFrame(f, &bytes);
  *f.mutable_event() = s.ParcelSorted("P1", "D1");
  codec::AppendFrame(f, &bytes);
  *f.mutable_event() = s.ParcelSorted(std::string(300, 'x'), "D1");  // 2-byte length
  codec::AppendFrame(f, &bytes);
  return bytes;
}

std::vector<std::string> DecodeAll(FrameDecoder& d, FrameDecoder::Result* last) {
  std::vector<std::string> out;
  std::string_view frame;
  while ((*last = d.Next(&frame)) == FrameDecoder::Result::kFrame) out.emplace_back(frame);
  return out;
}

TEST(FrameCodecTest, MatchesProtobufDelimitedFormat) {
  v1::ClientFrame f;
  f.mutable_hello()->set_scanner_id("DOCK-7");
  std::string ours;
  codec::AppendFrame(f, &ours);
  std::string theirs;
  {
    google::protobuf::io::StringOutputStream out(&theirs);
    ASSERT_TRUE(google::protobuf::util::SerializeDelimitedToZeroCopyStream(f, &out));
  }
  EXPECT_EQ(ours, theirs);
}

TEST(FrameCodecTest, DecodesFramesFedInEveryPossibleSplit) {
  const std::string bytes = ThreeFrames();
  FrameDecoder whole(1 << 16);
  whole.Append(bytes.data(), bytes.size());
  FrameDecoder::Result last;
  const auto expected = DecodeAll(whole, &last);
  ASSERT_EQ(expected.size(), 3u);
  for (size_t a = 0; a <= bytes.size(); ++a) {
    for (size_t b = a; b <= bytes.size(); b += 7) {
      FrameDecoder d(1 << 16);
      std::vector<std::string> got;
      for (auto [from, to] : {std::pair{size_t{0}, a}, {a, b}, {b, bytes.size()}}) {
        d.Append(bytes.data() + from, to - from);
        auto part = DecodeAll(d, &last);
        EXPECT_EQ(last, FrameDecoder::Result::kNeedMore);
        got.insert(got.end(), part.begin(), part.end());
      }
      ASSERT_EQ(got, expected) << "split at " << a << "," << b;
      EXPECT_EQ(d.buffered(), 0u);
    }
  }
}

TEST(FrameCodecTest, OversizedLengthIsRejectedBeforeTheBodyArrives) {
  FrameDecoder d(100);
  const char prefix[] = {static_cast<char>(0xe5), 0x01};  // 229
  d.Append(prefix, 2);
  std::string_view frame;
  EXPECT_EQ(d.Next(&frame), FrameDecoder::Result::kOversized);
  d.Append("more", 4);
  EXPECT_EQ(d.Next(&frame), FrameDecoder::Result::kOversized);  // sticky
}

TEST(FrameCodecTest, OverlongVarintIsMalformed) {
  FrameDecoder d(1 << 20);
  const std::string junk(6, static_cast<char>(0xff));
  d.Append(junk.data(), junk.size());
  std::string_view frame;
  EXPECT_EQ(d.Next(&frame), FrameDecoder::Result::kMalformed);
}

TEST(FrameCodecTest, ZeroLengthFrameIsAnEmptyMessage) {
  FrameDecoder d(16);
  d.Append("\0", 1);
  std::string_view frame;
  ASSERT_EQ(d.Next(&frame), FrameDecoder::Result::kFrame);
  EXPECT_TRUE(frame.empty());
}

}  // namespace
}  // namespace hub::testing
