// jwt.hpp — RS256 JSON Web Tokens signed with OpenSSL, for the two OAuth
// flows that use an assertion instead of a secret: Google's service-account
// JWT bearer grant (RFC 7523) and Microsoft's certificate credential.
#pragma once

#include <nlohmann/json.hpp>
#include <openssl/types.h>
#include <string>

namespace reclaim::http {

std::string base64url(const std::string &bytes);
// n bytes from OpenSSL's DRBG (RAND_bytes_ex) at least `strength` bits
// strong (0: the DRBG's default); throws std::runtime_error with OpenSSL's
// reason when it cannot give them (never returns unfilled bytes).
std::string random_bytes(size_t n, unsigned strength = 0);
// The reason OpenSSL's error queue gives for the last failure (and clears it).
std::string openssl_reason();
// header.claims.signature; the key is a PEM RSA private key. Throws on a
// key OpenSSL cannot read.
std::string sign_rs256(const nlohmann::json &header, const nlohmann::json &claims, const std::string &pem_key);
// The same with a key parsed once (http::read_private_key_file).
std::string sign_rs256(const nlohmann::json &header, const nlohmann::json &claims, EVP_PKEY &key);
// base64url(SHA-1 of the DER certificate): the "x5t" header Entra expects.
std::string cert_thumbprint_x5t(const std::string &pem_cert);

} // namespace reclaim::http
