// hub_ingest_bench: end-to-end acked events/s and ack latency of a real hubd
// over loopback. Starts a fresh hubd (its own temp data directory, routes
// seeded), drives it from one client thread with N connections, prints one
// result line, stops hubd with SIGTERM. A benchmark, not a test: it reports,
// it asserts nothing.
//
//   hub_ingest_bench --hubd build/hubd --connections 4 --events 400000
//       --frames-per-write 64 --window 8192 --durability wal [--rate 100000]
//
// Each connection is one scanner streaming unbag/sort/bag scans of its own
// parcels, pre-serialized so the client spends its time on the socket.
// Latency of an event = its ack's arrival - the moment its frame was
// written; every event is measured.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "codec/frame_codec.h"
#include "net/scan_stream.h"
#include "hub/v1/session.pb.h"
#include "store/rocksdb_store.h"
#include "testutil/events.h"

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using hub::v1::ClientFrame;
using hub::v1::ServerFrame;

struct Config {
  std::string hubd = "build/hubd";
  int connections = 4;
  size_t events = 400'000;  // in total
  size_t frames_per_write = 64;
  size_t window = 8192;     // unacked events per connection
  double rate = 0;          // events/s offered in total; 0: flat out
  std::string durability = "wal";
  int io_threads = 2;
  // Instead of hubd, the ceiling of its ingest path (AckServer).
  bool ack_server = false;
  // Supervisor load while ingesting: GET /v1/exceptions requests per second
  // (one client, keep-alive), and the share of sorts with no route (so the
  // list has cases to page through).
  double query_rate = 0;
  int no_route_percent = 0;
  // "exceptions": page through the NO_ROUTE list; "trace": GET
  // /v1/parcels/{id} of a random parcel among the first tenth of each
  // connection's parcels (acked early in the run).
  std::string query_kind = "exceptions";
  bool tls = false;
};

constexpr int kRoutes = 20;

struct Connection {
  std::optional<hub::net::ScanStream> stream;
  asio::steady_timer timer;
  hub::codec::FrameDecoder decoder{1 << 20};
  std::string hello;
  std::string frames;            // every event frame, back to back
  std::vector<size_t> offsets;   // offsets[i] = start of event i+1 (seq i+1)
  std::vector<Clock::time_point> sent_at;
  size_t sent = 0, acked = 0;
  bool writing = false, welcomed = false;
  std::array<char, 65536> buf;
  explicit Connection(asio::io_context& io) : timer(io) {}
};

class Driver {
 public:
  // `tls`: speak TLS to the daemon, trusting this context's CAs.
  Driver(const Config& c, uint16_t port, std::shared_ptr<asio::ssl::context> tls)
      : cfg_(c), port_(port), tls_(std::move(tls)) {}

  void Prepare() {
    const size_t per = cfg_.events / cfg_.connections;
    for (int i = 0; i < cfg_.connections; ++i) {
      auto c = std::make_unique<Connection>(io_);
      const std::string id = "BENCH-" + std::to_string(i);
      hub::testutil::Scanner s(id);
      ClientFrame f;
      f.mutable_hello()->set_scanner_id(id);
      f.mutable_hello()->set_station("BENCH");
      f.mutable_hello()->set_version(hub::v1::PROTOCOL_VERSION_1);
      hub::codec::AppendFrame(f, &c->hello);
      c->offsets.push_back(0);
      for (size_t n = 0; n < per; ++n) {
        const std::string p = id + "-P" + std::to_string(n / 3);
        switch (n % 3) {
          case 0: *f.mutable_event() = s.ParcelUnbagged(p, id + "-B" + std::to_string(n / 90)); break;
          case 1: {
            const bool lost = static_cast<int>((n / 3) % 100) < cfg_.no_route_percent;
            *f.mutable_event() = s.ParcelSorted(p, lost ? "D-NOWHERE" : "D" + std::to_string(n % kRoutes));
            break;
          }
          default: *f.mutable_event() = s.ParcelBagged(p, id + "-OB" + std::to_string(n / 90)); break;
        }
        hub::codec::AppendFrame(f, &c->frames);
        c->offsets.push_back(c->frames.size());
      }
      c->sent_at.resize(per + 1);
      total_ += per;
      conns_.push_back(std::move(c));
    }
    latencies_us_.reserve(total_);
  }

