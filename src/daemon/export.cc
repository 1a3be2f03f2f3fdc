#include "daemon/export.h"

#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "codec/frame_codec.h"
#include "hub/v1/replay.pb.h"
#include "hub/v1/session.pb.h"

namespace hub::daemon {

std::string ExportDay(store::RocksDbStore* store, const std::string& out_dir, uint64_t* events) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  std::ofstream ev(fs::path(out_dir) / "events.bin", std::ios::binary | std::ios::trunc);
  std::ofstream ref(fs::path(out_dir) / "reference.bin", std::ios::binary | std::ios::trunc);
  if (ec || !ev || !ref) return "cannot write into " + out_dir;

  v1::ReplayPlan plan;
  plan.set_generator("hubd --export");
  std::map<std::string, uint64_t> seqs;
  std::string stream;  // scanner id, or "" for reference data, of the open epoch
  bool open = false;
  uint64_t n_events = 0, n_refs = 0;
  std::string buf;
  v1::ClientFrame frame;
  std::vector<v1::LogRecord> records;
  for (uint64_t from = 1;; from = records.back().hub_seq() + 1) {
    store::Status s = store->ReadLog(from, 10'000, &records);
    if (!s.ok()) return "reading the log: " + s.ToString();
    if (records.empty()) break;
    for (auto& rec : records) {
      if (!rec.has_event() && !rec.has_reference()) continue;
      const std::string key = rec.has_event() ? rec.event().scanner_id() : "";
      if (open && key != stream) {
        auto* e = plan.add_epochs();
        e->set_events_end(n_events);
        e->set_reference_end(n_refs);
      }
      open = true;
      stream = key;
      buf.clear();
      if (rec.has_event()) {
        *frame.mutable_event() = std::move(*rec.mutable_event());
        frame.mutable_event()->set_seq(++seqs[key]);
        codec::AppendFrame(frame, &buf);
        ev.write(buf.data(), static_cast<std::streamsize>(buf.size()));
        ++n_events;
      } else {
        codec::AppendFrame(rec.reference(), &buf);
        ref.write(buf.data(), static_cast<std::streamsize>(buf.size()));
        ++n_refs;
      }
    }
  }
  auto* last = plan.add_epochs();
  last->set_events_end(n_events);
  last->set_reference_end(n_refs);
  plan.set_events(n_events);
  plan.set_reference_changes(n_refs);
  plan.set_scanners(static_cast<uint32_t>(seqs.size()));
  std::string json;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(plan, &json, o);
  std::ofstream(fs::path(out_dir) / "plan.json", std::ios::trunc) << json << "\n";
  ev.close();
  ref.close();
  if (!ev || !ref) return "cannot write into " + out_dir;
  *events = n_events;
  return "";
}

}  // namespace hub::daemon
