// connector_factory.cpp — the type → class switch and the per-config cache
// of live instances (weak pointers: the instances go when the last
// scheduler of that engine goes).
#include "connectors/connector_factory.hpp"

#include "connectors/google_connector.hpp"
#include "connectors/graph_connector.hpp"
#include "connectors/scim_connector.hpp"
#include "connectors/webhook_connector.hpp"

#include <map>
#include <mutex>

namespace reclaim {

std::shared_ptr<connector> make_connector(const connector_settings &s, const logger &log) {
  (void)log;
  if (s.type == "msgraph") return std::make_shared<graph_connector>(s);
  if (s.type == "google") return std::make_shared<google_connector>(s);
  if (s.type == "scim") return std::make_shared<scim_connector>(s);
  if (s.type == "webhook") return std::make_shared<webhook_connector>(s);
  throw std::runtime_error("connector type \"" + s.type + "\" is not available in this build");
}

std::shared_ptr<connector> shared_connector(const config &cfg, const connector_settings &s, const logger &log) {
  static std::mutex mu;
  static std::map<std::pair<const void *, std::string>, std::weak_ptr<connector>> live;
  std::lock_guard lock(mu);
  auto &slot = live[{&cfg, s.name}];
  if (auto c = slot.lock()) return c;
  auto c = make_connector(s, log);
  slot = c;
  return c;
}

} // namespace reclaim
