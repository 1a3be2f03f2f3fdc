// hubgen: writes a synthetic hub day into a directory (SPEC §5 "Tools"):
// the scan stream, the reference data, the replay plan and the exceptions
// the day must raise. See tools/day_generator.h for the shape of the day
// and proto/hub/v1/replay.proto for the files.
//
//   hubgen --seed 7 --parcels 2000000 --out /tmp/day
//   hubgen --seed 7 --parcels 5000 --anomaly-percent 2 --rate SEAL_BROKEN=20 --out day

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "codec/frame_codec.h"
#include "hub/v1/session.pb.h"
#include "hub/version.h"
#include "tools/api_client.h"
#include "tools/day_generator.h"

namespace {

using namespace hub;
namespace fs = std::filesystem;

// Appends frames to a file through a buffer.
class FrameFile {
 public:
  explicit FrameFile(const fs::path& path) : out_(path, std::ios::binary | std::ios::trunc) {}
  bool ok() const { return static_cast<bool>(out_); }
  void Add(const google::protobuf::MessageLite& m) {
    codec::AppendFrame(m, &buf_);
    if (buf_.size() >= (1 << 20)) Flush();
  }
  bool Close() {
    Flush();
    out_.close();
    return static_cast<bool>(out_);
  }

 private:
  void Flush() {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }
  std::ofstream out_;
  std::string buf_;
};

class FileSink : public tools::DaySink {
 public:
  explicit FileSink(const fs::path& dir) : events_(dir / "events.bin"), reference_(dir / "reference.bin") {}
  bool ok() const { return events_.ok() && reference_.ok(); }
  void Reference(const v1::ReferenceChange& c) override { reference_.Add(c); }
  void Event(const v1::ScanEvent& e) override {
    *frame_.mutable_event() = e;
    events_.Add(frame_);
  }
  bool Close() { return events_.Close() & reference_.Close(); }

 private:
  FrameFile events_, reference_;
  v1::ClientFrame frame_;
};

bool WriteJson(const fs::path& path, const google::protobuf::Message& m) {
  std::ofstream out(path, std::ios::trunc);
  out << tools::ToJson(m) << "\n";
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  tools::DayOptions o;
  std::string out;
  std::vector<std::string> rates;
  CLI::App app{"hubgen: generate a hub day (scan stream, reference data, expected exceptions)"};
  app.set_version_flag("--version", std::string("hubgen ") + hub::kVersion);
  app.add_option("--seed", o.seed, "random seed; the same seed and options give the same files");
  app.add_option("--parcels", o.parcels, "parcels in the day")->check(CLI::PositiveNumber);
  app.add_option("--out", out, "directory to write (created)")->required();
  app.add_option("--parcels-per-bag", o.parcels_per_bag)->check(CLI::Range(1, 1000));
  app.add_option("--bags-per-vehicle", o.bags_per_vehicle)->check(CLI::Range(1, 1000));
  app.add_option("--destinations", o.destinations)->check(CLI::Range(1, 100000));
  app.add_option("--routes", o.routes, "outbound routes (one load per route per wave)")->check(CLI::Range(1, 10000));
  app.add_option("--wave-parcels", o.wave_parcels, "parcels per wave")->check(CLI::Range(1, 10000000));
  app.add_option("--docks", o.docks, "dock scanners")->check(CLI::Range(1, 1000));
  app.add_option("--tables", o.tables, "unbagging table scanners")->check(CLI::Range(1, 1000));
  app.add_option("--sorters", o.sorters, "sorter scanners")->check(CLI::Range(1, 1000));
  app.add_option("--baggers", o.baggers, "bagging station scanners")->check(CLI::Range(1, 1000));
  app.add_option("--loaders", o.loaders, "loading station scanners")->check(CLI::Range(1, 1000));
  app.add_option("--anomaly-percent", o.anomaly_percent,
                 "default rate of every anomaly, in percent of its opportunities");
  app.add_option("--rate", rates, "TYPE=PERCENT for one anomaly (e.g. SEAL_BROKEN=5); repeatable");
  app.add_option("--resend-percent", o.resend_percent,
                 "percent of (scanner, epoch) pairs followed by a reconnect and re-sent frames");
  std::string date;
  app.add_option("--date", date, "the day's date, YYYY-MM-DD (it starts 08:00 UTC) [2026-11-27]");
  app.add_option("--id-prefix", o.id_prefix,
                 "prefix for every parcel, bag, vehicle, seal, load and scanner id (several days "
                 "through one hub)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!date.empty()) {
    std::tm tm{};
    const char* end = strptime(date.c_str(), "%Y-%m-%d", &tm);
    if (end == nullptr || *end != '\0') {
      std::fprintf(stderr, "hubgen: --date %s is not YYYY-MM-DD\n", date.c_str());
      return 2;
    }
    tm.tm_hour = 8;
    o.start_ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  }
  if (o.id_prefix.size() > 16) {
    std::fprintf(stderr, "hubgen: --id-prefix is longer than 16 bytes\n");
    return 2;
  }
  for (const auto& r : rates) {
    const auto eq = r.find('=');
    v1::ExceptionType type;
    double pct = 0;
    try {
      if (eq == std::string::npos) throw std::invalid_argument("no =");
      size_t used = 0;
      pct = std::stod(r.substr(eq + 1), &used);
      if (used != r.size() - eq - 1) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      std::cerr << "hubgen: --rate wants TYPE=PERCENT, got '" << r << "'\n";
      return 2;
    }
    std::string name = r.substr(0, eq);
    for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!v1::ExceptionType_Parse(name, &type) || type == v1::EXCEPTION_TYPE_UNSPECIFIED) {
      std::cerr << "hubgen: unknown exception type '" << name << "'\n";
      return 2;
    }
    o.rates[type] = pct;
  }
  if (const std::string error = tools::CheckOptions(o); !error.empty()) {
    std::cerr << "hubgen: " << error << "\n";
    return 2;
  }

  std::error_code ec;
  fs::create_directories(out, ec);
  FileSink sink(out);
  if (ec || !sink.ok()) {
    std::cerr << "hubgen: cannot write into " << out << "\n";
    return 1;
  }
  tools::Day day = tools::GenerateDay(o, &sink);
  std::string cmd = "hubgen";
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) != "--out" && (i == 1 || std::string(argv[i - 1]) != "--out"))
      cmd += std::string(" ") + argv[i];
  day.plan.set_generator(cmd);
  v1::ExceptionPage expected;
  for (auto& c : day.expected) *expected.add_exceptions() = std::move(c);
  if (!sink.Close() || !WriteJson(fs::path(out) / "plan.json", day.plan) ||
      !WriteJson(fs::path(out) / "expected.json", expected)) {
    std::cerr << "hubgen: cannot write into " << out << "\n";
    return 1;
  }
  std::map<std::string, int> by_type;
  for (const auto& c : expected.exceptions()) ++by_type[v1::ExceptionType_Name(c.type())];
  std::printf("hubgen: %llu parcels, %llu events, %llu reference changes, %d epochs, %d resends, "
              "%d expected exceptions into %s\n",
              static_cast<unsigned long long>(day.plan.parcels()),
              static_cast<unsigned long long>(day.plan.events()),
              static_cast<unsigned long long>(day.plan.reference_changes()), day.plan.epochs_size(),
              day.plan.resends_size(), expected.exceptions_size(), out.c_str());
  for (const auto& [type, n] : by_type) std::printf("  %-20s %d\n", type.c_str(), n);
  return 0;
}
