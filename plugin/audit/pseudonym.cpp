// pseudonym.cpp — HMAC pseudonyms and per-subject AEAD with OpenSSL 3; the
// key store is SQLite with secure_delete so a forgotten key is overwritten.
#include "audit/pseudonym.hpp"

#include "audit/merkle.hpp"
#include "base/private_files.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>
#include <iterator>
#include <stdexcept>

namespace reclaim::audit {
namespace {

// The key is created once (O_EXCL, 0600) and then only read through
// files::read_secret; the copy kept is the key itself, the buffer is wiped.
std::string read_secret(const std::filesystem::path &p) {
  files::create_missing_dirs(p.parent_path());
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0 && errno == ENOENT) {
    files::secret_bytes fresh(32);
    if (RAND_bytes(reinterpret_cast<unsigned char *>(fresh.data()), 32) != 1)
      throw std::runtime_error(p.string() + ": cannot create the pseudonym key: no random bytes");
    files::write_new_private_file(p, fresh.view());
  }
  const auto bytes = files::read_secret(p, 4096);
  if (bytes.size() < 32) throw std::runtime_error(p.string() + ": pseudonym key must hold at least 32 bytes");
  return std::string(bytes.view());
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
  // sqlite::database creates the store, -wal and -shm 0600 (or repairs them).
  store_ = std::make_unique<sqlite::database>(key_store, sqlite::durability::full);
  store_->exec("PRAGMA secure_delete=ON");
  store_->exec("CREATE TABLE IF NOT EXISTS subject_keys (pseudonym TEXT PRIMARY KEY, key TEXT NOT NULL)");
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
