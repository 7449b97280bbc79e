// pseudonym.hpp — personal data in the audit log: subjects appear as random
// per-person pseudonyms, names/e-mail/DN as a per-person AES-256-GCM
// ciphertext. Both live in the key store under a lookup HMAC(key, id);
// forget deletes that row, so nothing kept maps the person to the pseudonym
// or decrypts their fields, while the log still verifies (docs/audit.md).
#pragma once

#include "store/sqlite.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace reclaim::audit {

class pseudonymizer {
public:
  // key_file: >= 32 secret bytes, mode 0600/0400, owned by this user;
  // 32 random bytes are written to it when it does not exist.
  pseudonymizer(const std::filesystem::path &key_file, const std::filesystem::path &key_store);
  ~pseudonymizer();
  // The person's pseudonym "rnd:<32 hex random>", made (with its AES key)
  // on first use.
  std::string pseudonym(std::string_view subject_id);
  // The pseudonym if the store holds one for subject_id (makes none).
  std::optional<std::string> find(std::string_view subject_id);
  // What logs written before random pseudonyms used:
  // "hs256:<key id>:<hex HMAC-SHA256(key, subject_id)>".
  std::string legacy_pseudonym(std::string_view subject_id) const;
  // Encrypts personal data (a JSON text) under the pseudonym's key:
  // "a256gcm:<base64(nonce || ciphertext || tag)>"; nullopt when the
  // person was forgotten (no key: the data is not written at all).
  std::optional<std::string> seal(const std::string &pseudonym, std::string_view plaintext);
  // Whether the store holds a key for this pseudonym.
  bool holds_key(const std::string &pseudonym) { return subject_key(pseudonym).has_value(); }
  // Decrypts; nullopt when the key was deleted (erased).
  std::optional<std::string> open(const std::string &pseudonym, std::string_view sealed);

  struct forgotten {
    std::optional<std::string> pseudonym; // the random one, if the store held it
    bool legacy_key = false;              // an hs256 key was deleted too
  };
  // Deletes the person's row (pseudonym and key) and any legacy key, then
  // truncates the store's WAL so no old page image keeps them.
  forgotten forget(std::string_view subject_id);

private:
  std::string key_, key_id_;
  std::unique_ptr<sqlite::database> store_;
  std::string lookup(std::string_view subject_id) const;
  std::optional<std::string> subject_key(const std::string &pseudonym);
};

} // namespace reclaim::audit