  void Run() {
    for (auto& c : conns_) {
      asio::ip::tcp::socket socket(io_);
      socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
      socket.set_option(asio::ip::tcp::no_delay(true));
      if (tls_) {
        c->stream.emplace(std::move(socket), tls_, asio::ssl::stream_base::client);
      } else {
        c->stream.emplace(std::move(socket));
      }
      Connection* conn = c.get();
      conn->stream->AsyncHandshake([this, conn](const boost::system::error_code& ec) {
        if (ec) return Fail(*conn, ec);
        conn->writing = true;
        conn->stream->AsyncWrite(asio::buffer(conn->hello), [this, conn](const boost::system::error_code& wec, size_t) {
          conn->writing = false;
          if (wec) return Fail(*conn, wec);
          Read(*conn);
        });
      });
    }
    // Handshakes and hellos first, so the clock measures the scans only.
    while (welcomed_ < conns_.size() && !io_.stopped()) io_.run_one();
    start_ = Clock::now();
    started_ = true;
    for (auto& c : conns_) Tick(*c);
    io_.run();
  }

  void Report(const char* label, const std::string& extra = "") {
    std::sort(latencies_us_.begin(), latencies_us_.end());
    auto pct = [&](double p) {
      if (latencies_us_.empty()) return 0.0;
      return latencies_us_[std::min(latencies_us_.size() - 1,
                                    static_cast<size_t>(p * latencies_us_.size()))] / 1000.0;
    };
    const double secs = std::chrono::duration<double>(end_ - start_).count();
    std::printf(
        "%s tls=%s connections=%d frames_per_write=%zu window=%zu rate=%s durability=%s events=%zu "
        "acked=%zu seconds=%.2f acked_per_s=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f%s\n",
        label, tls_ ? "on" : "off", cfg_.connections, cfg_.frames_per_write, cfg_.window,
        cfg_.rate > 0 ? std::to_string(static_cast<long>(cfg_.rate)).c_str() : "max",
        cfg_.durability.c_str(), total_, acked_total_, secs, acked_total_ / secs, pct(0.5),
        pct(0.9), pct(0.99), latencies_us_.empty() ? 0.0 : latencies_us_.back() / 1000.0,
        extra.c_str());
    std::fflush(stdout);
  }

 private:
  size_t Allowed(const Connection& c) const {
    const size_t per = c.sent_at.size() - 1;
    size_t limit = std::min(per, c.acked + cfg_.window);
    if (cfg_.rate > 0) {
      const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
      limit = std::min(limit, static_cast<size_t>(secs * cfg_.rate / cfg_.connections) + 1);
    }
    return limit;
  }

  // Sends what the window and the rate allow; with a rate, looks again every
  // millisecond.
  void Tick(Connection& c) {
    Pump(c);
    if (cfg_.rate > 0 && c.acked < c.sent_at.size() - 1) {
      c.timer.expires_after(std::chrono::milliseconds(1));
      c.timer.async_wait([this, &c](const boost::system::error_code& ec) {
        if (!ec) Tick(c);
      });
    }
  }

  void Pump(Connection& c) {
    if (c.writing || !c.welcomed || !started_) return;
    const size_t limit = Allowed(c);
    if (c.sent >= limit) return;
    const size_t n = std::min(cfg_.frames_per_write, limit - c.sent);
    const size_t from = c.offsets[c.sent], to = c.offsets[c.sent + n];
    const auto now = Clock::now();
    for (size_t i = 1; i <= n; ++i) c.sent_at[c.sent + i] = now;
    c.sent += n;
    c.writing = true;
    c.stream->AsyncWrite(asio::buffer(c.frames.data() + from, to - from),
                      [this, &c](const boost::system::error_code& ec, size_t) {
                        c.writing = false;
                        if (ec) return Fail(c, ec);
                        Pump(c);
                      });
  }

