// local_connector.hpp — the embedded licence inventory: SQLite tables of
// access and licence assignments inside the state store, acted on like a
// vendor would be. The embedded default for sites and demos without a SaaS
// tenant; each effect is recorded under the action's idempotency key in the
// same transaction, so a replayed action finds its effect already there.
#pragma once

#include "dispatch/connector.hpp"
#include "store/sqlite.hpp"

#include <chrono>
#include <vector>

namespace reclaim {

struct assignment {
  std::string subject_id, app, sku, status;
};

void ensure_inventory_schema(sqlite::database &db);
// Licences (status "licence", with a SKU) and access rows of a person, or
// of everyone when subject is "".
std::vector<assignment> inventory_list(sqlite::database &db, const std::string &subject);

class local_connector : public connector {
public:
  explicit local_connector(sqlite::database &db);
  connector_result execute(const action_row &action, const application &app) override;

  // Inventory administration (reclaimctl inventory …).
  void assign(const std::string &subject, const std::string &app, const std::string &sku);
  void grant(const std::string &subject, const std::string &app);

private:
  connector_result apply(const action_row &a, const application &app);
  sqlite::database &db_;
};

} // namespace reclaim
