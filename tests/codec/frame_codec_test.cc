#include "codec/frame_codec.h"

#include <gtest/gtest.h>

#include <cstring>

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

TEST(FrameCodecTest, ReceivesInPlaceAndShrinksBackAfterALargeFrame) {
  FrameDecoder d(1 << 20);
  v1::ClientFrame big;
  big.mutable_hello()->set_station(std::string(200'000, 's'));
  std::string bytes;
  codec::AppendFrame(big, &bytes);
  // Received in 4 KiB reads straight into the decoder's buffer.
  std::string_view frame;
  for (size_t at = 0; at < bytes.size(); at += 4096) {
    const size_t n = std::min<size_t>(4096, bytes.size() - at);
    std::memcpy(d.Prepare(4096), bytes.data() + at, n);
    d.Commit(n);
  }
  ASSERT_EQ(d.Next(&frame), FrameDecoder::Result::kFrame);
  EXPECT_EQ(frame.size(), bytes.size() - 3);
  EXPECT_GE(d.capacity(), 200'000u);
  d.Append("\x01", 1);  // the start of the next frame
  d.Shrink(4096);
  EXPECT_EQ(d.capacity(), 4096u);
  EXPECT_EQ(d.buffered(), 1u);
  d.Append("\x00", 1);
  ASSERT_EQ(d.Next(&frame), FrameDecoder::Result::kFrame);
  EXPECT_EQ(frame, std::string_view("\x00", 1));
}

// Found by fuzz_frame: an empty read before any data copied into a buffer
// that did not exist yet (memcpy to null, undefined behaviour).
TEST(FrameCodecTest, EmptyAppendBeforeAnyDataIsHarmless) {
  FrameDecoder d(1024);
  d.Append("", 0);
  std::string_view frame;
  EXPECT_EQ(d.Next(&frame), FrameDecoder::Result::kNeedMore);
  EXPECT_EQ(d.capacity(), 0u);
}

}  // namespace
}  // namespace hub::testing
