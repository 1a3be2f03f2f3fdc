// hubgen: writes a synthetic hub day into a directory (SPEC §5 "Tools"):
// the scan stream, the reference data, the replay plan and the exceptions
// the day must raise. See tools/day_generator.h for the shape of the day
// and proto/hub/v1/replay.proto for the files.
//
//   hubgen --seed 7 --parcels 2000000 --out /tmp/day
//   hubgen --seed 7 --parcels 5000 --anomaly-percent 2 --rate SEAL_BROKEN=20 --out day
//   hubgen --parcels 5000 --start 2h --dws-percent 30 --multi-read-percent 10
//          --rate WEIGHT_MISMATCH=1 --rate AMBIGUOUS_READ=1 --telegram SORTER=datalogic-multi
//          --telegram-base-port 7410 --out day
//
// --telegram marks scanners whose events hubreplay sends as device
// telegrams (ReplayPlan.telegram_scanners) and writes devices.toml into the
// day: one hubd `[[device]]` block per such scanner, to append to hubd's
// config (listen ports from --telegram-base-port, else port 0 for the
// operator or test to fill in; hubreplay --devices reads the file).

#include <CLI/CLI.hpp>
#include <cstdio>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "codec/frame_codec.h"
#include "hub/v1/session.pb.h"
#include "hub/version.h"
#include "tools/api_client.h"
#include "tools/day_generator.h"
#include "util/time_text.h"

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

// "SCANNER_OR_PREFIX=PROFILE" of --telegram.
struct TelegramArg {
  std::string match, profile;
};

// hubd's `[[device]]` blocks for the day's telegram scanners.
std::string DevicesToml(const v1::ReplayPlan& plan, const tools::DayOptions& o, int base_port) {
  std::string out =
      "# hubgen --telegram: hubd's telegram listeners for this day; append to hubd's config.\n"
      "# Port 0 (no --telegram-base-port): replace it, or read hubd's event=device_listening\n"
      "# lines, and tell hubreplay with --device SCANNER=HOST:PORT.\n";
  int k = 0;
  for (const auto& t : plan.telegram_scanners()) {
    const int port = base_port > 0 ? base_port + k : 0;
    ++k;
    out += "\n[[device]]\n";
    out += "scanner_id = \"" + t.scanner_id() + "\"\n";
    out += "station = \"" + t.station() + "\"\n";
    out += "listen = \"127.0.0.1:" + std::to_string(port) + "\"\n";
    out += "profile = \"" + t.profile() + "\"\n";
    out += "kind = \"sort\"\n";
    out += std::string("validate_s10 = ") + (o.s10_ids ? "true" : "false") + "\n";
    out += "parcel_patterns = ['" + tools::ParcelPattern(o) + "']\n";
    out += "destination_pattern = '" + tools::DestinationPattern() + "'\n";
  }
  return out;
}

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
  app.add_option("--dws-percent", o.dws_percent,
                 "percent of sort scans with a DWS reading (weight within tolerance; 1 in 20 a "
                 "scale error)")->check(CLI::Range(0.0, 100.0));
  app.add_option("--multi-read-percent", o.multi_read_percent,
                 "percent of sort scans that also read a routing label (still routed)")
      ->check(CLI::Range(0.0, 100.0));
  app.add_flag("--s10-ids", o.s10_ids, "parcel ids are valid UPU S10 ids: CP, 8 digits, check digit, CN");
  std::string date, start;
  app.add_option("--date", date, "the day's date, YYYY-MM-DD (it starts 08:00 UTC) [2026-11-27]");
  app.add_option("--start", start,
                 "when the day starts: ISO 8601, ms since the epoch, or a time before now (2h, "
                 "30m: telegram reads, stamped with hubd's clock, come after every event)")
      ->excludes("--date");
  std::vector<std::string> telegram_args;
  int base_port = 0;
  app.add_option("--telegram", telegram_args,
                 "SCANNER_OR_PREFIX=PROFILE: those (sorter) scanners' events go as telegrams of this "
                 "device profile (hubreplay --device); writes devices.toml; repeatable")
      ->type_name("SCANNER=PROFILE");
  app.add_option("--telegram-base-port", base_port,
                 "devices.toml: the k-th telegram scanner listens on 127.0.0.1:PORT+k (default 0: any)")
      ->check(CLI::Range(1, 65000));
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
  if (!start.empty()) {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    if (!util::ParseTime(start, now, &o.start_ms)) {
      std::fprintf(stderr, "hubgen: --start %s is not %s\n", start.c_str(), util::kTimeForms);
      return 2;
    }
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
  // Telegram scanners: sorters only for now (a sort read is answered, and
  // the answers are the replay's acknowledgements).
  v1::ReplayPlan telegrams;
  for (const auto& arg : telegram_args) {
    const auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size()) {
      std::cerr << "hubgen: --telegram wants SCANNER_OR_PREFIX=PROFILE, got '" << arg << "'\n";
      return 2;
    }
    // The scanner id or its start, with or without the day's --id-prefix.
    const std::string match = arg.substr(0, eq), profile = arg.substr(eq + 1);
    int matched = 0;
    for (const auto& s : tools::DayScanners(o)) {
      if (s.id.rfind(match, 0) != 0 && s.id.rfind(o.id_prefix + match, 0) != 0) continue;
      ++matched;
      if (!s.sorts_only) {
        std::cerr << "hubgen: --telegram " << arg << ": " << s.id
                  << " is not a sorter; only PARCEL_SORTED scanners can be telegram devices for now\n";
        return 2;
      }
      bool dup = false;
      for (const auto& t : telegrams.telegram_scanners()) dup |= t.scanner_id() == s.id;
      if (dup) {
        std::cerr << "hubgen: --telegram: " << s.id << " is named twice\n";
        return 2;
      }
      auto* t = telegrams.add_telegram_scanners();
      t->set_scanner_id(s.id);
      t->set_station(s.station);
      t->set_profile(profile);
    }
    if (matched == 0) {
      std::cerr << "hubgen: --telegram " << arg << ": no scanner of the day is or starts with '" << match
                << "' (sorters are SORTER-01, SORTER-02, ...)\n";
      return 2;
    }
  }
  if (base_port > 0 && base_port + telegrams.telegram_scanners_size() > 65536) {
    std::cerr << "hubgen: --telegram-base-port leaves no room for every device\n";
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
  *day.plan.mutable_telegram_scanners() = telegrams.telegram_scanners();
  if (!telegrams.telegram_scanners().empty()) {
    std::ofstream devices(fs::path(out) / "devices.toml", std::ios::trunc);
    devices << DevicesToml(day.plan, o, base_port);
    if (!devices) {
      std::cerr << "hubgen: cannot write into " << out << "\n";
      return 1;
    }
  }
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
