#include "api/auth.h"

#include <spdlog/spdlog.h>

#include "util/log_value.h"

namespace hub::api {
namespace {

using util::LogValue;

// Refused callers are logged at most once per 10 s (with how many lines were
// held back), so a client guessing tokens costs a few lines, not a disk.
util::LogThrottle auth_log(std::chrono::seconds(10));

std::string_view Path(const net::HttpRequest& r) {
  return std::string_view(r.target).substr(0, r.target.find('?'));
}

void LogAuthFailure(const net::HttpRequest& r, const char* reason, const ApiToken* who = nullptr,
                    Role needs = Role::kViewer) {
  uint64_t held = 0;
  if (!auth_log.Allow(&held)) return;
  if (who == nullptr) {
    spdlog::warn("event=api_auth_failed peer={} method={} path={} reason={} suppressed={}",
                 LogValue(r.peer), LogValue(r.method), LogValue(Path(r)), reason, held);
  } else {
    spdlog::warn(
        "event=api_auth_failed peer={} method={} path={} reason={} who={} role={} needs={} suppressed={}",
        LogValue(r.peer), LogValue(r.method), LogValue(Path(r)), reason, LogValue(who->name),
        RoleName(who->role), RoleName(needs), held);
  }
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kSupervisor: return "supervisor";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

const ApiToken* Authenticate(const net::HttpRequest& r, const std::vector<ApiToken>& tokens,
                             Failure* deny) {
  if (tokens.empty()) {
    LogAuthFailure(r, "no_tokens_configured");
    *deny = {ApiError::kUnauthenticated,
             "no API tokens are configured; add [[api.tokens]] to the configuration"};
    return nullptr;
  }
  const std::string prefix = "Bearer ";
  if (r.authorization.rfind(prefix, 0) != 0) {
    LogAuthFailure(r, "missing_bearer_token");
    *deny = {ApiError::kUnauthenticated, "missing bearer token"};
    return nullptr;
  }
  const std::string token = r.authorization.substr(prefix.size());
  // Compare every byte of every token, so timing does not leak a prefix.
  const ApiToken* found = nullptr;
  for (const auto& t : tokens) {
    unsigned diff = t.token.size() != token.size();
    for (size_t i = 0; i < t.token.size(); ++i)
      diff |= static_cast<unsigned char>(t.token[i]) ^
              static_cast<unsigned char>(i < token.size() ? token[i] : 0);
    if (diff == 0) found = &t;
  }
  if (found != nullptr) return found;
  LogAuthFailure(r, "unknown_token");
  *deny = {ApiError::kUnauthenticated, "unknown token"};
  return nullptr;
}

std::optional<Failure> Authorize(const net::HttpRequest& r, const ApiToken& who, Role needs,
                                 const char* what) {
  if (who.role >= needs) return std::nullopt;
  LogAuthFailure(r, "role_too_low", &who, needs);
  return Failure{ApiError::kForbidden, std::string(what) + " needs the " + RoleName(needs) + " role"};
}

}  // namespace hub::api
