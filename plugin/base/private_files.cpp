// private_files.cpp — creating and repairing reclaim's own files, reading
// secrets. Existing database files are repaired by path (fchmodat, which
// glibc does through an O_PATH descriptor) and never opened: closing any
// ordinary descriptor of a file drops every POSIX lock this process holds on
// it, and SQLite's locks live on the database and -shm files.
#include "base/private_files.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace reclaim::files {
namespace {

// Only one thread of this process creates a file at a time, so a thread's
// create-and-close never overlaps another thread's first lock on that file.
std::mutex create_mu;

std::string why(int err) { return std::strerror(err); }

bool may_chmod(const struct stat &st) { return st.st_uid == ::geteuid() || ::geteuid() == 0; }

// Root (an administrator running reclaimctl) creating a file in the service
// user's directory gives it to that user, or the engine could no longer open
// its own store; SQLite then gives new -wal/-shm the database's owner.
struct stat dir_owner(const std::filesystem::path &dir) {
  struct stat st {};
  if (::stat(dir.empty() ? "." : dir.c_str(), &st) != 0) st.st_uid = 0;
  return st;
}

bool shared_with_group(const std::filesystem::path &dir) {
  struct stat st {};
  return ::stat(dir.empty() ? "." : dir.c_str(), &st) == 0 && (st.st_mode & S_ISGID) != 0;
}

void make_dir(const std::filesystem::path &dir) {
  if (dir.empty() || !dir.has_relative_path()) return;
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return;
  if (dir.has_parent_path() && dir.parent_path() != dir) make_dir(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return;
    throw file_error(fmt::format("{}: cannot create the directory: {}", dir.string(), why(errno)));
  }
  if (::geteuid() == 0 && dir.has_parent_path()) {
    const auto owner = dir_owner(dir.parent_path());
    if (owner.st_uid != 0 && ::chown(dir.c_str(), owner.st_uid, owner.st_gid) != 0)
      throw file_error(fmt::format("{}: cannot give it to uid {}: {}", dir.string(), owner.st_uid, why(errno)));
  }
}

void repair_file(const std::filesystem::path &path, const struct stat &st) {
  if (S_ISLNK(st.st_mode))
    throw file_error(fmt::format("{}: refused: a symbolic link (reclaim's own files must be regular files)",
                                 path.string()));
  if (!S_ISREG(st.st_mode)) throw file_error(fmt::format("{}: refused: not a regular file", path.string()));
  const mode_t allowed = shared_with_group(path.parent_path()) ? 0660 : 0600;
  const mode_t mode = st.st_mode & 07777, wanted = mode & allowed;
  if (mode == wanted) return;
  if (!may_chmod(st) || ::fchmodat(AT_FDCWD, path.c_str(), wanted, AT_SYMLINK_NOFOLLOW) != 0)
    throw file_error(fmt::format("{}: mode {:04o} lets others read it and cannot be repaired ({}); run: chmod {:o} {}",
                                 path.string(), mode, may_chmod(st) ? why(errno) : "not its owner", wanted,
                                 path.string()));
}

} // namespace

bool give_to_dir_owner(int fd, const std::filesystem::path &dir) {
  if (::geteuid() != 0) return true;
  const auto owner = dir_owner(dir);
  return owner.st_uid == 0 || ::fchown(fd, owner.st_uid, owner.st_gid) == 0;
}

void ensure_private_dir(const std::filesystem::path &dir) {
  make_dir(dir);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    throw file_error(fmt::format("{}: cannot use the directory: {}", dir.string(), why(errno)));
  if (!S_ISDIR(st.st_mode)) throw file_error(fmt::format("{}: refused: not a directory", dir.string()));
  const mode_t mode = st.st_mode & 07777;
  if ((mode & S_ISVTX) && (mode & S_IWOTH))
    throw file_error(fmt::format("{}: refused: a shared directory (mode {:04o}); give reclaim a directory of its own",
                                 dir.string(), mode));
  const mode_t wanted = mode & ((mode & S_ISGID) ? ~mode_t{0007} : ~mode_t{0077});
  if (mode == wanted) return;
  if (!may_chmod(st)) {
    if (mode & S_IWOTH)
      throw file_error(fmt::format("{}: refused: writable by others (mode {:04o}) and not reclaim's to repair",
                                   dir.string(), mode));
    return; // another user's directory that only lets others look: its files are still 0600
  }
  if (::chmod(dir.c_str(), wanted) != 0)
    throw file_error(fmt::format("{}: cannot repair mode {:04o}: {}", dir.string(), mode, why(errno)));
}

bool create_or_repair_private_file(const std::filesystem::path &path) {
  std::lock_guard lock(create_mu);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    repair_file(path, st);
    return false;
  }
  if (errno != ENOENT) throw file_error(fmt::format("{}: cannot check: {}", path.string(), why(errno)));
  const mode_t mode = shared_with_group(path.parent_path()) ? 0660 : 0600;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST && ::lstat(path.c_str(), &st) == 0) { // created by another process meanwhile
      repair_file(path, st);
      return false;
    }
    throw file_error(fmt::format("{}: cannot create: {}", path.string(), why(err)));
  }
  // The umask may have taken group bits we want in a shared directory.
  const bool ok = ::fchmod(fd, mode) == 0 && give_to_dir_owner(fd, path.parent_path());
  const int err = errno;
  ::close(fd);
  if (!ok) throw file_error(fmt::format("{}: cannot set mode {:04o}: {}", path.string(), mode, why(err)));
  return true;
}