  void Read(Connection& c) {
    c.stream->AsyncReadSome(asio::buffer(c.buf), [this, &c](const boost::system::error_code& ec,
                                                            size_t n) {
      if (ec) return Fail(c, ec);
      c.decoder.Append(c.buf.data(), n);
      std::string_view bytes;
      ServerFrame f;
      const auto now = Clock::now();
      while (c.decoder.Next(&bytes) == hub::codec::FrameDecoder::Result::kFrame) {
        if (!f.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) continue;
        if (f.has_welcome() && !c.welcomed) {
          c.welcomed = true;
          ++welcomed_;
        }
        if (f.has_reject()) ++rejects_;
        if (f.has_ack()) {
          const size_t a = std::min<size_t>(f.ack().acked_seq(), c.sent);
          for (size_t s = c.acked + 1; s <= a; ++s)
            latencies_us_.push_back(static_cast<uint32_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(now - c.sent_at[s]).count()));
          if (a > c.acked) acked_total_ += a - c.acked;
          c.acked = std::max(c.acked, a);
        }
      }
      if (c.acked == c.sent_at.size() - 1) {
        end_ = now;
        if (++done_ == conns_.size()) io_.stop();
        return;
      }
      Pump(c);
      Read(c);
    });
  }

  void Fail(Connection& c, const boost::system::error_code& ec) {
    std::fprintf(stderr, "connection failed: %s\n", ec.message().c_str());
    end_ = Clock::now();
    io_.stop();
  }

  Config cfg_;
  uint16_t port_;
  asio::io_context io_{1};
  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<uint32_t> latencies_us_;
  std::shared_ptr<asio::ssl::context> tls_;
  bool started_ = false;
  size_t total_ = 0, acked_total_ = 0, done_ = 0, rejects_ = 0, welcomed_ = 0;
  Clock::time_point start_, end_;
};

// The ceiling of hubd's ingest path on this machine: a server (a forked
// process, like hubd) that speaks the session protocol and nothing more. It
// answers a hello with a welcome and each read with one ack of the highest
// seq in it (hubd answers once per group commit), on as many I/O threads as
// hubd; it applies, logs and writes nothing. One-frame-per-send sessions
// against it measure what loopback sockets, framing and parsing allow.
class AckServer {
 public:
  explicit AckServer(int threads) : threads_(threads), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {}
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // Serves until the process is killed.
  void Run() {
    Accept();
    std::vector<std::thread> pool;
    for (int i = 1; i < threads_; ++i) pool.emplace_back([this] { io_.run(); });
    io_.run();
  }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    explicit Session(asio::ip::tcp::socket s) : socket(std::move(s)) {}
    void Read() {
      socket.async_read_some(asio::buffer(decoder.Prepare(64 << 10), 64 << 10),
                             [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                               if (!ec) self->OnRead(n);
                             });
    }
    void OnRead(size_t n) {
      decoder.Commit(n);
      std::string_view bytes;
      uint64_t acked = 0;
      bool hello = false;
      out.clear();
      while (decoder.Next(&bytes) == hub::codec::FrameDecoder::Result::kFrame) {
        if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
        if (in.has_hello()) hello = true;
        if (in.has_event()) acked = std::max(acked, in.event().seq());
      }
      if (hello) {
        reply.mutable_welcome()->set_version(hub::v1::PROTOCOL_VERSION_1);
        hub::codec::AppendFrame(reply, &out);
      }
      if (acked > 0) {
        reply.mutable_ack()->set_acked_seq(acked);
        hub::codec::AppendFrame(reply, &out);
      }
      if (out.empty()) return Read();
      asio::async_write(socket, asio::buffer(out),
                        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                          if (!ec) self->Read();
                        });
    }
    asio::ip::tcp::socket socket;
    hub::codec::FrameDecoder decoder{1 << 20};
    ClientFrame in;
    ServerFrame reply;
    std::string out;
  };
  void Accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket s) {
      if (!ec) {
        s.set_option(asio::ip::tcp::no_delay(true));
        std::make_shared<Session>(std::move(s))->Read();
      }
      Accept();
    });
  }
  int threads_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
};

