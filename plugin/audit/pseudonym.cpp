// pseudonym.cpp — HMAC pseudonyms and per-subject AEAD with OpenSSL 3; the
// key store is SQLite with secure_delete so a forgotten key is overwritten.
#include "audit/pseudonym.hpp"

#include "audit/merkle.hpp"
#include "config/config.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>
#include <iterator>
#include <stdexcept>

namespace reclaim::audit {
namespace {

std::string read_secret(const std::filesystem::path &p) {
  if (!std::filesystem::exists(p)) {
    std::filesystem::create_directories(p.parent_path());
    unsigned char key[32];
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      const bool ok = RAND_bytes(key, 32) == 1 && ::write(fd, key, 32) == 32 && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) throw std::runtime_error(p.string() + ": cannot create the pseudonym key");
    }
  }
  check_file_mode(p, true);
  struct stat st {};
  if (::stat(p.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    throw std::runtime_error(p.string() + ": pseudonym key must have mode 0600 or 0400");
  std::ifstream in(p, std::ios::binary);
  std::string key((std::istreambuf_iterator<char>(in)), {});
  if (!in.eof() && in.fail()) throw std::runtime_error(p.string() + ": cannot read");
  if (key.size() < 32) throw std::runtime_error(p.string() + ": pseudonym key must hold at least 32 bytes");
  return key;
}

std::string hex_bytes(std::string_view b) {
  std::string out;
  for (unsigned char c : b) out += fmt::format("{:02x}", c);
  return out;
}

// AES-256-GCM; enc selects the direction. Returns nullopt on a bad tag.
std::optional<std::string> gcm(bool enc, const std::string &key, const std::string &nonce,
                               std::string_view in, std::string_view aad, std::string &tag) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  std::string out(in.size(), '\0');
  int len = 0, fin = 0;
  const auto *k = reinterpret_cast<const unsigned char *>(key.data());
  const auto *n = reinterpret_cast<const unsigned char *>(nonce.data());
  bool ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), nullptr, k, n, enc ? 1 : 0) == 1 &&
            EVP_CipherUpdate(c, nullptr, &len, reinterpret_cast<const unsigned char *>(aad.data()),
                             static_cast<int>(aad.size())) == 1 &&
            EVP_CipherUpdate(c, reinterpret_cast<unsigned char *>(out.data()), &len,
                             reinterpret_cast<const unsigned char *>(in.data()),
                             static_cast<int>(in.size())) == 1;
  if (ok && !enc) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1;
  ok = ok && EVP_CipherFinal_ex(c, reinterpret_cast<unsigned char *>(out.data()) + len, &fin) == 1;
  if (ok && enc) {
    tag.assign(16, '\0');
    ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1;
  }
  EVP_CIPHER_CTX_free(c);
  if (!ok) return std::nullopt;
  return out;
}

} // namespace

pseudonymizer::pseudonymizer(const std::filesystem::path &key_file,
                             const std::filesystem::path &key_store)
    : key_(read_secret(key_file)) {
  hasher h;
  key_id_ = to_hex(h.sha256(key_)).substr(0, 8);
  std::filesystem::create_directories(key_store.parent_path());
  store_ = std::make_unique<sqlite::database>(key_store, sqlite::durability::full);
  store_->exec("PRAGMA secure_delete=ON");
  store_->exec("CREATE TABLE IF NOT EXISTS subject_keys (pseudonym TEXT PRIMARY KEY, key TEXT NOT NULL)");
  std::filesystem::permissions(key_store, std::filesystem::perms::owner_read |
                                              std::filesystem::perms::owner_write);
}

pseudonymizer::~pseudonymizer() = default;

std::string pseudonymizer::pseudonym(std::string_view subject_id) const {
  unsigned char mac[32];
  unsigned len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char *>(subject_id.data()), subject_id.size(), mac, &len);
  return fmt::format("hs256:{}:{}", key_id_, hex_bytes({reinterpret_cast<char *>(mac), len}));
}

std::optional<std::string> pseudonymizer::subject_key(const std::string &p, bool create) {
  auto &sel = store_->cached("SELECT key FROM subject_keys WHERE pseudonym = ?");
  sel.bind(1, p);
  std::optional<std::string> key;
  if (sel.step()) {
    const auto hx = sel.text(0);
    key.emplace();
    for (size_t i = 0; i + 1 < hx.size(); i += 2)
      key->push_back(static_cast<char>(std::stoi(hx.substr(i, 2), nullptr, 16)));
  }
  sel.reset();
  if (key || !create) return key;
  key.emplace(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char *>(key->data()), 32) != 1)
    throw std::runtime_error("RAND_bytes failed");
  auto &ins = store_->cached("INSERT INTO subject_keys (pseudonym, key) VALUES (?, ?)");
  ins.bind(1, p).bind(2, hex_bytes(*key)).run();
  return key;
}

std::string pseudonymizer::seal(const std::string &p, std::string_view plaintext) {
  const auto key = subject_key(p, true);
  std::string nonce(12, '\0'), tag;
  if (RAND_bytes(reinterpret_cast<unsigned char *>(nonce.data()), 12) != 1)
    throw std::runtime_error("RAND_bytes failed");
  const auto ct = gcm(true, *key, nonce, plaintext, p, tag);
  if (!ct) throw std::runtime_error("AES-256-GCM encryption failed");
  return "a256gcm:" + base64(nonce + *ct + tag);
}

std::optional<std::string> pseudonymizer::open(const std::string &p, std::string_view sealed) {
  if (sealed.substr(0, 8) != "a256gcm:") return std::nullopt;
  const auto raw = unbase64(sealed.substr(8));
  const auto key = subject_key(p, false);
  if (!raw || raw->size() < 28 || !key) return std::nullopt;
  std::string tag = raw->substr(raw->size() - 16);
  return gcm(false, *key, raw->substr(0, 12), std::string_view(*raw).substr(12, raw->size() - 28), p, tag);
}

bool pseudonymizer::forget(const std::string &p) {
  auto &del = store_->cached("DELETE FROM subject_keys WHERE pseudonym = ?");
  del.bind(1, p).run();
  const bool existed = store_->changes() > 0;
  store_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return existed;
}

} // namespace reclaim::audit
