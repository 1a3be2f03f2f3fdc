#pragma once

// Varint-length-delimited framing, the form of protobuf's writeDelimitedTo /
// SerializeDelimitedToZeroCopyStream: a base-128 varint byte count (at most
// 5 bytes), then that many bytes of one serialized message. No sockets here.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <google/protobuf/message_lite.h>

namespace hub::codec {

// Incremental decoder for one connection's byte stream. It owns the
// connection's receive buffer: a reader asks Prepare(n) for room, receives
// into it and Commit()s what arrived, so bytes are never copied on the way.
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

  // Room for at least `n` more bytes after what is buffered (consumed bytes
  // are dropped first). Valid until the next Prepare(), Append() or
  // Shrink(); invalidates views returned by Next().
  char* Prepare(size_t n);
  // `n` bytes (at most what Prepare() offered) were written at Prepare().
  void Commit(size_t n) { end_ += n; }
  // Prepare + copy + Commit.
  void Append(const char* data, size_t n);

  // Extracts the next frame. The view stays valid until the next Prepare(),
  // Append() or Shrink().
  // After kOversized or kMalformed, every call returns the same error.
  Result Next(std::string_view* frame);

  // Bytes buffered and not yet returned as frames.
  size_t buffered() const { return end_ - begin_; }
  // Bytes the buffer holds room for.
  size_t capacity() const { return capacity_; }
  // Gives memory back after a large frame: when the buffer holds more than
  // `keep` bytes of room, it is cut to max(keep, buffered()).
  void Shrink(size_t keep);

 private:
  void Reallocate(size_t capacity);

  const size_t max_frame_;
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t begin_ = 0, end_ = 0;  // unread bytes are [begin_, end_)
  Result error_ = Result::kNeedMore;  // sticky kOversized/kMalformed
};

// Appends `message` to *out as one delimited frame.
void AppendFrame(const google::protobuf::MessageLite& message, std::string* out);

}  // namespace hub::codec
