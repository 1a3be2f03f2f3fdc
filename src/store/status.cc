#include "store/status.h"

namespace hub::store {

std::string Status::ToString() const {
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "NotFound: " + message_;
    case Code::kCorruption: return "Corruption: " + message_;
    case Code::kIOError: return "IOError: " + message_;
    case Code::kInvalidArgument: return "InvalidArgument: " + message_;
    case Code::kNoSpace: return "NoSpace: " + message_;
    case Code::kAlreadyExists: return "AlreadyExists: " + message_;
  }
  return message_;
}

}  // namespace hub::store
