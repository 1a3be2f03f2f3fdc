#include "store/fault_fs.h"

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

namespace hub::store {

namespace {
rocksdb::IOStatus NoSpace() { return rocksdb::IOStatus::NoSpace("injected: no space left on device"); }
}  // namespace

// A writable file whose writes fail while the switch is on.
class NoSpaceFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  NoSpaceFile(std::unique_ptr<rocksdb::FSWritableFile>&& f, FaultInjection* faults)
      : FSWritableFileOwnerWrapper(std::move(f)), faults_(faults) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    if (Refuse()) return NoSpace();
    return target()->Append(data, o, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* dbg) override {
    if (Refuse()) return NoSpace();
    return target()->Append(data, o, v, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& o,
                                     rocksdb::IODebugContext* dbg) override {
    if (Refuse()) return NoSpace();
    return target()->PositionedAppend(data, offset, o, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& o,
                                     const rocksdb::DataVerificationInfo& v,
                                     rocksdb::IODebugContext* dbg) override {
    if (Refuse()) return NoSpace();
    return target()->PositionedAppend(data, offset, o, v, dbg);
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (Refuse()) return NoSpace();
    return target()->Flush(o, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (Refuse()) return NoSpace();
    return target()->Sync(o, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (Refuse()) return NoSpace();
    return target()->Fsync(o, dbg);
  }

 private:
  bool Refuse() {
    if (!faults_->no_space_.load()) return false;
    faults_->refused_.fetch_add(1);
    return true;
  }
  FaultInjection* faults_;
};

class NoSpaceFs : public rocksdb::FileSystemWrapper {
 public:
  NoSpaceFs(const std::shared_ptr<rocksdb::FileSystem>& base, FaultInjection* faults)
      : FileSystemWrapper(base), faults_(faults) {}
  const char* Name() const override { return "HubNoSpaceFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    return Wrap(&rocksdb::FileSystem::NewWritableFile, f, o, r, dbg);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    return Wrap(&rocksdb::FileSystem::ReopenWritableFile, f, o, r, dbg);
  }
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (Refuse()) return NoSpace();
    return target()->RenameFile(from, to, o, dbg);
  }

 private:
  // Opens through the target and hands out the file wrapped.
  template <typename Open>
  rocksdb::IOStatus Wrap(Open open, const std::string& f, const rocksdb::FileOptions& o,
                         std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* dbg) {
    if (Refuse()) return NoSpace();
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = (target()->*open)(f, o, &file, dbg);
    if (s.ok()) *r = std::make_unique<NoSpaceFile>(std::move(file), faults_);
    return s;
  }
  bool Refuse() {
    if (!faults_->no_space_.load()) return false;
    faults_->refused_.fetch_add(1);
    return true;
  }
  FaultInjection* faults_;
};

FaultInjection::FaultInjection()
    : env_(rocksdb::NewCompositeEnv(
          std::make_shared<NoSpaceFs>(rocksdb::FileSystem::Default(), this))) {}
FaultInjection::~FaultInjection() = default;

rocksdb::Env* FaultInjection::env() { return env_.get(); }

}  // namespace hub::store
