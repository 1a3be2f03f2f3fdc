#include "feed/nats_client.h"

#include <algorithm>
#include <chrono>

#include "feed/feed_names.h"

namespace hub::feed {

std::string NatsError(natsStatus s, jsErrCode js_err) {
  std::string out = natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && out != last) out += std::string(": ") + last;
  if (js_err != 0) out += " (JetStream error " + std::to_string(static_cast<int>(js_err)) + ")";
  return out;
}

StreamSpec DispatchStreamSpec(int replicas) {
  return {std::string(kDispatchStream), "dispatch.>", replicas, std::chrono::hours(72), {}};
}

natsStatus EnsureStream(jsCtx* js, const StreamSpec& spec, bool create, bool* created, jsErrCode* js_err) {
  *created = false;
  *js_err = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, js, spec.name.c_str(), nullptr, js_err);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return NATS_OK;
  }
  if (s != NATS_NOT_FOUND && *js_err != JSStreamNotFoundErr) return s;
  if (!create) return NATS_NOT_FOUND;
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const char* subjects[] = {spec.subject.c_str()};
  cfg.Name = spec.name.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = spec.replicas;
  cfg.MaxAge = spec.max_age.count();
  cfg.Duplicates = spec.duplicates.count();
  *js_err = static_cast<jsErrCode>(0);
  s = js_AddStream(&si, js, &cfg, nullptr, js_err);
  if (s != NATS_OK) return s;
  jsStreamInfo_Destroy(si);
  *created = true;
  return NATS_OK;
}

NatsClient::~NatsClient() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) {
    natsConnection_Close(nc_);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [this] { return closed_; });
    lock.unlock();
    natsConnection_Destroy(nc_);
  }
}

bool NatsClient::connected() const {
  return nc_ != nullptr && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

std::unique_ptr<NatsClient> NatsClient::Connect(const NatsOptions& o, std::string* error,
                                                const jsOptions* js_options) {
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  std::vector<const char*> servers;
  for (const auto& url : o.servers) servers.push_back(url.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetName(opts, o.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, o.timeout_ms);
  if (s == NATS_OK && o.reconnect_forever) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  // A server that stops reading must not block a publish for ever (the
  // library's default): the write fails, the connection is rebuilt and the
  // feed resyncs. Pings find a dead connection in seconds, not minutes.
  if (s == NATS_OK) s = natsOptions_SetWriteDeadline(opts, std::max<int64_t>(5 * o.timeout_ms, 5000));
  if (s == NATS_OK) s = natsOptions_SetPingInterval(opts, 5000);
  if (s == NATS_OK && !o.creds_file.empty())
    s = natsOptions_SetUserCredentialsFromFiles(opts, o.creds_file.c_str(), nullptr);
  if (s == NATS_OK && !o.ca_file.empty()) {
    s = natsOptions_SetSecure(opts, true);
    if (s == NATS_OK) s = natsOptions_LoadCATrustedCertificates(opts, o.ca_file.c_str());
  }
  if (s == NATS_OK && !o.cert_file.empty())
    s = natsOptions_LoadCertificatesChain(opts, o.cert_file.c_str(), o.key_file.c_str());
  std::unique_ptr<NatsClient> client(new NatsClient);
  client->on_state_ = o.on_state;
  auto closed = [](natsConnection*, void* p) {
    auto* self = static_cast<NatsClient*>(p);
    if (self->on_state_) self->on_state_(false);
    std::lock_guard lock(self->mu_);
    self->closed_ = true;
    self->cv_.notify_all();
  };
  if (s == NATS_OK) s = natsOptions_SetClosedCB(opts, closed, client.get());
  if (s == NATS_OK && client->on_state_) {
    auto down = [](natsConnection*, void* self) { static_cast<NatsClient*>(self)->on_state_(false); };
    auto up = [](natsConnection*, void* self) { static_cast<NatsClient*>(self)->on_state_(true); };
    s = natsOptions_SetDisconnectedCB(opts, down, client.get());
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts, up, client.get());
  }
  // libnats turns TLS on from the options, not from a tls:// URL.
  for (const auto& url : o.servers)
    if (s == NATS_OK && url.starts_with("tls://")) s = natsOptions_SetSecure(opts, true);
  if (s == NATS_OK) s = natsConnection_Connect(&client->nc_, opts);
  if (s == NATS_OK && client->on_state_) client->on_state_(true);
  jsOptions jso;
  if (s == NATS_OK) s = jsOptions_Init(&jso);
  if (s == NATS_OK && js_options != nullptr) jso = *js_options;
  if (s == NATS_OK) {
    jso.Wait = o.timeout_ms;
    s = natsConnection_JetStream(&client->js_, client->nc_, &jso);
  }
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    if (error != nullptr) *error = NatsError(s);
    return nullptr;
  }
  return client;
}

}  // namespace hub::feed
