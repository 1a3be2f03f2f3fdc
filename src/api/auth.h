#pragma once

// Who may call the supervisor API: bearer tokens from the configuration,
// each with a name (recorded as "by" and in the audit trail) and a role.
// Roles are cumulative: viewer reads; supervisor also acknowledges and
// resolves; admin also loads reference data and takes backups.

#include <optional>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "net/http_server.h"

namespace hub::api {

enum class Role { kViewer = 1, kSupervisor = 2, kAdmin = 3 };

// With no token configured, hubd's local admin token, in the data directory.
inline constexpr const char* kLocalTokenFile = "local-admin-token";

struct ApiToken {
  std::string name;   // recorded as "by" on acknowledge/resolve
  std::string token;  // the bearer secret
  Role role = Role::kViewer;
};

const char* RoleName(Role role);

// The token the request carries, or a 401 failure (logged, at most one line
// per 10 s; the token itself never). Compares in constant time per token.
const ApiToken* Authenticate(const net::HttpRequest& r, const std::vector<ApiToken>& tokens,
                             Failure* deny);

// A 403 failure (logged) when `who` lacks `needs`; `what` names the action.
std::optional<Failure> Authorize(const net::HttpRequest& r, const ApiToken& who, Role needs,
                                 const char* what);

}  // namespace hub::api
