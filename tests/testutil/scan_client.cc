#include "testutil/scan_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

namespace hub::testutil {

namespace asio = boost::asio;

const char* HubdPath() { return HUBD_PATH; }

ScanClient::ScanClient(uint16_t port, const ClientTls* tls, const std::string& source)
    : socket_(io_), decoder_(16 << 20) {
  if (!source.empty()) {
    socket_.open(asio::ip::tcp::v4());
    socket_.bind(asio::ip::tcp::endpoint(asio::ip::make_address(source), 0));
  }
  socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  socket_.set_option(asio::ip::tcp::no_delay(true));
  if (tls == nullptr) return;
  namespace ssl = asio::ssl;
  tls_context_ = std::make_unique<ssl::context>(ssl::context::tls_client);
  tls_context_->load_verify_file(tls->ca);
  if (!tls->cert.empty()) {
    tls_context_->use_certificate_chain_file(tls->cert);
    tls_context_->use_private_key_file(tls->key, ssl::context::pem);
  }
  tls_context_->set_verify_mode(ssl::verify_peer);
  tls_ = std::make_unique<ssl::stream<asio::ip::tcp::socket&>>(socket_, *tls_context_);
  boost::system::error_code ec;
  tls_->handshake(ssl::stream_base::client, ec);
  if (ec) {
    handshake_error_ = ec.message();
    eof_ = true;
  }
}

std::string ScanClient::PeerCommonName() {
  if (!tls_) return "";
  X509* cert = SSL_get1_peer_certificate(tls_->native_handle());
  if (cert == nullptr) return "";
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
  X509_free(cert);
  return cn;
}

ScanClient::~ScanClient() {
  boost::system::error_code ec;
  socket_.close(ec);
}

int64_t ScanClient::Hello(const std::string& scanner_id, const std::string& station,
                          const std::string& credential, v1::ServerFrame* answer) {
  v1::ClientFrame f;
  f.mutable_hello()->set_scanner_id(scanner_id);
  f.mutable_hello()->set_station(station);
  f.mutable_hello()->set_credential(credential);
  f.mutable_hello()->set_version(v1::PROTOCOL_VERSION_1);
  SendFrame(f);
  v1::ServerFrame reply;
  const bool got = Read(&reply);
  if (answer != nullptr) *answer = reply;
  if (!got || !reply.has_welcome()) return -1;
  return static_cast<int64_t>(reply.welcome().last_durable_seq());
}

void ScanClient::Send(const v1::ScanEvent& event) { SendAll({event}); }

void ScanClient::SendAll(const std::vector<v1::ScanEvent>& events) {
  std::string bytes;
  v1::ClientFrame f;
  for (const auto& e : events) {
    *f.mutable_event() = e;
    codec::AppendFrame(f, &bytes);
  }
  SendRaw(bytes);
}

void ScanClient::SendFrame(const v1::ClientFrame& frame) {
  std::string bytes;
  codec::AppendFrame(frame, &bytes);
  SendRaw(bytes);
}

void ScanClient::SendRaw(const std::string& bytes) {
  boost::system::error_code ec;
  if (tls_) {
    asio::write(*tls_, asio::buffer(bytes), ec);
  } else {
    asio::write(socket_, asio::buffer(bytes), ec);  // a closed peer shows up on Read()
  }
}

void ScanClient::ShutdownSend() {
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

bool ScanClient::Fill(int timeout_ms) {
  if (eof_) return false;
  if (!tls_ || SSL_pending(tls_->native_handle()) == 0) {
    pollfd p{socket_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
  }
  char buf[65536];
  boost::system::error_code ec;
  size_t n = tls_ ? tls_->read_some(asio::buffer(buf), ec) : socket_.read_some(asio::buffer(buf), ec);
  if (ec || n == 0) {
    eof_ = true;
    return false;
  }
  decoder_.Append(buf, n);
  return true;
}

bool ScanClient::Read(v1::ServerFrame* frame, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    std::string_view bytes;
    auto r = decoder_.Next(&bytes);
    if (r == codec::FrameDecoder::Result::kFrame) {
      if (!frame->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
      if (frame->has_ack()) last_ack_ = std::max(last_ack_, frame->ack().acked_seq());
      return true;
    }
    if (r != codec::FrameDecoder::Result::kNeedMore) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0 || !Fill(static_cast<int>(left))) return false;
  }
}

uint64_t ScanClient::WaitForAck(uint64_t seq, std::vector<v1::ServerFrame>* others,
                                int timeout_ms) {
  v1::ServerFrame f;
  while (last_ack_ < seq && Read(&f, timeout_ms)) {
    if (!f.has_ack() && others != nullptr) others->push_back(f);
  }
  return last_ack_;
}

bool ScanClient::WaitClosed(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  v1::ServerFrame f;
  while (std::chrono::steady_clock::now() < deadline) {
    if (eof_) return true;
    if (!Read(&f, 100) && eof_) return true;
  }
  return eof_;
}

// ---------------------------------------------------------------------------

CommandResult RunCommand(const std::string& cmd) {
  CommandResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool ReadyPorts(const std::string& log, uint16_t* port, uint16_t* http_port) {
  // logfmt: ... event=ready listen=127.0.0.1:P http=127.0.0.1:P ...
  // json:   ..."event":"ready","listen":"127.0.0.1:P","http":"127.0.0.1:P"...
  for (const auto& [ready, http] : {std::pair<std::string, std::string>{"event=ready listen=127.0.0.1:",
                                                                         " http=127.0.0.1:"},
                                    {R"("event":"ready","listen":"127.0.0.1:)", R"(","http":"127.0.0.1:)"}}) {
    const auto at = log.find(ready);
    const auto h = log.find(http, at);
    if (at == std::string::npos || h == std::string::npos) continue;
    *port = static_cast<uint16_t>(std::stoi(log.substr(at + ready.size())));
    *http_port = static_cast<uint16_t>(std::stoi(log.substr(h + http.size())));
    return true;
  }
  return false;
}

DaemonProcess::DaemonProcess(const std::string& data_dir, std::vector<std::string> extra,
                             std::vector<std::string> wrapper) {
  static int counter = 0;
  log_path_ = data_dir + ".log." + std::to_string(::getpid()) + "." + std::to_string(++counter);
  std::vector<std::string> args = {HubdPath(), "--data-dir", data_dir};
  for (const char* flag : {"--listen", "--http"})
    if (std::find(extra.begin(), extra.end(), flag) == extra.end())
      args.insert(args.end(), {flag, "127.0.0.1:0"});
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.begin(), wrapper.begin(), wrapper.end());
  pid_ = Spawn(std::move(args), log_path_);
  for (int i = 0; i < 400 && port_ == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    if (ReadyPorts(Log(), &port_, &http_port_)) break;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
  }
  if (port_ == 0) ADD_FAILURE() << "hubd did not become ready:\n" << Log();
}

DaemonProcess::~DaemonProcess() {
  Kill();
  ::unlink(log_path_.c_str());
}

pid_t Spawn(std::vector<std::string> argv, const std::string& log, bool append, bool die_with_thread) {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (die_with_thread) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
  }
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
  ::dup2(fd, 1);
  ::dup2(fd, 2);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  ::_exit(127);
}

int WaitExit(pid_t* pid, int timeout_ms) {
  int status = 0;
  for (int waited = 0; *pid > 0 && waited <= timeout_ms; waited += 10) {
    if (::waitpid(*pid, &status, WNOHANG) == *pid) {
      *pid = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

BackgroundCommand::BackgroundCommand(std::vector<std::string> argv, std::string out)
    : out_(std::move(out)), pid_(Spawn(std::move(argv), out_)) {}

BackgroundCommand::~BackgroundCommand() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::unlink(out_.c_str());
}

std::string BackgroundCommand::Output() const {
  std::ifstream in(out_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool BackgroundCommand::WaitFor(const std::string& text) const {
  for (int i = 0; i < 1000; ++i) {
    if (Output().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void BackgroundCommand::Signal(int sig) const { ::kill(pid_, sig); }

int BackgroundCommand::Stop(int sig) {
  Signal(sig);
  return Wait();
}

int DaemonProcess::Terminate(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const int code = WaitExit(&pid_, timeout_ms);
  if (pid_ > 0) Kill();
  return code;
}

void DaemonProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string DaemonProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace hub::testutil
