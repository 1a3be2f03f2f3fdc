#include "codec/frame_codec.h"

namespace hub::codec {

void FrameDecoder::Append(const char* data, size_t n) {
  // Drop consumed bytes once they dominate, so the buffer stays bounded by
  // about two frames.
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(data, n);
}

FrameDecoder::Result FrameDecoder::Next(std::string_view* frame) {
  if (error_ != Result::kNeedMore) return error_;
  uint64_t length = 0;
  size_t i = pos_;
  for (int shift = 0;; shift += 7) {
    if (i == buf_.size()) return Result::kNeedMore;
    if (shift > 28) return error_ = Result::kMalformed;  // more than 5 bytes
    const auto byte = static_cast<uint8_t>(buf_[i++]);
    length |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  if (length > max_frame_) return error_ = Result::kOversized;
  if (buf_.size() - i < length) return Result::kNeedMore;
  *frame = std::string_view(buf_.data() + i, length);
  pos_ = i + length;
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
