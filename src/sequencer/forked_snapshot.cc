#include "sequencer/forked_snapshot.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace hub::sequencer {

namespace {

constexpr int kSnapshotNice = 10;

// In the child: serialise and write everything to fd, then _exit.
[[noreturn]] void WriteAndExit(const core::HubState& state, int fd) {
  // Behind ingest for the CPU (on two cores the snapshot's sorting took a
  // sixth of the machine from a flat-out run), yet never starved outright.
  (void)::setpriority(PRIO_PROCESS, 0, kSnapshotNice);
  std::string bytes;
  const bool ok = state.Snapshot().SerializeToString(&bytes);
  size_t at = 0;
  while (ok && at < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + at, bytes.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(3);
    at += static_cast<size_t>(n);
  }
  ::_exit(ok ? 0 : 2);
}

}  // namespace

SnapshotSource ForkSnapshot(const core::HubState& state, std::string* error) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return nullptr;
  }
  if (pid == 0) {
    // Keep only the pipe: a socket the parent closes meanwhile must not stay
    // open here, nor a file RocksDB deletes.
    const int out = ::dup2(fds[1], 3) == 3 ? 3 : fds[1];
    ::close_range(out + 1, ~0U, 0);
    if (out == 3) ::close_range(0, 2, 0);
    WriteAndExit(state, out);
  }
  ::close(fds[1]);
  // Owns the child until it is read and reaped; a source dropped unread
  // kills it rather than leave it blocked on a full pipe.
  struct Child {
    int in;
    pid_t pid;
    bool reaped = false;
    ~Child() {
      if (reaped) return;
      ::close(in);
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  };
  std::shared_ptr<Child> child(new Child{fds[0], pid});  // no temporary to destroy
  return [child](std::string* out) {
    out->clear();
    char buf[1 << 16];
    for (;;) {
      const ssize_t n = ::read(child->in, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out->append(buf, static_cast<size_t>(n));
    }
    ::close(child->in);
    int status = 0;
    pid_t got;
    while ((got = ::waitpid(child->pid, &status, 0)) < 0 && errno == EINTR) {
    }
    child->reaped = true;
    if (got != child->pid)
      return store::Status::IOError(std::string("the snapshot child is lost: ") + std::strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return store::Status::IOError("the snapshot child failed (status " + std::to_string(status) + ")");
    return store::Status::Ok();
  };
}

}  // namespace hub::sequencer
