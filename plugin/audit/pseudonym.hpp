// pseudonym.hpp — personal data in the audit log: subjects appear as keyed
// pseudonyms (HMAC-SHA256 with a key id), names/e-mail/DN as a per-subject
// AES-256-GCM ciphertext whose key lives in a separate key store. Deleting a
// subject's key (forget) erases those fields while the log still verifies.
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
  // "hs256:<key id>:<hex HMAC-SHA256(key, subject_id)>"
  std::string pseudonym(std::string_view subject_id) const;
  // Encrypts personal data (a JSON text) under the subject's key, creating
  // it on first use: "a256gcm:<base64(nonce || ciphertext || tag)>".
  std::string seal(const std::string &pseudonym, std::string_view plaintext);
  // Decrypts; nullopt when the subject's key was deleted (erased).
  std::optional<std::string> open(const std::string &pseudonym, std::string_view sealed);
  // Deletes the subject's key; true if it existed.
  bool forget(const std::string &pseudonym);

private:
  std::string key_, key_id_;
  std::unique_ptr<sqlite::database> store_;
  std::optional<std::string> subject_key(const std::string &pseudonym, bool create);
};

} // namespace reclaim::audit
