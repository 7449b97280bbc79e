// scim_service.hpp — the SCIM 2.0 service provider of reclaim-scimd: bearer
// authentication and roles, routing under /scim/v2, CRUD and list on the
// resource store, and for every User change that maps to a lifecycle event,
// the event journalled before the store commits (a 2xx means both are
// durable; PUT/PATCH through group_commit).
// Other intake endpoints (/hr/v1/workers, SAML) register with add_route().
#pragma once

#include "engine_lib.hpp"
#include "group_commit.hpp"
#include "http_server.hpp"
#include "resource_store.hpp"
#include "scimd_config.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace reclaim::scimd {

struct caller {
  role who = role::reader;
  std::string name; // the token's name, the actor of events
};

class scim_service {
public:
  // engine may be null only in tests that need no events.
  scim_service(const scimd_config &cfg, resource_store &store, engine_lib *engine);
  ~scim_service(); // commits what is queued

  http_response handle(const http_request &req);

  // SCIM Error body with Content-Type application/scim+json.
  static http_response error(int status, const std::string &scim_type, const std::string &detail);

  // An extra endpoint: requests whose path equals `path` are authenticated
  // and, when the caller has `needed`, passed to `handler`. For the HR XML
  // intake (/hr/v1/workers, role hr) and the SAML endpoint.
  using route_handler = std::function<http_response(const http_request &, const caller &)>;
  void add_route(std::string path, role needed, route_handler handler);

private:
  struct route {
    std::string path;
    role needed;
    route_handler handler;
  };
  const scimd_config &cfg_;
  resource_store &store_;
  engine_lib *engine_;
  std::mutex mu_; // the store's read connection, and the order of changes
  std::unique_ptr<group_commit> commits_; // PUT/PATCH (see scim_service.cpp)
  std::vector<route> routes_;

  std::optional<caller> authenticate(const http_request &req) const;
  http_response dispatch(const http_request &req, const caller &who);
  void drop_member(const std::string &user_id, const std::string &group_location);
};

} // namespace reclaim::scimd
