#pragma once

// The API's writes: acknowledge and resolve (one case or many) and
// reference data. Each goes through the sequencer as a log record, ordered
// with the scans and durable before it is answered. Nothing here waits: the
// answer is built when the last commit reports (on the sequencer thread),
// and whatever it must read back is read on the query pool.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "api/auth.h"
#include "api/render.h"
#include "hub/v1/desk.pb.h"
#include "hub/v1/reference.pb.h"
#include "sequencer/sequencer.h"
#include "store/rocksdb_store.h"

namespace hub::api {

class HubCommands {
 public:
  // `answers`: where answers are built (off the sequencer thread).
  HubCommands(sequencer::Sequencer* sequencer, store::RocksDbStore* store,
              boost::asio::thread_pool* answers)
      : sequencer_(sequencer), store_(store), answers_(answers) {}

  struct CaseOutcome {
    uint64_t id = 0;
    std::optional<Failure> failure;
    v1::ExceptionCase c;  // after the action, when applied
  };
  // Acknowledges (to = ACKNOWLEDGED) or resolves each case of `ids` for
  // `who`, with `note`. `done` is called once, on an answer thread, with one
  // outcome per id in order.
  void ActOnCases(std::vector<uint64_t> ids, v1::ExceptionStatus to, const ApiToken& who,
                  const std::string& note, std::function<void(std::vector<CaseOutcome>)> done);

  // Applies a validated batch in order; `done` gets what was applied, or a
  // failure naming how many were.
  void LoadReference(v1::ReferenceBatch batch, const ApiToken& who,
                     std::function<void(Answer)> done);

 private:
  sequencer::Sequencer* sequencer_;
  store::RocksDbStore* store_;
  boost::asio::thread_pool* answers_;
};

// The failure a refused command maps to.
Failure CommandFailure(const sequencer::CommandResult& result);

}  // namespace hub::api
