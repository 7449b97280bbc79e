// private_files.hpp — the one place reclaim creates its own directories,
// databases and key files (owner-only modes, repaired when found wider) and
// reads secrets (one open without following links or blocking on a FIFO,
// checks on the open descriptor, bytes wiped when released).
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <string>
#include <filesystem>
#include <stdexcept>
#include <string_view>

namespace reclaim::files {

class file_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Creates dir (and missing parents) with mode 0700, or repairs an existing
// one this process may chmod: group and other bits are removed — except in a
// set-group-ID directory (chmod 2770, the administrator's way of sharing the
// state with the roles' group), where only other bits go. Refuses a path
// that is not a directory and a shared sticky directory such as /tmp.
// Call it for directories that are reclaim's alone (the state directory and
// what is inside it): as root it would just as well narrow /etc or /var/log.
void ensure_private_dir(const std::filesystem::path &dir);

// Creates the missing components of dir with mode 0700; leaves existing ones
// as they are (for directories an administrator may have chosen for a key).
void create_missing_dirs(const std::filesystem::path &dir);

// Writes bytes to a new file created as create_or_repair_private_file does
// (and fsyncs it); false, writing nothing, when path already exists.
bool write_new_private_file(const std::filesystem::path &path, std::string_view bytes);

// Creates path with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 (0660 inside a
// set-group-ID directory; created by root in another user's directory, it is
// given to that user, as are directories create_missing_dirs makes), or repairs the mode of an existing regular file
// without opening it. Refuses a symbolic link or anything but a regular
// file. The directory must exist. Returns true when it created the file.
bool create_or_repair_private_file(const std::filesystem::path &path);

// When this process is root and dir belongs to another user (the service
// user's state directory), gives the open file fd to that user and group.
// false if fchown failed.
bool give_to_dir_owner(int fd, const std::filesystem::path &dir);

// Before SQLite opens a database read-write: its directory (created when
// missing, create_missing_dirs), the database file (created or repaired) and any -wal, -shm or -journal
// beside it (repaired; SQLite gives new ones the database file's mode).
void prepare_database(const std::filesystem::path &db);

// Secret bytes owned by one object: not copyable, wiped (OPENSSL_cleanse)
// when destroyed or moved from.
class secret_bytes {
public:
  secret_bytes() = default;
  explicit secret_bytes(size_t size); // size bytes, to be filled (resize() shortens)
  ~secret_bytes();
  secret_bytes(secret_bytes &&other) noexcept;
  secret_bytes &operator=(secret_bytes &&other) noexcept;
  secret_bytes(const secret_bytes &) = delete;
  secret_bytes &operator=(const secret_bytes &) = delete;

  char *data() { return data_; }
  const char *data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void resize(size_t n) { size_ = n < capacity_ ? n : capacity_; }
  std::string_view view() const { return {data_, size_}; }
  // Without trailing CR/LF (a secret typed into a file with an editor).
  std::string_view text() const;

private:
  void release() noexcept;
  char *data_ = nullptr;
  size_t size_ = 0, capacity_ = 0;
};

// Reads a secret file: one open (O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_NONBLOCK, so
// neither a symbolic link nor a FIFO is followed or waited on), then fstat of
// that descriptor: a regular file owned by this process's effective user (or,
// for root, by the user owning the directory it is in: the service's key read
// by an administrator's reclaimctl), without any group or other bit, at most max_size bytes. Throws file_error
// naming the file and what to run to fix it.
secret_bytes read_secret(const std::filesystem::path &path, size_t max_size = 1 << 20);

// Parses a PEM private key (PKCS#8, or a traditional RSA/EC one) from memory
// into a key object the caller frees with EVP_PKEY_free. An encrypted key is
// refused with a message saying so (reclaim has nobody to ask for a
// passphrase) instead of OpenSSL prompting on a terminal. what names the key
// in messages ("signing key /var/lib/reclaim/audit/signing.pem").
EVP_PKEY *parse_private_key_pem(std::string_view pem, const std::string &what);

} // namespace reclaim::files