// Queries the exception list at `rate` per second until `stop`; returns
// the latency of each answered request in microseconds.
std::vector<uint32_t> QueryLoad(uint16_t http_port, const Config& cfg, const std::atomic<bool>& stop,
                                size_t* not_ok) {
  const double rate = cfg.query_rate;
  const bool trace = cfg.query_kind == "trace";
  const size_t parcels = std::max<size_t>(1, cfg.events / cfg.connections / 3 / 10);
  std::mt19937_64 rng(7);
  namespace beast = boost::beast;
  namespace http = beast::http;
  std::vector<uint32_t> lat;
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), http_port));
  const auto period = std::chrono::duration<double>(1.0 / rate);
  auto next = Clock::now();
  uint64_t after = 0;
  while (!stop) {
    next += std::chrono::duration_cast<Clock::duration>(period);
    std::this_thread::sleep_until(next);
    const std::string target =
        trace ? "/v1/parcels/BENCH-" + std::to_string(rng() % cfg.connections) + "-P" +
                    std::to_string(rng() % parcels)
              : "/v1/exceptions?type=NO_ROUTE&status=open&limit=100&after=" + std::to_string(after);
    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bearer bench-viewer-token");
    const auto t0 = Clock::now();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    lat.push_back(static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
    if (res.result_int() != 200) ++*not_ok;
    // Walk forward through the list like a supervisor paging, then restart.
    const auto at = res.body().find("\"next_after\":\"");
    after = at == std::string::npos ? 0 : std::stoull(res.body().substr(at + 14));
  }
  return lat;
}

// hubd's group commits so far, from its /metrics (hubd_commit_batch_records):
// " commits=N mean_group=R", or "" when the page cannot be read.
std::string CommitStats(uint16_t http_port) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), http_port));
    http::request<http::empty_body> req(http::verb::get, "/metrics", 11);
    req.set(http::field::host, "127.0.0.1");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    const std::string& body = res.body();
    auto value = [&](const std::string& name) {
      const auto at = body.find("\n" + name + " ");
      return at == std::string::npos ? -1.0 : std::stod(body.substr(at + name.size() + 2));
    };
    const double sum = value("hubd_commit_batch_records_sum");
    const double count = value("hubd_commit_batch_records_count");
    if (sum < 0 || count <= 0) return "";
    // The commit time's p99 and max as the upper bounds of their buckets:
    // is the ack latency's tail the commit's?
    std::string p99 = "?", max = "?";
    const std::string bucket = "hubd_commit_duration_seconds_bucket{le=\"";
    for (size_t at = body.find(bucket); at != std::string::npos; at = body.find(bucket, at + 1)) {
      const size_t le = at + bucket.size(), end = body.find('"', le);
      const std::string bound = body.substr(le, end - le);
      const double n = std::stod(body.substr(end + 3));
      if (p99 == "?" && n >= 0.99 * count) p99 = bound;
      if (max == "?" && n >= count) max = bound;
    }
    char out[160];
    std::snprintf(out, sizeof out, " commits=%.0f mean_group=%.1f commit_p99_s<=%s commit_max_s<=%s", count,
                  sum / count, p99.c_str(), max.c_str());
    return out;
  } catch (const std::exception&) {
    return "";
  }
}

void SeedRoutes(const std::string& dir) {
  std::unique_ptr<hub::store::RocksDbStore> db;
  hub::store::StoreOptions o;
  o.path = dir;
  if (!hub::store::RocksDbStore::Open(o, &db).ok()) throw std::runtime_error("cannot open " + dir);
  hub::core::HubState hub;
  hub::store::CommitBatch batch(db.get());
  hub::core::ApplyResult r;
  for (int d = 0; d < kRoutes; ++d) {
    auto c = hub::testutil::RouteRef("D" + std::to_string(d), "R" + std::to_string(d),
                                     "C" + std::to_string(d), "L" + std::to_string(d));
    hub.ApplyReference(c, &r);
    batch.AddReference(c, &r);
  }
  if (!db->Commit(&batch).ok()) throw std::runtime_error("cannot seed routes");
}