void create_missing_dirs(const std::filesystem::path &dir) { make_dir(dir); }

bool write_new_private_file(const std::filesystem::path &path, std::string_view bytes) {
  std::lock_guard lock(create_mu);
  const mode_t mode = shared_with_group(path.parent_path()) ? 0660 : 0600;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    throw file_error(fmt::format("{}: cannot create: {}", path.string(), why(errno)));
  }
  bool ok = ::fchmod(fd, mode) == 0 && give_to_dir_owner(fd, path.parent_path());
  for (size_t done = 0; ok && done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str()); // a half-written key must not be taken for a key
    throw file_error(fmt::format("{}: cannot write: {}", path.string(), why(err)));
  }
  return true;
}

void prepare_database(const std::filesystem::path &db) {
  if (db.has_parent_path()) make_dir(db.parent_path());
  create_or_repair_private_file(db);
  for (const char *suffix : {"-wal", "-shm", "-journal"}) {
    const auto side = std::filesystem::path(db.string() + suffix);
    std::lock_guard lock(create_mu);
    struct stat st {};
    if (::lstat(side.c_str(), &st) == 0) repair_file(side, st);
  }
}

secret_bytes::secret_bytes(size_t capacity)
    : data_(new char[capacity == 0 ? 1 : capacity]), size_(capacity), capacity_(capacity == 0 ? 1 : capacity) {}

secret_bytes::~secret_bytes() { release(); }

secret_bytes::secret_bytes(secret_bytes &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

secret_bytes &secret_bytes::operator=(secret_bytes &&other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void secret_bytes::release() noexcept {
  if (data_ != nullptr) {
    OPENSSL_cleanse(data_, capacity_);
    delete[] data_;
  }
  data_ = nullptr;
  size_ = capacity_ = 0;
}

std::string_view secret_bytes::text() const {
  size_t n = size_;
  while (n > 0 && (data_[n - 1] == '\n' || data_[n - 1] == '\r')) --n;
  return {data_, n};
}

namespace {

struct fd_guard {
  int fd;
  ~fd_guard() { ::close(fd); }
};

} // namespace

secret_bytes read_secret(const std::filesystem::path &path, size_t max_size) {
  const auto name = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ELOOP)
      throw file_error(fmt::format("secret file {}: refused: a symbolic link; name the file itself", name));
    throw file_error(fmt::format("secret file {}: cannot open: {}", name, why(errno)));
  }
  fd_guard guard{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw file_error(fmt::format("secret file {}: cannot check: {}", name, why(errno)));
  if (!S_ISREG(st.st_mode))
    throw file_error(fmt::format("secret file {}: refused: not a regular file (a FIFO, device or directory)", name));
  // Root may read the service user's key in the service user's directory
  // (reclaimctl run by an administrator); nobody reads a third user's file.
  const bool service_key_for_root = ::geteuid() == 0 && st.st_uid != 0 &&
                                    dir_owner(path.parent_path()).st_uid == st.st_uid;
  if (st.st_uid != ::geteuid() && !service_key_for_root)
    throw file_error(fmt::format("secret file {}: refused: owned by uid {}, not by uid {} that reclaim runs as; "
                                 "run: chown {} {}", name, st.st_uid, ::geteuid(), ::geteuid(), name));
  const mode_t mode = st.st_mode & 07777;
  if (mode & 077)
    throw file_error(fmt::format("secret file {}: refused: readable or writable by group or other (mode {:04o}); "
                                 "run: chmod 600 {}", name, mode, name));
  if (static_cast<uintmax_t>(st.st_size) > max_size)
    throw file_error(fmt::format("secret file {}: refused: {} bytes, more than the {} a secret may have", name,
                                 st.st_size, max_size));
  // One byte more than fstat said: a file that grows while we read is noticed.
  secret_bytes out(static_cast<size_t>(st.st_size) + 1);
  const size_t room = out.size();
  size_t got = 0;
  for (;;) {
    const ssize_t n = ::read(fd, out.data() + got, room - got);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw file_error(fmt::format("secret file {}: cannot read: {}", name, why(errno)));
    }
    got += static_cast<size_t>(n);
    if (got == room)
      throw file_error(fmt::format("secret file {}: changed while being read", name));
  }
  out.resize(got);
  return out;
}

namespace {

// OpenSSL asks for a passphrase only for an encrypted key; with a NULL
// callback it would prompt on the controlling terminal (slapd's, reclaimctl's).
int refuse_passphrase(char *, int, int, void *asked) {
  *static_cast<bool *>(asked) = true;
  return -1;
}

} // namespace

EVP_PKEY *parse_private_key_pem(std::string_view pem, const std::string &what) {
  BIO *bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) throw file_error(fmt::format("{}: out of memory", what));
  bool asked = false;
  EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, nullptr, refuse_passphrase, &asked);
  BIO_free(bio);
  ERR_clear_error();
  if (key != nullptr) return key;
  if (asked)
    throw file_error(fmt::format("{}: refused: the PEM key is encrypted and reclaim cannot ask for a passphrase; "
                                 "store it unencrypted with mode 0600 (openssl pkey -in OLD -out NEW)", what));
  throw file_error(fmt::format("{}: not a PEM private key OpenSSL can read", what));
}

} // namespace reclaim::files
