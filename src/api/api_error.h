#pragma once

// Why an API request failed, in the API's terms. The one place these become
// HTTP status codes is HttpStatus() (render.cc builds the answer).

#include <string>

namespace hub::api {

enum class ApiError {
  kBadRequest,        // 400: malformed parameter or body
  kUnauthenticated,   // 401: no token, or an unknown one
  kForbidden,         // 403: the token's role is too low
  kNotFound,          // 404: no such endpoint, case or entity (or aged out)
  kMethodNotAllowed,  // 405
  kConflict,          // 409: the case's life cycle forbids it; a backup dir exists
  kTooLarge,          // 413: a body over 1 MiB
  kUnavailable,       // 503: recovering, shutting down, the store failed, too many streams
  kNoSpace,           // 507: no space for a backup
  kInternal,          // 500: a store read failed
};

struct Failure {
  ApiError error;
  std::string message;
};

inline int HttpStatus(ApiError e) {
  switch (e) {
    case ApiError::kBadRequest: return 400;
    case ApiError::kUnauthenticated: return 401;
    case ApiError::kForbidden: return 403;
    case ApiError::kNotFound: return 404;
    case ApiError::kMethodNotAllowed: return 405;
    case ApiError::kConflict: return 409;
    case ApiError::kTooLarge: return 413;
    case ApiError::kUnavailable: return 503;
    case ApiError::kNoSpace: return 507;
    case ApiError::kInternal: return 500;
  }
  return 500;
}

inline Failure BadRequest(std::string m) { return {ApiError::kBadRequest, std::move(m)}; }
inline Failure NotFound(std::string m) { return {ApiError::kNotFound, std::move(m)}; }
inline Failure Conflict(std::string m) { return {ApiError::kConflict, std::move(m)}; }
inline Failure Unavailable(std::string m) { return {ApiError::kUnavailable, std::move(m)}; }
inline Failure StoreFailed() { return {ApiError::kInternal, "store read failed"}; }

}  // namespace hub::api
