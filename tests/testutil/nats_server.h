#pragma once

// Real nats-server processes for integration tests (the feed, hubctl feed
// tail): a standalone JetStream server and a JetStream cluster, on loopback
// ports, each with its store in a temporary directory that the destructor
// removes. Every wait is bounded; a server that does not become ready is a
// test failure (gtest ADD_FAILURE) with its log attached.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hub::testutil {

// One nats-server child process. It keeps its ports and store directory for
// its whole life, so Start() after Stop() or Kill() is the same server
// again, JetStream data included. The process gets SIGKILL when the thread
// that started it ends (PR_SET_PDEATHSIG), so a crashed test leaves no
// server behind: start servers from the test's own thread.
class NatsServer {
 public:
  // A standalone server with JetStream: nats-server -js -a 127.0.0.1 -p P
  // -sd DIR/store -m M --server_name NAME plus `extra_args` (e.g. --tls
  // ...), started (see Start()).
  explicit NatsServer(std::string name = "hubtest", std::vector<std::string> extra_args = {});
  ~NatsServer();  // stops the server (SIGTERM, then SIGKILL) and removes the directory
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // Starts the process and waits (up to timeout_ms) until it is ready: its
  // monitoring endpoint's /healthz answers ok (JetStream enabled; in a
  // cluster also in contact with a meta leader and current) and its client
  // port accepts connections. False, with a test failure, otherwise. The
  // first start of a standalone server picks new ports when the ones it
  // chose were taken meanwhile.
  bool Start(int timeout_ms = 10000);
  // SIGTERM and wait (up to timeout_ms, then SIGKILL). Returns the exit
  // status (nats-server exits 1 after a clean shutdown on SIGTERM), -1 if
  // it had to be killed or was not running.
  int Stop(int timeout_ms = 10000);
  void Kill();  // SIGKILL and reap
  bool running() const { return pid_ > 0; }

  const std::string& name() const { return name_; }
  std::string url() const;  // nats://127.0.0.1:<port>
  uint16_t port() const { return port_; }
  uint16_t monitor_port() const { return monitor_port_; }
  const std::string& dir() const { return dir_; }
  std::string Log() const;  // stdout and stderr of every start, in DIR/nats-server.log

 private:
  friend class NatsCluster;
  struct ClusterNode {};
  // A cluster node: started with -c `config`, which the cluster writes.
  NatsServer(ClusterNode, std::string name, std::string dir, uint16_t port, uint16_t monitor_port);

  bool Launch();  // fork + exec, no wait
  bool WaitReady(int timeout_ms, bool report);

  std::string name_;
  std::string dir_;
  bool owns_dir_ = true;
  std::string config_;  // cluster node: its config file; empty: standalone flags
  std::vector<std::string> extra_args_;
  uint16_t port_ = 0;
  uint16_t monitor_port_ = 0;
  bool started_once_ = false;
  pid_t pid_ = -1;
};

// A JetStream cluster of n nodes (default 3) on loopback, named "hubtest":
// node i is server_name n<i+1>, with its own client, route and monitoring
// ports and store, routes to every other node. Ready when every node's
// /healthz is ok, which needs a JetStream meta leader.
class NatsCluster {
 public:
  explicit NatsCluster(int nodes = 3, int timeout_ms = 20000);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int size() const { return static_cast<int>(nodes_.size()); }
  NatsServer& node(int i) { return *nodes_.at(i); }
  std::vector<std::string> urls() const;  // every node's client URL
  std::string url_list() const;           // the same, comma-joined
  // Waits until every running node is ready (see NatsServer::Start()).
  bool WaitReady(int timeout_ms = 20000);
  const std::string& dir() const { return dir_; }
  std::string Logs() const;  // every node's log, each under a heading

 private:
  std::string dir_;
  std::vector<std::unique_ptr<NatsServer>> nodes_;
};

// A message of a stream as ReadStream returns it.
struct StreamMessage {
  std::string subject;
  uint64_t seq = 0;    // stream sequence
  std::string msg_id;  // the Nats-Msg-Id header; empty if none
  std::string data;    // the payload as published (a FeedMessage's bytes, say)
};

// Every message of `stream`, in stream order, from the servers in `urls`
// (one URL, or several comma-joined), up to the stream's last sequence as
// of the call. More than 1,000 messages are read through an ordered
// consumer (100,000 small ones in under a second); up to 1,000, a stream of
// several subjects, or one for which no consumer can be made within
// timeout_ms (a cluster electing its meta leader), with a request per
// sequence (js_GetMsg, some 3,500 a second, needing only the stream's
// leader). False with *error set when the servers cannot be reached, the
// stream does not exist or the read stalls (no message for timeout_ms).
bool ReadStream(const std::string& urls, const std::string& stream, std::vector<StreamMessage>* out,
                std::string* error, int timeout_ms = 10000);

// Creates (or updates to) a file-stored stream `name` over `subjects` with
// `replicas` replicas. False with *error set when refused.
bool CreateStream(const std::string& urls, const std::string& name,
                  const std::vector<std::string>& subjects, int replicas, std::string* error);

// The limits of `stream` as its configuration says (nanoseconds).
struct StreamLimits {
  int64_t max_age_ns = 0;
  int64_t duplicates_ns = 0;
  int replicas = 0;
};
bool ReadStreamLimits(const std::string& urls, const std::string& stream, StreamLimits* out,
                      std::string* error);

// Waits until `stream` answers (in a cluster: has a leader, say after its
// leader's node was killed) and JetStream takes requests (in a cluster: has
// a meta leader, so consumers can be created). *leader (may be null) gets
// the stream leader's server name. False with *error set on timeout.
bool WaitStream(const std::string& urls, const std::string& stream, std::string* leader,
                std::string* error, int timeout_ms = 20000);

// A message to publish: its subject, Nats-Msg-Id (empty: none) and payload.
struct OutMessage {
  std::string subject;
  std::string msg_id;
  std::string data;
};
// Publishes the messages through JetStream in order on one connection,
// pipelined (asynchronous publishes, up to 4,096 unacknowledged), and waits
// until the stream acknowledged every one. False with *error set when one
// was refused or the acknowledgements did not come within timeout_ms.
bool PublishAll(const std::string& urls, const std::vector<OutMessage>& messages,
                std::string* error, int timeout_ms = 30000);

}  // namespace hub::testutil
