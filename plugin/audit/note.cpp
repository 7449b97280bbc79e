// note.cpp — signed notes and checkpoints. Parsing is strict on purpose: a
// verifier that tolerates CRLF, an ASCII hyphen, URL-safe base64 or a
// "+5" size would accept a note other implementations reject.
#include "audit/note.hpp"

#include "base/private_files.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace reclaim::audit {
namespace {

constexpr std::string_view em_dash = "\xE2\x80\x94";

struct pkey_ptr {
  EVP_PKEY *k = nullptr;
  ~pkey_ptr() { EVP_PKEY_free(k); }
};

std::string raw_public(EVP_PKEY *k) {
  std::string pub(32, '\0');
  size_t len = 32;
  if (EVP_PKEY_get_raw_public_key(k, reinterpret_cast<unsigned char *>(pub.data()), &len) != 1 ||
      len != 32)
    throw note_error("not an Ed25519 key");
  return pub;
}

bool valid_key_name(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n)
    if (c == '+' || c == ' ' || static_cast<unsigned char>(c) < 0x21) return false;
  return n.find("\xC2\xA0") == std::string_view::npos; // no NBSP
}

} // namespace

struct signer::impl {
  pkey_ptr key;
};

uint32_t key_id(std::string_view name, std::string_view pub32) {
  hasher h;
  const auto d = h.sha256(std::string(name) + "\n\x01" + std::string(pub32));
  return (uint32_t(d[0]) << 24) | (uint32_t(d[1]) << 16) | (uint32_t(d[2]) << 8) | d[3];
}

signer::signer(signer &&) noexcept = default;
signer::~signer() = default;

signer signer::from_pem_file(const std::filesystem::path &path, std::string name) {
  signer s;
  s.p_ = std::make_unique<impl>();
  try {
    const auto pem = files::read_secret(path, 64 * 1024);
    s.p_->key.k = files::parse_private_key_pem(pem.view(), "signing key " + path.string());
  } catch (const files::file_error &e) {
    throw note_error(e.what());
  }
  if (EVP_PKEY_get_id(s.p_->key.k) != EVP_PKEY_ED25519)
    throw note_error(fmt::format("{}: not a PEM Ed25519 private key", path.string()));
  if (!valid_key_name(name)) throw note_error(fmt::format("invalid key name '{}'", name));
  s.name_ = std::move(name);
  s.pub_ = raw_public(s.p_->key.k);
  s.id_ = key_id(s.name_, s.pub_);
  return s;
}

bool signer::generate_if_missing(const std::filesystem::path &path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 || errno != ENOENT) return false; // from_pem_file judges what is there
  files::create_missing_dirs(path.parent_path());
  EVP_PKEY *k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  BIO *mem = BIO_new(BIO_s_secmem());
  BUF_MEM *buf = nullptr;
  const bool ok = k && mem && PEM_write_bio_PrivateKey(mem, k, nullptr, nullptr, 0, nullptr, nullptr) == 1 &&
                  BIO_get_mem_ptr(mem, &buf) == 1 && buf != nullptr;
  EVP_PKEY_free(k);
  bool created = false;
  try {
    if (ok) created = files::write_new_private_file(path, {buf->data, buf->length});
  } catch (const files::file_error &e) {
    BIO_free(mem);
    throw note_error(e.what());
  }
  BIO_free(mem); // a secure-heap BIO: its bytes are wiped when freed
  if (!ok) throw note_error(fmt::format("{}: cannot generate an Ed25519 key", path.string()));
  return created;
}

signer signer::from_seed(std::string_view seed32, std::string name) {
  signer s;
  s.p_ = std::make_unique<impl>();
  s.p_->key.k = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char *>(seed32.data()),
      seed32.size());
  if (!s.p_->key.k) throw note_error("invalid Ed25519 seed");
  s.name_ = std::move(name);
  s.pub_ = raw_public(s.p_->key.k);
  s.id_ = key_id(s.name_, s.pub_);
  return s;
}

std::string signer::verifier_key() const {
  return fmt::format("{}+{:08x}+{}", name_, id_, base64("\x01" + pub_));
}

std::string signer::sign(std::string_view text) const {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  std::string sig(64, '\0');
  size_t len = 64;
  const bool ok =
      ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, p_->key.k) == 1 &&
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(sig.data()), &len,
                     reinterpret_cast<const unsigned char *>(text.data()), text.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != 64) throw note_error("Ed25519 signing failed");
  return sig;
}

std::string signer::signature_line(std::string_view text) const {
  std::string blob(4, '\0');
  for (int i = 0; i < 4; ++i) blob[static_cast<size_t>(i)] = static_cast<char>(id_ >> (24 - 8 * i));
  return fmt::format("{} {} {}\n", em_dash, name_, base64(blob + sign(text)));
}

bool ed25519_verify(std::string_view pub32, std::string_view msg, std::string_view sig64) {
  pkey_ptr k;
  k.k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                    reinterpret_cast<const unsigned char *>(pub32.data()),
                                    pub32.size());
  if (!k.k || sig64.size() != 64) return false;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, k.k) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char *>(sig64.data()), 64,
                       reinterpret_cast<const unsigned char *>(msg.data()), msg.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::optional<uint64_t> parse_u64(std::string_view digits) {
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}

