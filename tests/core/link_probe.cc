// A program linked against the domain core alone: it builds only if the core
// needs neither RocksDB nor Asio, and check_core_link.sh reads its link line.
#include <cstdio>

#include "core/hub_state.h"

int main() {
  hub::core::HubState hub;
  hub::core::ApplyResult result;
  hub::v1::ScanEvent e;
  e.set_scanner_id("PROBE");
  e.set_station("PROBE");
  e.set_seq(1);
  e.mutable_parcel_sorted();  // a no-read
  hub.ApplyEvent(e, &result);
  std::printf("cases raised: %zu\n", result.raised.size());
  return result.raised.size() == 1 ? 0 : 1;
}
