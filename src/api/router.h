#pragma once

// The supervisor API (docs/api.md) between HTTP and the hub. Every path
// under /v1/ comes here on the HTTP thread, which it never blocks:
//
//   GET /v1/hub                          answered at once (atomics)
//   GET lists, cases, views, summary,    a query thread (HubQueries)
//       report
//   GET /v1/exceptions/stream            a stream (CaseStream)
//   POST actions, reference data         the sequencer; answered from the
//                                        commit (HubCommands)
//   POST /v1/admin/backup                the backup thread
//
// Failures are typed (api_error.h) and become HTTP answers in render.cc
// only. Every write leaves an event=api_action log line with who did it.

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "api/auth.h"
#include "api/case_stream.h"
#include "api/commands.h"
#include "api/hub_queries.h"
#include "net/http_server.h"
#include "sequencer/sequencer.h"
#include "store/rocksdb_store.h"

namespace hub::api {

struct ApiSources {
  sequencer::Sequencer* sequencer = nullptr;
  store::RocksDbStore* store = nullptr;
  const std::atomic<bool>* ready = nullptr;
  std::vector<ApiToken> tokens;
  size_t query_threads = 2;
  // Run on the query thread before each query (tests hold queries with it).
  std::function<void()> before_query;
};

class ApiRouter {
 public:
  explicit ApiRouter(ApiSources sources);
  ~ApiRouter();

  void Handle(net::HttpRequest request, net::HttpReply reply);
  // The sequencer's on_cases hook: feeds the stream.
  void PublishCases(std::vector<store::CaseChange>&& changes) { stream_.Publish(std::move(changes)); }
  // Ends the streams and waits for queries and a backup in progress.
  void Stop();

 private:
  void RunQuery(net::HttpReply reply, std::function<Answer()> query);
  void CaseAction(const net::HttpRequest& r, const ApiToken& who, const std::string& id_text,
                  const std::string& verb, net::HttpReply reply);
  void BulkAction(const net::HttpRequest& r, const ApiToken& who, const std::string& verb,
                  net::HttpReply reply);
  void LoadReference(const net::HttpRequest& r, const ApiToken& who, net::HttpReply reply);
  void Backup(const net::HttpRequest& r, const ApiToken& who, net::HttpReply reply);
  void Stream(const net::HttpRequest& r, net::HttpReply reply);

  ApiSources src_;
  boost::asio::thread_pool queries_;
  // Writes read back what they changed here (point reads), so a slow query
  // never holds up a write's answer.
  boost::asio::thread_pool answers_{1};
  boost::asio::thread_pool backups_{1};
  std::atomic<bool> backup_running_{false};
  HubQueries hub_;
  HubCommands commands_;
  CaseStream stream_;
};

// The answer for a request the HTTP server refused before any handler (a
// body over 1 MiB, malformed HTTP): JSON under /v1/, plain text elsewhere.
net::HttpResponse RenderServerError(const std::string& target, int status, const std::string& message);

}  // namespace hub::api