vkey_parts split_vkey(std::string_view text, std::string_view what) {
  const auto p1 = text.find('+');
  const auto p2 = p1 == std::string_view::npos ? p1 : text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) throw note_error(fmt::format("{}: expected name+keyid+key", what));
  vkey_parts v;
  v.name = std::string(text.substr(0, p1));
  const auto hex = text.substr(p1 + 1, p2 - p1 - 1);
  if (v.name.empty() || v.name.find_first_of(" \t\n") != std::string::npos || hex.size() != 8 ||
      hex.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    throw note_error(fmt::format("{}: bad name or key id", what));
  const auto key = unbase64(text.substr(p2 + 1));
  if (!key || key->size() != 33) throw note_error(fmt::format("{}: not base64 of a type byte and 32 bytes", what));
  v.type = (*key)[0];
  v.pub = key->substr(1);
  std::from_chars(hex.data(), hex.data() + hex.size(), v.id, 16); // 8 hex digits: fits
  return v;
}

verifier_key parse_verifier_key(std::string_view text) {
  auto p = split_vkey(text, "verifier key");
  if (!valid_key_name(p.name)) throw note_error("verifier key: bad name or key id");
  if (p.type != '\x01') throw note_error("verifier key: not an Ed25519 key (0x01 || 32 bytes)");
  verifier_key v;
  v.name = std::move(p.name);
  v.pub = std::move(p.pub);
  v.id = p.id;
  if (v.id != key_id(v.name, v.pub)) throw note_error("verifier key: key id does not match key");
  return v;
}

namespace {
void check_note_bytes(std::string_view b) {
  if (b.size() > max_note_bytes) throw note_error(fmt::format("note larger than {} bytes", max_note_bytes));
  for (char c : b) {
    if (c == '\r') throw note_error("note contains CR (CRLF line endings)");
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n')
      throw note_error("note contains a control character");
  }
  if (b.empty() || b.back() != '\n') throw note_error("note does not end with a newline");
}

note_signature parse_signature_line(std::string_view line) {
  if (line.substr(0, 4) != fmt::format("{} ", em_dash)) {
    if (line.substr(0, 2) == "- " || line.substr(0, 3) == "-- ")
      throw note_error("signature line starts with an ASCII hyphen, not an em dash (U+2014)");
    throw note_error("malformed signature line (expected '— name signature')");
  }
  line.remove_prefix(4);
  const auto sp = line.find(' ');
  if (sp == std::string_view::npos) throw note_error("malformed signature line: no signature");
  note_signature s;
  s.name = std::string(line.substr(0, sp));
  if (!valid_key_name(s.name)) throw note_error("malformed signature line: bad key name");
  const auto blob = unbase64(line.substr(sp + 1));
  if (!blob) throw note_error("signature is not standard base64");
  if (blob->size() < 5) throw note_error("signature too short");
  s.id = (uint32_t(uint8_t((*blob)[0])) << 24) | (uint32_t(uint8_t((*blob)[1])) << 16) |
         (uint32_t(uint8_t((*blob)[2])) << 8) | uint8_t((*blob)[3]);
  s.sig = blob->substr(4);
  return s;
}
} // namespace

note parse_note(std::string_view b) {
  check_note_bytes(b);
  const auto split = b.rfind("\n\n");
  if (split == std::string_view::npos) throw note_error("note has no blank line before its signatures");
  note n;
  n.text = std::string(b.substr(0, split + 1));
  std::string_view sigs = b.substr(split + 2);
  while (!sigs.empty()) {
    const auto nl = sigs.find('\n');
    n.sigs.push_back(parse_signature_line(sigs.substr(0, nl)));
    if (n.sigs.size() > max_note_signatures)
      throw note_error(fmt::format("note has more than {} signatures", max_note_signatures));
    sigs.remove_prefix(nl + 1);
  }
  if (n.sigs.empty()) throw note_error("note has no signatures");
  return n;
}

std::string checkpoint_text(const checkpoint &c) {
  std::string out = fmt::format("{}\n{}\n{}\n", c.origin, c.size,
                                base64(std::string_view(reinterpret_cast<const char *>(c.root.data()), 32)));
  for (const auto &e : c.extensions) out += e + "\n";
  return out;
}

checkpoint parse_checkpoint_text(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) throw note_error("checkpoint text does not end with a newline");
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) throw note_error("checkpoint needs origin, size and root lines");
  checkpoint c;
  c.origin = std::string(lines[0]);
  if (c.origin.empty()) throw note_error("checkpoint origin is empty");
  const auto sz = lines[1];
  if (sz.empty() || sz.size() > 20 || sz.find_first_not_of("0123456789") != std::string_view::npos ||
      (sz.size() > 1 && sz[0] == '0'))
    throw note_error(fmt::format("checkpoint size '{}' is not a canonical decimal", sz));
  const auto size = parse_u64(sz);
  if (!size) throw note_error(fmt::format("checkpoint size '{}' is larger than 2^64-1", sz));
  c.size = *size;
  const auto root = unbase64(lines[2]);
  if (!root) throw note_error("checkpoint root is not standard base64");
  if (root->size() != 32) throw note_error(fmt::format("checkpoint root is {} bytes, not 32", root->size()));
  std::copy(root->begin(), root->end(), reinterpret_cast<char *>(c.root.data()));
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) throw note_error("checkpoint has an empty extension line");
    c.extensions.emplace_back(lines[i]);
  }
  return c;
}

} // namespace reclaim::audit
