#pragma once

// The hub's queries for the supervisor API: exception lists and cases, the
// summary, the shift report, the parcel trace and the bag, vehicle and load
// views, and who the caller is. Each reads the store at one point in time
// and never touches the sequencer (counters come from its probe). They may
// take a while on a big hub: run them off the HTTP thread. Thread-safe.

#include <map>
#include <string>

#include "api/render.h"
#include "sequencer/sequencer.h"
#include "store/rocksdb_store.h"

namespace hub::api {

using Params = std::map<std::string, std::string>;

class HubQueries {
 public:
  HubQueries(sequencer::Sequencer* sequencer, store::RocksDbStore* store)
      : sequencer_(sequencer), store_(store) {}

  Answer ListExceptions(const Params& q) const;
  Answer GetException(const std::string& id_text) const;
  Answer Summary(const Params& q) const;
  Answer Report(const Params& q) const;
  // collection: parcels, bags, vehicles or loads.
  Answer EntityView(const std::string& collection, const std::string& id) const;
  Answer HubInfo(const std::string& who, const char* role) const;

  // Why an id may have no record: " (...aged out...)" once retention removed
  // anything that could have held it, else "".
  std::string AgedOutNote(uint64_t case_id, bool entity) const;

 private:
  sequencer::Sequencer* sequencer_;
  store::RocksDbStore* store_;
};

// Reads a time parameter (`name`, or `name_ms` in milliseconds) into *out;
// absent leaves *out alone. Failure names the parameter and the forms.
std::optional<Failure> TimeParam(const Params& q, const std::string& name, int64_t now_ms,
                                 int64_t* out);
int64_t NowMs();
// Reads the `type` and `status` filters (any letter case) into *type and
// *status; absent ones are left alone.
std::optional<Failure> TypeAndStatus(const Params& q, v1::ExceptionType* type,
                                     v1::ExceptionStatus* status);

}  // namespace hub::api
