// jwt.cpp — base64url, RSA-SHA256 signing and certificate thumbprints with
// OpenSSL 3 (EVP); nothing cryptographic is written by hand.
#include "http/jwt.hpp"

#include "base/private_files.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace reclaim::http {

std::string base64url(const std::string &bytes) {
  std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char *>(bytes.data()),
                                static_cast<int>(bytes.size()));
  std::string s(reinterpret_cast<char *>(out.data()), static_cast<size_t>(n));
  for (auto &c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::string openssl_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no reason given";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string random_bytes(size_t n, unsigned strength) {
  std::string out(n, '\0');
  if (RAND_bytes_ex(nullptr, reinterpret_cast<unsigned char *>(out.data()), n, strength) != 1)
    throw std::runtime_error("OpenSSL could not give random bytes: " + openssl_reason());
  return out;
}

std::string sign_rs256(const nlohmann::json &header, const nlohmann::json &claims, const std::string &pem_key) {
  const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      files::parse_private_key_pem(pem_key, "the private key"), EVP_PKEY_free);
  return sign_rs256(header, claims, *key);
}

std::string sign_rs256(const nlohmann::json &header, const nlohmann::json &claims, EVP_PKEY &key) {
  const std::string input = base64url(header.dump()) + "." + base64url(claims.dump());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, &key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char *>(input.data()), input.size()) != 1)
    throw std::runtime_error("RS256 signing failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(sig.data()), &len,
                     reinterpret_cast<const unsigned char *>(input.data()), input.size()) != 1)
    throw std::runtime_error("RS256 signing failed");
  sig.resize(len);
  return input + "." + base64url(sig);
}

std::string cert_thumbprint_x5t(const std::string &pem_cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem_cert.data(), static_cast<int>(pem_cert.size())),
                                                BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) throw std::runtime_error("the certificate is not a PEM certificate OpenSSL can read");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert.get(), EVP_sha1(), md, &n) != 1) throw std::runtime_error("certificate digest failed");
  return base64url(std::string(reinterpret_cast<char *>(md), n));
}

} // namespace reclaim::http