// The same load against AckServer in a forked process; prints the line
// labelled "ceiling".
int RunAgainstAckServer(const Config& cfg) {
  int ports[2];
  if (::pipe(ports) != 0) return 1;
  pid_t pid = ::fork();
  if (pid == 0) {
    AckServer server(cfg.io_threads);
    const uint16_t port = server.port();
    if (::write(ports[1], &port, sizeof port) != sizeof port) ::_exit(1);
    server.Run();
    ::_exit(0);
  }
  uint16_t port = 0;
  const bool got = ::read(ports[0], &port, sizeof port) == sizeof port;
  int rc = 1;
  if (got) {
    Driver d(cfg, port, nullptr);
    d.Prepare();
    d.Run();
    d.Report("ceiling");
    rc = 0;
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  CLI::App app{"hub_ingest_bench: end-to-end acked events/s and ack latency over loopback"};
  app.add_option("--hubd", cfg.hubd, "hubd binary")->check(CLI::ExistingFile);
  app.add_option("--connections", cfg.connections)->check(CLI::Range(1, 5000));
  app.add_option("--events", cfg.events, "events in total");
  app.add_option("--frames-per-write", cfg.frames_per_write)->check(CLI::Range(size_t{1}, size_t{4096}));
  app.add_option("--window", cfg.window, "unacked events per connection");
  app.add_option("--rate", cfg.rate, "offered events/s in total; 0 = flat out");
  app.add_option("--durability", cfg.durability)->check(CLI::IsMember({"wal", "fsync"}));
  app.add_option("--io-threads", cfg.io_threads);
  app.add_option("--query-rate", cfg.query_rate, "supervisor queries/s during the run");
  app.add_option("--query-kind", cfg.query_kind, "exceptions (list pages) or trace (parcel traces)")
      ->check(CLI::IsMember({"exceptions", "trace"}));
  app.add_option("--no-route-percent", cfg.no_route_percent, "sorts without a route, in percent")
      ->check(CLI::Range(0, 100));
  app.add_flag("--tls", cfg.tls, "TLS on the scanner port (a throwaway certificate made with openssl)");
  app.add_flag("--ack-server", cfg.ack_server,
               "instead of hubd, a server that only answers each read with an ack (the ceiling)");
  CLI11_PARSE(app, argc, argv);
  if (cfg.ack_server) return RunAgainstAckServer(cfg);

  const fs::path dir = fs::temp_directory_path() / ("hub-ingest-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  SeedRoutes((dir / "db").string());
  const std::string log = (dir / "hubd.log").string();
  const std::string config = (dir / "hubd.toml").string();
  std::ofstream(config) << "[[api.tokens]]\nname = \"bench\"\ntoken = \"bench-viewer-token\"\n"
                           "role = \"viewer\"\n";
  std::vector<std::string> args = {cfg.hubd, "--data-dir", (dir / "db").string(), "--listen",
                                    "127.0.0.1:0", "--http", "127.0.0.1:0", "--config", config,
                                    "--durability", cfg.durability, "--io-threads",
                                    std::to_string(cfg.io_threads)};
  std::shared_ptr<asio::ssl::context> tls;
  if (cfg.tls) {
    const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
    const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                            "-days 1 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout " +
                            key + " -out " + cert + " 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "openssl could not make a certificate\n");
      return 1;
    }
    args.insert(args.end(), {"--tls-cert", cert, "--tls-key", key});
    tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    tls->load_verify_file(cert);
    tls->set_verify_mode(asio::ssl::verify_peer);
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  uint16_t port = 0, http_port = 0;
  for (int i = 0; i < 400 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    const auto at = ss.str().find("listen=127.0.0.1:");
    if (at != std::string::npos) port = static_cast<uint16_t>(std::stoi(ss.str().substr(at + 17)));
    const auto h = ss.str().find(" http=127.0.0.1:");
    if (h != std::string::npos) http_port = static_cast<uint16_t>(std::stoi(ss.str().substr(h + 16)));
  }
  int rc = 0;
  if (port == 0) {
    std::fprintf(stderr, "hubd did not start; see %s\n", log.c_str());
    rc = 1;
  } else {
    Driver d(cfg, port, tls);
    d.Prepare();
    std::atomic<bool> stop{false};
    std::vector<uint32_t> query_lat;
    size_t not_ok = 0;
    std::thread queries;
    if (cfg.query_rate > 0)
      queries = std::thread([&] { query_lat = QueryLoad(http_port, cfg, stop, &not_ok); });
    d.Run();
    stop = true;
    if (queries.joinable()) queries.join();
    d.Report("ingest", http_port != 0 ? CommitStats(http_port) : "");
    if (!query_lat.empty()) {
      std::sort(query_lat.begin(), query_lat.end());
      auto pct = [&](double p) {
        return query_lat[std::min(query_lat.size() - 1, static_cast<size_t>(p * query_lat.size()))] / 1000.0;
      };
      std::printf("queries %s=%zu not_200=%zu p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
                  cfg.query_kind.c_str(), query_lat.size(), not_ok, pct(0.5), pct(0.99),
                  query_lat.back() / 1000.0);
    }
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  fs::remove_all(dir);
  return rc;
}
