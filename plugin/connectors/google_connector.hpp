// google_connector.hpp — Google Workspace Enterprise License Manager
// (licensing v1): a service-account JWT bearer token (RS256, signed with
// OpenSSL, `sub` = the admin to impersonate), licence removal
// (DELETE …/product/{p}/sku/{s}/user/{u}) after a GET shows it assigned,
// reassignment to another SKU for downgrades, insert for restores.
#pragma once

#include "connectors/vendor_api.hpp"

namespace reclaim {

class google_connector : public connector {
public:
  explicit google_connector(const connector_settings &s);
  connector_result execute(const action_row &action, const application &app) override;

private:
  connector_result act(const action_row &a, const application &app);
  bool assigned(const std::string &sku, const std::string &user);
  std::string url(const std::string &sku, const std::string &user = "") const;
  [[noreturn]] void fail(const http::response &r, const std::string &what);
  vendor_api api_;
};

} // namespace reclaim
