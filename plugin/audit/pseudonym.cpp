// pseudonym.cpp — random per-person pseudonyms and per-person AEAD with
// OpenSSL 3; the key store is SQLite with secure_delete and a truncated WAL
// after a forget, so a forgotten row is overwritten, not just unlinked.
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
  // subject_keys: keys of the hs256 pseudonyms of logs written before
  // persons existed; read for those records, never written any more.
  store_->exec("CREATE TABLE IF NOT EXISTS subject_keys (pseudonym TEXT PRIMARY KEY, key TEXT NOT NULL)");
  store_->exec("CREATE TABLE IF NOT EXISTS persons ("
               "lookup TEXT PRIMARY KEY, pseudonym TEXT NOT NULL UNIQUE, key TEXT NOT NULL)");
}

pseudonymizer::~pseudonymizer() = default;

namespace {

std::string hmac_sha256(const std::string &key, std::string_view data) {
  unsigned char mac[32];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char *>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char *>(mac), len);
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char *>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return out;
}

std::string unhex(const std::string &hx) {
  std::string out;
  for (size_t i = 0; i + 1 < hx.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hx.substr(i, 2), nullptr, 16)));
  return out;
}

} // namespace

std::string pseudonymizer::legacy_pseudonym(std::string_view subject_id) const {
  return fmt::format("hs256:{}:{}", key_id_, hex_bytes(hmac_sha256(key_, subject_id)));
}

// Domain-separated from the legacy pseudonym, so the lookup column never
// equals a pseudonym written in an old log.
std::string pseudonymizer::lookup(std::string_view subject_id) const {
  std::string msg = "reclaim person lookup v1";
  msg.push_back('\0');
  msg.append(subject_id);
  return hex_bytes(hmac_sha256(key_, msg));
}

std::optional<std::string> pseudonymizer::find(std::string_view subject_id) {
  auto &sel = store_->cached("SELECT pseudonym FROM persons WHERE lookup = ?");
  sel.bind(1, lookup(subject_id));
  std::optional<std::string> p;
  if (sel.step()) p = sel.text(0);
  sel.reset();
  return p;
}

std::string pseudonymizer::pseudonym(std::string_view subject_id) {
  if (auto p = find(subject_id)) return *p;
  // OR IGNORE: another process may have made this person's row meanwhile.
  store_->cached("INSERT OR IGNORE INTO persons (lookup, pseudonym, key) VALUES (?, ?, ?)")
      .bind(1, lookup(subject_id))
      .bind(2, "rnd:" + hex_bytes(random_bytes(16)))
      .bind(3, hex_bytes(random_bytes(32)))
      .run();
  auto p = find(subject_id);
  if (!p) throw std::runtime_error("key store: the pseudonym just made cannot be read back");
  return *p;
}

std::optional<std::string> pseudonymizer::subject_key(const std::string &p) {
  auto &sel = store_->cached(p.rfind("rnd:", 0) == 0 ? "SELECT key FROM persons WHERE pseudonym = ?"
                                                      : "SELECT key FROM subject_keys WHERE pseudonym = ?");
  sel.bind(1, p);
  std::optional<std::string> key;
  if (sel.step()) key = unhex(sel.text(0));
  sel.reset();
  return key;
}

std::optional<std::string> pseudonymizer::seal(const std::string &p, std::string_view plaintext) {
  const auto key = subject_key(p);
  if (!key) return std::nullopt;
  const auto nonce = random_bytes(12);
  std::string tag;
  const auto ct = gcm(true, *key, nonce, plaintext, p, tag);
  if (!ct) throw std::runtime_error("AES-256-GCM encryption failed");
  return "a256gcm:" + base64(nonce + *ct + tag);
}

std::optional<std::string> pseudonymizer::open(const std::string &p, std::string_view sealed) {
  if (sealed.substr(0, 8) != "a256gcm:") return std::nullopt;
  const auto raw = unbase64(sealed.substr(8));
  const auto key = subject_key(p);
  if (!raw || raw->size() < 28 || !key) return std::nullopt;
  std::string tag = raw->substr(raw->size() - 16);
  return gcm(false, *key, raw->substr(0, 12), std::string_view(*raw).substr(12, raw->size() - 28), p, tag);
}

pseudonymizer::forgotten pseudonymizer::forget(std::string_view subject_id) {
  forgotten f;
  f.pseudonym = find(subject_id);
  store_->cached("DELETE FROM persons WHERE lookup = ?").bind(1, lookup(subject_id)).run();
  store_->cached("DELETE FROM subject_keys WHERE pseudonym = ?").bind(1, legacy_pseudonym(subject_id)).run();
  f.legacy_key = store_->changes() > 0;
  // secure_delete zeroed the cells in the file; the WAL may still hold the
  // pages as they were before, until it is checkpointed and truncated.
  auto st = store_->prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  if (st.step() && st.integer(0) != 0)
    throw std::runtime_error("key store: its WAL could not be truncated (busy); run forget again");
  return f;
}

} // namespace reclaim::audit
