#include "testutil/nats_server.h"

#include <gtest/gtest.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "feed/nats_client.h"
#include "testutil/http_client.h"
#include "testutil/scan_client.h"

namespace hub::testutil {

namespace {

using Clock = std::chrono::steady_clock;

// A fresh directory under the system's temporary directory.
std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << tmpl << " failed";
  return tmpl;
}

// True when something accepts TCP connections on 127.0.0.1:port.
bool Accepts(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

// `n` distinct loopback ports nobody listens on right now.
std::vector<uint16_t> FreePorts(size_t n) {
  std::set<uint16_t> seen;
  std::vector<uint16_t> out;
  while (out.size() < n) {
    const uint16_t p = FreePort();
    if (p != 0 && seen.insert(p).second) out.push_back(p);
  }
  return out;
}

std::vector<std::string> SplitUrls(const std::string& urls) {
  std::vector<std::string> out;
  std::stringstream in(urls);
  std::string url;
  while (std::getline(in, url, ','))
    if (!url.empty()) out.push_back(url);
  return out;
}

std::unique_ptr<feed::NatsClient> Connect(const std::string& urls, std::string* error,
                                          int64_t timeout_ms = 5000,
                                          const jsOptions* js_options = nullptr) {
  feed::NatsOptions o;
  o.servers = SplitUrls(urls);
  o.name = "hub-tests";
  o.timeout_ms = timeout_ms;
  std::string why;
  auto client = feed::NatsClient::Connect(o, &why, js_options);
  if (!client) *error = "cannot connect to " + urls + ": " + why;
  return client;
}

}  // namespace

// --- NatsServer -------------------------------------------------------------

NatsServer::NatsServer(std::string name, std::vector<std::string> extra_args)
    : name_(std::move(name)), extra_args_(std::move(extra_args)) {
  dir_ = MakeTempDir("hub-nats-" + name_);
  Start();
}

NatsServer::NatsServer(ClusterNode, std::string name, std::string dir, uint16_t port,
                       uint16_t monitor_port)
    : name_(std::move(name)),
      dir_(std::move(dir)),
      owns_dir_(false),
      config_(dir_ + "/nats.conf"),
      port_(port),
      monitor_port_(monitor_port),
      started_once_(true) {}

NatsServer::~NatsServer() {
  if (running()) Stop();
  if (owns_dir_ && !dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string NatsServer::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

std::string NatsServer::Log() const {
  std::ifstream in(dir_ + "/nats-server.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool NatsServer::Launch() {
  if (running()) return true;
  std::vector<std::string> args = {"nats-server"};
  if (config_.empty()) {
    args.insert(args.end(),
                {"-js", "-a", "127.0.0.1", "-p", std::to_string(port_), "-sd", dir_ + "/store",
                 "-m", std::to_string(monitor_port_), "--server_name", name_});
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  } else {
    args.insert(args.end(), {"-c", config_});
  }
  // Dies with the test process (killed, or crashed) instead of lingering.
  pid_ = Spawn(std::move(args), dir_ + "/nats-server.log", true, true);
  if (pid_ < 0) {
    ADD_FAILURE() << "fork failed";
    return false;
  }
  return true;
}

bool NatsServer::WaitReady(int timeout_ms, bool report) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string last;
  while (Clock::now() < deadline) {
    int status = 0;
    if (pid_ <= 0 || ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (report)
        ADD_FAILURE() << "nats-server " << name_ << " exited before it was ready:\n" << Log();
      return false;
    }
    const HttpResult h = HttpCall(monitor_port_, "GET", "/healthz");
    if (h.status == 200 && Accepts(port_)) return true;
    last = h.body;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  if (report)
    ADD_FAILURE() << "nats-server " << name_ << " not ready within " << timeout_ms
                  << " ms (last /healthz: " << last << "):\n"
                  << Log();
  return false;
}

bool NatsServer::Start(int timeout_ms) {
  if (running()) return WaitReady(timeout_ms, true);
  if (!started_once_) {
    // The ports were free when chosen; another process may take one before
    // the server binds it. Then choose again (the store is still empty).
    for (int attempt = 0;; ++attempt) {
      const auto ports = FreePorts(2);
      port_ = ports[0];
      monitor_port_ = ports[1];
      if (!Launch()) return false;
      if (WaitReady(timeout_ms, false)) {
        started_once_ = true;
        return true;
      }
      const bool taken = !running() && Log().find("address already in use") != std::string::npos;
      if (!taken || attempt == 2) {
        ADD_FAILURE() << "nats-server " << name_ << " did not become ready within " << timeout_ms
                      << " ms:\n"
                      << Log();
        Kill();
        return false;
      }
    }
  }
  return Launch() && WaitReady(timeout_ms, true);
}

int NatsServer::Stop(int timeout_ms) {
  if (!running()) return -1;
  ::kill(pid_, SIGTERM);
  const int code = WaitExit(&pid_, timeout_ms);
  if (running()) Kill();
  return code;
}

void NatsServer::Kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

// --- NatsCluster ------------------------------------------------------------

NatsCluster::NatsCluster(int n, int timeout_ms) {
  dir_ = MakeTempDir("hub-nats-cluster");
  const auto ports = FreePorts(3 * static_cast<size_t>(n));  // client, route, monitoring per node
  for (int i = 0; i < n; ++i) {
    const std::string name = "n" + std::to_string(i + 1);
    const std::string dir = dir_ + "/" + name;
    std::filesystem::create_directories(dir);
    std::ofstream conf(dir + "/nats.conf");
    conf << "server_name: " << name << "\n"
         << "listen: 127.0.0.1:" << ports[3 * i] << "\n"
         << "http: 127.0.0.1:" << ports[3 * i + 2] << "\n"
         << "jetstream { store_dir: \"" << dir << "/store\" }\n"
         << "cluster {\n  name: hubtest\n  listen: 127.0.0.1:" << ports[3 * i + 1]
         << "\n  routes: [";
    for (int j = 0, first = 1; j < n; ++j) {
      if (j == i) continue;
      conf << (first ? "" : ", ") << "\"nats-route://127.0.0.1:" << ports[3 * j + 1] << "\"";
      first = 0;
    }
    conf << "]\n}\n";
    nodes_.push_back(std::unique_ptr<NatsServer>(
        new NatsServer(NatsServer::ClusterNode{}, name, dir, ports[3 * i], ports[3 * i + 2])));
  }
  // All at once: no node is ready (has a meta leader) before a quorum runs.
  for (auto& node : nodes_) node->Launch();
  WaitReady(timeout_ms);
}

NatsCluster::~NatsCluster() {
  for (auto& node : nodes_)
    if (node->running()) ::kill(node->pid_, SIGTERM);
  nodes_.clear();  // each waits for its process (SIGKILL after 10 s)
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool NatsCluster::WaitReady(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (auto& node : nodes_) {
    if (!node->running()) continue;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (!node->WaitReady(std::max<int>(1, static_cast<int>(left.count())), true)) {
      ADD_FAILURE() << "the cluster is not ready; every node's log:\n" << Logs();
      return false;
    }
  }
  return true;
}

std::vector<std::string> NatsCluster::urls() const {
  std::vector<std::string> out;
  for (const auto& node : nodes_) out.push_back(node->url());
  return out;
}

std::string NatsCluster::url_list() const {
  std::string out;
  for (const auto& url : urls()) out += (out.empty() ? "" : ",") + url;
  return out;
}

std::string NatsCluster::Logs() const {
  std::string out;
  for (const auto& node : nodes_) out += "--- " + node->name() + " ---\n" + node->Log();
  return out;
}

// --- streams ----------------------------------------------------------------

namespace {

// ReadStream's way when no consumer can be made: js_GetMsg for every
// sequence (a request each, answered by the stream's leader).
bool ReadByGetMsg(jsCtx* js, const std::string& stream, uint64_t first, uint64_t last,
                  std::vector<StreamMessage>* out, std::string* error) {
  for (uint64_t seq = std::max<uint64_t>(first, 1); seq <= last; ++seq) {
    natsMsg* m = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetMsg(&m, js, stream.c_str(), seq, nullptr, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) continue;  // deleted
    if (s != NATS_OK) {
      *error = "reading " + stream + " at " + std::to_string(seq) + ": " + feed::NatsError(s, jerr);
      return false;
    }
    StreamMessage sm;
    sm.subject = natsMsg_GetSubject(m);
    sm.seq = seq;
    const char* id = nullptr;
    if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) sm.msg_id = id;
    sm.data.assign(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
    natsMsg_Destroy(m);
    out->push_back(std::move(sm));
  }
  return true;
}

}  // namespace

bool ReadStream(const std::string& urls, const std::string& stream, std::vector<StreamMessage>* out,
                std::string* error, int timeout_ms) {
  out->clear();
  auto client = Connect(urls, error);
  if (!client) return false;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, client->js(), stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) {
    *error = "stream " + stream + ": " + feed::NatsError(s, jerr);
    return false;
  }
  const uint64_t first = si->State.FirstSeq;
  const uint64_t last = si->State.LastSeq;
  const uint64_t count = si->State.Msgs;
  // The ordered consumer takes a subject: the stream's own one takes all.
  const std::string filter = si->Config->SubjectsLen == 1 ? si->Config->Subjects[0] : "";
  jsStreamInfo_Destroy(si);
  if (count == 0) return true;
  out->reserve(count);
  // A request per sequence needs only the stream's leader; a consumer also
  // needs the cluster's meta leader, which may be being elected. The
  // consumer is much faster for a long stream.
  if (filter.empty() || count <= 1000)
    return ReadByGetMsg(client->js(), stream, first, last, out, error);

  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  natsSubscription* sub = nullptr;
  // In a cluster whose node was just killed, the meta leader may place the
  // consumer on that node (until it counts as offline), and the request
  // times out; a new attempt places it anew. Short attempts until
  // timeout_ms, then a request per sequence instead.
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 2000;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    jerr = static_cast<jsErrCode>(0);
    s = js_SubscribeSync(&sub, client->js(), filter.c_str(), &jo, &so, &jerr);
    if (s == NATS_OK) break;
    const bool transient =
        s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || jerr == JSClusterNotAvailErr;
    if (!transient) {
      *error = "reading " + stream + ": " + feed::NatsError(s, jerr);
      return false;
    }
    if (Clock::now() >= deadline)
      return ReadByGetMsg(client->js(), stream, first, last, out, error);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Flow control paces the server; no client-side limit to trip over.
  natsSubscription_SetPendingLimits(sub, -1, -1);
  bool ok = true;
  for (bool done = false; !done;) {
    natsMsg* m = nullptr;
    s = natsSubscription_NextMsg(&m, sub, timeout_ms);
    if (s != NATS_OK) {
      *error = "reading " + stream + " after stream sequence " +
               std::to_string(out->empty() ? 0 : out->back().seq) + " of " + std::to_string(last) +
               ": " + feed::NatsError(s);
      ok = false;
      break;
    }
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
      natsMsg_Destroy(m);
      continue;
    }
    StreamMessage sm;
    sm.subject = natsMsg_GetSubject(m);
    sm.seq = meta->Sequence.Stream;
    const char* id = nullptr;
    if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) sm.msg_id = id;
    sm.data.assign(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
    done = sm.seq >= last || meta->NumPending == 0;
    jsMsgMetaData_Destroy(meta);
    natsMsg_Destroy(m);
    out->push_back(std::move(sm));
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return ok;
}

bool ReadStreamLimits(const std::string& urls, const std::string& stream, StreamLimits* out,
                      std::string* error) {
  auto client = Connect(urls, error);
  if (!client) return false;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&si, client->js(), stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) {
    *error = "stream " + stream + ": " + feed::NatsError(s, jerr);
    return false;
  }
  out->max_age_ns = si->Config->MaxAge;
  out->duplicates_ns = si->Config->Duplicates;
  out->replicas = static_cast<int>(si->Config->Replicas);
  jsStreamInfo_Destroy(si);
  return true;
}

bool CreateStream(const std::string& urls, const std::string& name,
                  const std::vector<std::string>& subjects, int replicas, std::string* error) {
  auto client = Connect(urls, error);
  if (!client) return false;
  std::vector<const char*> subs;
  for (const auto& s : subjects) subs.push_back(s.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  cfg.Subjects = subs.data();
  cfg.SubjectsLen = static_cast<int>(subs.size());
  cfg.Storage = js_FileStorage;
  cfg.Replicas = replicas;
  // A cluster that has just formed may not place a stream at once.
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_AddStream(nullptr, client->js(), &cfg, nullptr, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr)
      s = js_UpdateStream(nullptr, client->js(), &cfg, nullptr, &jerr);
    if (s == NATS_OK) return true;
    const bool transient = s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS ||
                           jerr == JSClusterNotAvailErr || jerr == JSInsufficientResourcesErr;
    if (!transient || Clock::now() >= deadline) {
      *error = "stream " + name + ": " + feed::NatsError(s, jerr);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

bool WaitStream(const std::string& urls, const std::string& stream, std::string* leader,
                std::string* error, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_ptr<feed::NatsClient> client;
  while (Clock::now() < deadline) {
    if (!client) client = Connect(urls, error, 1000);
    if (client) {
      jsOptions jo;
      jsOptions_Init(&jo);
      jo.Wait = 1000;
      jsStreamInfo* si = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      const natsStatus s = js_GetStreamInfo(&si, client->js(), stream.c_str(), &jo, &jerr);
      if (s == NATS_OK) {
        bool led =
            si->Cluster == nullptr || (si->Cluster->Leader != nullptr && *si->Cluster->Leader);
        // The meta leader answers account info: consumers can be made.
        jsAccountInfo* ai = nullptr;
        if (led && js_GetAccountInfo(&ai, client->js(), &jo, &jerr) != NATS_OK) led = false;
        if (ai != nullptr) jsAccountInfo_Destroy(ai);
        if (leader != nullptr)
          *leader =
              si->Cluster != nullptr && si->Cluster->Leader != nullptr ? si->Cluster->Leader : "";
        jsStreamInfo_Destroy(si);
        if (led) return true;
        *error = "stream " + stream + " has no leader";
      } else {
        *error = "stream " + stream + ": " + feed::NatsError(s, jerr);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

namespace {

struct PublishErrors {
  std::mutex mu;
  std::string first;
};

void OnPublishError(jsCtx*, jsPubAckErr* pae, void* closure) {
  auto* errors = static_cast<PublishErrors*>(closure);
  std::lock_guard<std::mutex> lock(errors->mu);
  if (!errors->first.empty()) return;
  errors->first = std::string(natsMsg_GetSubject(pae->Msg)) + ": " + natsStatus_GetText(pae->Err) +
                  (pae->ErrText ? std::string(" ") + pae->ErrText : "") +
                  (pae->ErrCode ? " (JetStream error " + std::to_string(pae->ErrCode) + ")" : "");
}

}  // namespace

bool PublishAll(const std::string& urls, const std::vector<OutMessage>& messages,
                std::string* error, int timeout_ms) {
  PublishErrors errors;  // outlives the connection, whose thread reports to it
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = 4096;
  jo.PublishAsync.StallWait = timeout_ms;
  jo.PublishAsync.ErrHandler = OnPublishError;
  jo.PublishAsync.ErrHandlerClosure = &errors;
  auto client = Connect(urls, error, 5000, &jo);
  if (!client) return false;
  jsCtx* js = client->js();
  natsStatus s = NATS_OK;
  for (size_t i = 0; s == NATS_OK && i < messages.size(); ++i) {
    const auto& om = messages[i];
    natsMsg* m = nullptr;
    s = natsMsg_Create(&m, om.subject.c_str(), nullptr, om.data.data(),
                       static_cast<int>(om.data.size()));
    if (s == NATS_OK && !om.msg_id.empty())
      s = natsMsgHeader_Set(m, "Nats-Msg-Id", om.msg_id.c_str());
    if (s == NATS_OK) s = js_PublishMsgAsync(js, &m, nullptr);
    natsMsg_Destroy(m);  // null once the library owns it
    if (s != NATS_OK) *error = "publishing " + om.subject + ": " + feed::NatsError(s);
  }
  if (s == NATS_OK) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = timeout_ms;
    s = js_PublishAsyncComplete(js, &po);
    if (s != NATS_OK) *error = "waiting for the acknowledgements: " + feed::NatsError(s);
  }
  std::lock_guard<std::mutex> lock(errors.mu);
  if (s == NATS_OK && !errors.first.empty()) {
    *error = "refused: " + errors.first;
    return false;
  }
  return s == NATS_OK;
}

}  // namespace hub::testutil
