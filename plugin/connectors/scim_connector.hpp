// scim_connector.hpp — outbound SCIM 2.0 to any service provider (Slack,
// Zoom, GitHub EMU, Atlassian, …): find the person by userName, read the
// User (and its ETag), deactivate with PATCH active=false (or DELETE, per
// config, for revoke_access), reactivate with active=true for restores;
// If-Match with the ETag when the provider offers one, and the SCIM error
// schema as the failure reason.
#pragma once

#include "connectors/vendor_api.hpp"
#include "scim/scim_protocol.hpp"

namespace reclaim {

class scim_connector : public connector {
public:
  explicit scim_connector(const connector_settings &s);
  connector_result execute(const action_row &action, const application &app) override;

private:
  connector_result act(const action_row &a);
  // The one User whose match_by attribute is key; nullopt when none.
  std::optional<scim::user> find(const std::string &key);
  std::pair<scim::user, std::string> get(const std::string &id); // user, ETag ("" if none)
  connector_result write(const action_row &a, const scim::user &u, const std::string &etag, bool to_delete,
                         bool active);
  [[noreturn]] void fail(const http::response &r, const std::string &what);
  vendor_api api_;
};

} // namespace reclaim
