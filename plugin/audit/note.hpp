// note.hpp — C2SP signed-note v1.0.0 and tlog-checkpoint v1.0.0 with Ed25519
// (OpenSSL EVP): signing, strict parsing, verification against known keys,
// key ids and the verifier-key string name+keyid+base64(0x01||pub).
#pragma once

#include "audit/merkle.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace reclaim::audit {

class note_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

inline constexpr size_t max_note_bytes = 65536;   // larger notes are refused
inline constexpr size_t max_note_signatures = 100; // as Go's sumdb/note

// key id = first 4 bytes of SHA-256(name || 0x0A || 0x01 || pub), big-endian.
uint32_t key_id(std::string_view name, std::string_view pub32);

class signer {
public:
  // From a PEM (PKCS#8) Ed25519 private key file; the file must be owned by
  // this process's user and have mode 0600 or 0400 (else note_error).
  static signer from_pem_file(const std::filesystem::path &path, std::string name);
  static signer from_seed(std::string_view seed32, std::string name);
  // Creates a new key file (mode 0600, O_EXCL) when path does not exist;
  // true if it did.
  static bool generate_if_missing(const std::filesystem::path &path);
  signer(signer &&) noexcept;
  ~signer();
  const std::string &name() const { return name_; }
  uint32_t id() const { return id_; }
  const std::string &public_key() const { return pub_; } // 32 raw bytes
  std::string verifier_key() const;                       // name+keyid+base64(0x01||pub)
  std::string sign(std::string_view text) const;          // 64-byte signature
  std::string signature_line(std::string_view text) const; // "— name base64(id||sig)\n"

private:
  signer() = default;
  struct impl;
  std::unique_ptr<impl> p_;
  std::string name_, pub_;
  uint32_t id_ = 0;
};

struct verifier_key {
  std::string name;
  uint32_t id = 0;
  std::string pub; // 32 bytes
  // Range of checkpoint tree sizes this key may sign: [from_size, to_size].
  uint64_t from_size = 0;
  uint64_t to_size = UINT64_MAX;
};
// A decimal of digits only (leading zeros allowed: checkpoint file names
// are zero-padded) that fits in 64 bits; nullopt for anything else.
std::optional<uint64_t> parse_u64(std::string_view digits);

// The parts of a signed-note verifier key name+hexid+base64(type||32 bytes),
// shared by log keys and witness keys; throws note_error prefixed with what.
struct vkey_parts {
  std::string name;
  uint32_t id = 0;
  char type = 0;
  std::string pub; // 32 bytes
};
vkey_parts split_vkey(std::string_view text, std::string_view what);
// Parses name+hexid+base64(0x01||pub); throws note_error.
verifier_key parse_verifier_key(std::string_view text);
bool ed25519_verify(std::string_view pub32, std::string_view msg, std::string_view sig64);

struct note_signature {
  std::string name;
  uint32_t id = 0;
  std::string sig; // bytes after the key id
};
struct note {
  std::string text; // including its final newline
  std::vector<note_signature> sigs;
};
// Splits and checks a signed note; throws note_error naming the problem
// (CRLF, hyphen instead of em dash, no final newline, bad base64, ...).
note parse_note(std::string_view bytes);

struct checkpoint {
  std::string origin;
  uint64_t size = 0;
  hash root{};
  std::vector<std::string> extensions;
};
std::string checkpoint_text(const checkpoint &c);
// Parses the note text of a checkpoint; throws note_error.
checkpoint parse_checkpoint_text(std::string_view text);

} // namespace reclaim::audit
