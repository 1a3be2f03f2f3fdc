#pragma once

// Varint-length-delimited framing, the form of protobuf's writeDelimitedTo /
// SerializeDelimitedToZeroCopyStream: a base-128 varint byte count (at most
// 5 bytes), then that many bytes of one serialized message. No sockets here.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/message_lite.h>

namespace hub::codec {

// Incremental decoder for one connection's byte stream.
// Not thread-safe: owned by one session.
class FrameDecoder {
 public:
  enum class Result {
    kFrame,      // *frame holds the next frame's payload
    kNeedMore,   // no complete frame buffered yet
    kOversized,  // the length prefix exceeds max_frame: the stream is unusable
    kMalformed,  // the length prefix is not a valid varint: unusable
  };

  explicit FrameDecoder(size_t max_frame) : max_frame_(max_frame) {}

  // Appends received bytes. Invalidates views returned by Next().
  void Append(const char* data, size_t n);

  // Extracts the next frame. The view stays valid until the next Append().
  // After kOversized or kMalformed, every call returns the same error.
  Result Next(std::string_view* frame);

  // Bytes buffered and not yet returned as frames.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  const size_t max_frame_;
  std::string buf_;
  size_t pos_ = 0;
  Result error_ = Result::kNeedMore;  // sticky kOversized/kMalformed
};

// Appends `message` to *out as one delimited frame.
void AppendFrame(const google::protobuf::MessageLite& message, std::string* out);

}  // namespace hub::codec
