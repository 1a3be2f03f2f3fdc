#include "api/commands.h"

#include <atomic>
#include <memory>
#include <mutex>

#include <boost/asio/post.hpp>

#include "api/audit_api.h"
#include "api/hub_queries.h"

namespace hub::api {
namespace {

// Collects the results of `n` commands; the last one to report runs
// `finish` with all of them.
struct Gather {
  explicit Gather(size_t n) : results(n), left(n) {}
  std::vector<sequencer::CommandResult> results;
  std::atomic<size_t> left;
  std::function<void(std::vector<sequencer::CommandResult>&)> finish;
};

void SubmitAll(sequencer::Sequencer* sequencer, std::vector<v1::LogRecord> records,
               std::function<void(std::vector<sequencer::CommandResult>&)> finish) {
  auto gather = std::make_shared<Gather>(records.size());
  gather->finish = std::move(finish);
  if (records.empty()) return gather->finish(gather->results);
  for (size_t i = 0; i < records.size(); ++i) {
    sequencer::Submission s;
    s.command = std::move(records[i]);
    s.done = [gather, i](sequencer::CommandResult r) {
      gather->results[i] = std::move(r);
      if (gather->left.fetch_sub(1) == 1) gather->finish(gather->results);
    };
    sequencer->Submit(std::move(s));
  }
}

}  // namespace

Failure CommandFailure(const sequencer::CommandResult& r) {
  if (r.unavailable) return Unavailable(r.reason);
  switch (r.refusal) {
    case core::Refusal::kNotFound:
    case core::Refusal::kAgedOut: return NotFound(r.reason);
    case core::Refusal::kConflict:
    case core::Refusal::kDuplicate: return Conflict(r.reason);
    case core::Refusal::kInvalid:
    case core::Refusal::kNone: break;
  }
  return BadRequest(r.reason);
}

void HubCommands::ActOnCases(std::vector<uint64_t> ids, v1::ExceptionStatus to, const ApiToken& who,
                             const std::string& note,
                             std::function<void(std::vector<CaseOutcome>)> done) {
  std::vector<v1::LogRecord> records(ids.size());
  const int64_t now = NowMs();
  for (size_t i = 0; i < ids.size(); ++i) {
    auto* a = records[i].mutable_case_action();
    a->set_case_id(ids[i]);
    a->set_to(to);
    a->mutable_transition()->set_by(who.name);
    a->mutable_transition()->set_at_ms(now);
    a->mutable_transition()->set_note(note);
    StampOrigin(who.name, now, &records[i]);
  }
  // On the sequencer thread: hand over to an answer thread, which reads the
  // applied cases back.
  SubmitAll(sequencer_, std::move(records),
            [this, ids, done = std::move(done)](std::vector<sequencer::CommandResult>& results) {
              boost::asio::post(*answers_, [this, ids, done, results = std::move(results)] {
                std::vector<CaseOutcome> out(ids.size());
                for (size_t i = 0; i < ids.size(); ++i) {
                  out[i].id = ids[i];
                  if (!results[i].applied) {
                    out[i].failure = CommandFailure(results[i]);
                  } else if (!store_->GetCase(ids[i], &out[i].c).ok()) {
                    out[i].failure = StoreFailed();
                  }
                }
                done(std::move(out));
              });
            });
}

void HubCommands::LoadReference(v1::ReferenceBatch batch, const ApiToken& who,
                                std::function<void(Answer)> done) {
  std::vector<v1::LogRecord> records(batch.changes_size());
  const int64_t now = NowMs();
  for (int i = 0; i < batch.changes_size(); ++i) {
    *records[i].mutable_reference() = std::move(*batch.mutable_changes(i));
    StampOrigin(who.name, now, &records[i]);
  }
  const size_t n = records.size();
  // All queued at once, so they share group commits; the sequencer keeps
  // their order.
  SubmitAll(sequencer_, std::move(records),
            [this, n, done = std::move(done)](std::vector<sequencer::CommandResult>& results) {
              boost::asio::post(*answers_, [n, done, results = std::move(results)] {
              v1::ReferenceApplied out;
              const sequencer::CommandResult* failed = nullptr;
              for (const auto& r : results) {
                if (!r.applied) {
                  if (failed == nullptr) failed = &r;
                  continue;
                }
                out.set_applied(out.applied() + 1);
                out.set_last_hub_seq(std::max(out.last_hub_seq(), r.hub_seq));
              }
              if (failed == nullptr) return done(out);
              Failure f = CommandFailure(*failed);
              f.message = std::to_string(out.applied()) + " of " + std::to_string(n) +
                          " changes applied: " + f.message;
              done(f);
              });
            });
}

}  // namespace hub::api
