#pragma once

// Fixture for tests of the supervisor API against a real hubd: one token per
// role (viewer "wall", supervisor "sup-li", admin "ops"); the hub in UTC.

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "net/daemon_fixture.h"
#include "testutil/scan_client.h"

namespace hub::testing {

inline constexpr const char* kViewer = "viewer-secret-1";
inline constexpr const char* kSupervisor = "supervisor-secret-1";
inline constexpr const char* kAdmin = "admin-secret-1";

class ApiTest : public DaemonTest {
 protected:
  // `extra_toml` opens the configuration file (top-level keys, [[device]]s).
  std::unique_ptr<testutil::DaemonProcess> Start(const std::string& extra_toml = "") {
    const std::string config = (dir_ / "hubd.toml").string();
    std::ofstream(config) << extra_toml << "[[api.tokens]]\nname = \"wall\"\ntoken = \"" << kViewer
                          << "\"\nrole = \"viewer\"\n"
                          << "[[api.tokens]]\nname = \"sup-li\"\ntoken = \"" << kSupervisor
                          << "\"\nrole = \"supervisor\"\n"
                          << "[[api.tokens]]\nname = \"ops\"\ntoken = \"" << kAdmin
                          << "\"\nrole = \"admin\"\n";
    // The hub in UTC, so answers' ISO times are known whatever the machine's zone.
    return std::make_unique<testutil::DaemonProcess>(
        db_, std::vector<std::string>{"--config", config, "--time-zone", "UTC"});
  }
};

}  // namespace hub::testing
