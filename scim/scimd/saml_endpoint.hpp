// saml_endpoint.hpp — the SAML ManageNameIDRequest endpoint of reclaim-scimd
// ([scim_server.saml]): SOAP (text/xml) or HTTP-POST (SAMLRequest=) binding,
// verified by scim/saml_nameid against the IdP's metadata, IDs remembered in
// replay_store, the NameID mapped to a subject and submitted (source "saml",
// key "saml/<issuer>/<ID>"), answered with a ManageNameIDResponse. It takes
// no bearer token: the IdP's XML signature is the authentication.
#pragma once

#include "engine_lib.hpp"
#include "http_server.hpp"
#include "replay_store.hpp"
#include "resource_store.hpp"
#include "scimd_config.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace reclaim::scimd {

struct saml_settings {
  std::string path = "/saml/nameid";  // where reclaim-scimd serves it
  saml::endpoint_config endpoint;     // destination URL, metadata, SP entity id, skew, SP key, terminate_state
  // "nameid": the NameID is the subject id as is; "userName" / "externalId":
  // the SCIM User with that attribute equal to the NameID, whose subject id
  // is [scim_server] subject_key's value (as for SCIM events).
  std::string subject = "nameid";
};

// [scim_server.saml] of path; nullopt when absent or enabled = false.
// Throws config_error("file:line:col: key: problem").
std::optional<saml_settings> load_saml_settings(const std::string &path);

class saml_endpoint {
public:
  // Reads the metadata (and SP key) now: a bad file stops the start.
  // Throws config_error / saml::saml_error / store_error.
  saml_endpoint(saml_settings settings, const scimd_config &cfg, engine_lib &engine);
  const std::string &path() const { return settings_.path; }
  // Never throws.
  http_response handle(const http_request &req);

private:
  saml_settings settings_;
  const scimd_config &cfg_;
  engine_lib &engine_;
  replay_store replay_;
  saml::idp_trust trust_;
  std::optional<saml::signing_key> key_;
  std::mutex lookup_mu_;
  std::unique_ptr<resource_store> lookup_; // its own connection, for subject = userName/externalId

  http_response serve(const http_request &req);
  http_response record(const saml::verified_request &v, saml::time_point now);
  std::string subject_of(const saml::verified_request &v);
};

} // namespace reclaim::scimd
