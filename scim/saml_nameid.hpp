// saml_nameid.hpp — SAML 2.0 Name Identifier Management (core §3.6): the
// identity provider's signed ManageNameIDRequest with <Terminate/>, over the
// SOAP or HTTP-POST binding, verified with xmlsec1 against the IdP's metadata
// certificates and refused when wrapped, stale or replayed; and the
// ManageNameIDResponse the binding expects. docs/saml.md has the rules.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace reclaim::saml {

using time_point = std::chrono::system_clock::time_point;

inline constexpr const char *protocol_ns = "urn:oasis:names:tc:SAML:2.0:protocol";
inline constexpr const char *assertion_ns = "urn:oasis:names:tc:SAML:2.0:assertion";
inline constexpr const char *metadata_ns = "urn:oasis:names:tc:SAML:2.0:metadata";
inline constexpr const char *soap_ns = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr const char *status_success = "urn:oasis:names:tc:SAML:2.0:status:Success";
// Larger messages are refused before parsing (a real one is a few KiB).
inline constexpr std::size_t max_message_bytes = 256 * 1024;

// Why a message (or metadata) was refused; append only, names are stable
// (the host logs reason_name and answers http_status).
enum class reason {
  too_large,           // more than max_message_bytes
  malformed_base64,    // the SAMLRequest form field is not base64
  malformed_xml,       // not well-formed XML
  doctype,             // a DOCTYPE (DTDs and entities are never processed)
  not_manage_name_id,  // not a (SOAP-enveloped) samlp:ManageNameIDRequest
  missing_field,       // ID, Version 2.0, IssueInstant, Issuer, NameID, ...
  unsigned_message,    // no ds:Signature at all
  signature_not_child, // a signature, but not a direct child of the request
  multiple_signatures, // more than one ds:Signature child of the request
  reference_not_root,  // Reference count != 1 or URI != "#<ID of the request>"
  duplicate_id,        // the request's ID occurs more than once
  bad_transform,       // a transform other than enveloped-signature, exc-c14n
  weak_algorithm,      // SHA-1 (digest or signature)
  unsupported_algorithm,
  bad_signature,       // xmlsec1: no trusted key verifies the signature
  wrong_issuer,
  wrong_destination,
  not_yet_valid,       // IssueInstant more than max_skew in the future
  expired,             // IssueInstant more than max_skew ago, or NotOnOrAfter passed
  replayed,            // this ID was accepted before
  new_id_unsupported,  // NewID / NewEncryptedID: only Terminate is supported
  unsupported_name_id, // EncryptedID, or a NameID holding more than text
  bad_metadata,        // the IdP metadata or the SP key could not be used
  internal,            // xmlsec1 failed to initialise or to work
};
const char *reason_name(reason r);
// 400 for a message that is not a well-formed request, 403 for one that is
// refused (signature, wrapping, issuer, time, replay), 500 for internal.
int http_status(reason r);

class saml_error : public std::runtime_error {
public:
  saml_error(reason r, const std::string &detail);
  reason code() const noexcept { return code_; }

private:
  reason code_;
};

// True if the ID was not seen before (and is now remembered until expires),
// false for a replay. Provided by the host so the store outlives a restart.
using remember_once_fn = std::function<bool(std::string_view id, time_point expires)>;

// A small in-memory store (tests and single-process hosts); entries are
// dropped once their expiry has passed by the system clock. Thread-safe.
class memory_replay_cache {
public:
  memory_replay_cache();
  ~memory_replay_cache();
  bool remember_once(std::string_view id, time_point expires);
  remember_once_fn function(); // calls remember_once; the cache must outlive it
  std::size_t size() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// What a request is checked against. entity_id and certificates come from
// the IdP's metadata (parse_idp_metadata), the rest from configuration.
struct idp_trust {
  std::string entity_id;                 // Issuer must equal it
  std::vector<std::string> certificates; // DER X.509, use="signing" (or no use)
  std::string destination;               // Destination must equal it (our endpoint URL)
  std::chrono::seconds max_skew{300};    // allowed |now - IssueInstant|
  remember_once_fn remember_once;        // required
};

// Reads EntityDescriptor/IDPSSODescriptor/KeyDescriptor[use=signing]
// X509Certificate (and the entityID) into trust; throws saml_error(bad_metadata).
void parse_idp_metadata(std::string_view metadata_xml, idp_trust &trust);

struct name_id {
  std::string value, format, sp_name_qualifier, name_qualifier;
};

struct verified_request {
  std::string id, issuer, destination;
  time_point issue_instant;
  name_id name;
  bool terminate = false; // always true: NewID is refused
  bool soap = false;      // arrived in a SOAP envelope (answer in one)
};

// A SOAP-enveloped or bare ManageNameIDRequest. Throws saml_error (and
// std::bad_alloc) only; the replay store is asked last, for a valid request.
verified_request verify_manage_name_id(std::string_view xml, const idp_trust &trust, time_point now);
// The HTTP-POST binding: the value of the SAMLRequest form field, already
// form-decoded by the host (base64 of the XML). Throws as above.
verified_request verify_manage_name_id_post(std::string_view saml_request, const idp_trust &trust,
                                            time_point now);

// The SP's key for signing responses (PEM private key, RSA or P-256, and
// optionally its PEM certificate, put into the signature's KeyInfo).
class signing_key {
public:
  signing_key(std::string key_pem, std::string cert_pem = {});
  static signing_key load(const std::filesystem::path &key_file,
                          const std::filesystem::path &cert_file = {});
  const std::string &key_pem() const { return key_pem_; }
  const std::string &cert_pem() const { return cert_pem_; }

private:
  std::string key_pem_, cert_pem_;
};

// samlp:ManageNameIDResponse InResponseTo the request; status_code is a full
// SAML status URN or its last part ("Success", "Requester", "Responder").
// In a SOAP envelope if the request came in one, else bare (the host
// base64-encodes it for HTTP-POST). Signed (enveloped, exc-c14n, SHA-256)
// when key is given. Throws saml_error.
std::string manage_name_id_response(const verified_request &request, std::string_view status_code,
                                    std::string_view sp_entity_id, std::string_view response_id,
                                    time_point now, const signing_key *key = nullptr);

// Initialises libxml2 and xmlsec1 (OpenSSL) once per process; everything
// here calls it, a host may call it at start. Installs xmlsec1's error
// callback (messages become refusal details, not stderr). Throws saml_error.
void init_xmlsec();

// Base64 as in the POST binding, decoded with OpenSSL EVP (line breaks
// allowed); throws saml_error(malformed_base64).
std::string base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

// The host's configuration of the SAML endpoint ([scim_server.saml] when the
// lead wires it into reclaim-scimd).
struct endpoint_config {
  std::string endpoint_url;           // the Destination the IdP uses
  std::filesystem::path metadata_file; // the IdP's EntityDescriptor
  std::string sp_entity_id;           // our entityID, the response's Issuer
  std::chrono::seconds max_skew{300};
  std::filesystem::path sp_key_file, sp_cert_file; // optional: sign responses
  std::string terminate_state = "terminated";      // the lifecycle state a Terminate becomes
};
// The trust of an endpoint: its metadata file read and parsed, its URL and skew.
idp_trust load_trust(const endpoint_config &config, remember_once_fn remember_once);

} // namespace reclaim::saml
