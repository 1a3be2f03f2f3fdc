#include "daemon/export.h"

#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

#include "codec/frame_codec.h"
#include "core/views.h"
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
  // The open epoch: which scanner last touched each entity in it. A record
  // that touches an entity another scanner touched in this epoch must wait
  // for that scanner's events to be acknowledged: it starts a new epoch.
  // Reference changes (routes, holds, advices reach every later scan) get
  // an epoch of their own.
  std::unordered_map<std::string, const std::string*> owner;
  std::set<std::string> scanners;
  bool reference_epoch = false, empty = true;
  uint64_t n_events = 0, n_refs = 0;
  auto cut = [&] {
    if (empty) return;
    auto* e = plan.add_epochs();
    e->set_events_end(n_events);
    e->set_reference_end(n_refs);
    owner.clear();
    empty = true;
  };
  std::string buf;
  v1::ClientFrame frame;
  std::vector<v1::LogRecord> records;
  std::vector<core::EntityRef> refs;
  for (uint64_t from = 1;; from = records.back().hub_seq() + 1) {
    store::Status s = store->ReadLog(from, 10'000, &records);
    if (!s.ok()) return "reading the log: " + s.ToString();
    if (records.empty()) break;
    for (auto& rec : records) {
      buf.clear();
      if (rec.has_reference()) {
        if (!reference_epoch) cut();
        reference_epoch = true;
        empty = false;
        codec::AppendFrame(rec.reference(), &buf);
        ref.write(buf.data(), static_cast<std::streamsize>(buf.size()));
        ++n_refs;
        continue;
      }
      if (!rec.has_event()) continue;  // case actions are not replayed
      if (reference_epoch) cut();
      reference_epoch = false;
      const std::string* scanner = &*scanners.insert(rec.event().scanner_id()).first;
      refs.clear();
      core::EntitiesOf(rec, &refs);
      for (const auto& r : refs) {
        auto it = owner.find(core::EntityKey(r.kind, *r.id));
        if (it != owner.end() && it->second != scanner) {
          cut();
          break;
        }
      }
      for (const auto& r : refs) owner[core::EntityKey(r.kind, *r.id)] = scanner;
      empty = false;
      *frame.mutable_event() = std::move(*rec.mutable_event());
      frame.mutable_event()->set_seq(++seqs[*scanner]);
      codec::AppendFrame(frame, &buf);
      ev.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      ++n_events;
    }
  }
  if (plan.epochs().empty()) empty = false;  // an empty log still gets its one epoch
  cut();
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
