#include "codec/frame_codec.h"

#include <algorithm>
#include <cstring>

namespace hub::codec {

char* FrameDecoder::Prepare(size_t n) {
  if (begin_ == end_) begin_ = end_ = 0;
  if (capacity_ - end_ < n) {
    const size_t live = end_ - begin_;
    if (live + n <= capacity_) {
      std::memmove(buf_.get(), buf_.get() + begin_, live);
      begin_ = 0;
      end_ = live;
    } else {
      Reallocate(std::max(live + n, std::min(2 * capacity_, live + n + max_frame_)));
    }
  }
  return buf_.get() + end_;
}

void FrameDecoder::Append(const char* data, size_t n) {
  if (n == 0) return;  // memcpy into a buffer not allocated yet is undefined
  std::memcpy(Prepare(n), data, n);
  Commit(n);
}

void FrameDecoder::Shrink(size_t keep) {
  if (capacity_ > keep && capacity_ > buffered()) Reallocate(std::max(keep, buffered()));
}

void FrameDecoder::Reallocate(size_t capacity) {
  const size_t live = end_ - begin_;
  std::unique_ptr<char[]> next(capacity > 0 ? new char[capacity] : nullptr);
  if (live > 0) std::memcpy(next.get(), buf_.get() + begin_, live);
  buf_ = std::move(next);
  capacity_ = capacity;
  begin_ = 0;
  end_ = live;
}

FrameDecoder::Result FrameDecoder::Next(std::string_view* frame) {
  if (error_ != Result::kNeedMore) return error_;
  uint64_t length = 0;
  size_t i = begin_;
  for (int shift = 0;; shift += 7) {
    if (i == end_) return Result::kNeedMore;
    if (shift > 28) return error_ = Result::kMalformed;  // more than 5 bytes
    const auto byte = static_cast<uint8_t>(buf_[i++]);
    length |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  if (length > max_frame_) return error_ = Result::kOversized;
  if (end_ - i < length) return Result::kNeedMore;
  *frame = std::string_view(buf_.get() + i, length);
  begin_ = i + length;
  return Result::kFrame;
}

void AppendFrame(const google::protobuf::MessageLite& message, std::string* out) {
  size_t n = message.ByteSizeLong();
  for (size_t v = n; ; v >>= 7) {
    if (v < 0x80) {
      out->push_back(static_cast<char>(v));
      break;
    }
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
  }
  const size_t off = out->size();
  out->resize(off + n);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out->data() + off));
}

}  // namespace hub::codec
