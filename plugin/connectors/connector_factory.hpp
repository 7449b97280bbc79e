// connector_factory.hpp — builds the connector for a [connector.NAME]
// instance. Instances are shared by all scheduler threads of one engine, so
// one tenant has one token cache, one rate limiter and one bound on
// concurrent requests, however many workers run.
#pragma once

#include "config/config.hpp"
#include "dispatch/connector.hpp"

#include <memory>

namespace reclaim {

std::shared_ptr<connector> make_connector(const connector_settings &s, const logger &log);
// The instance for (cfg, s.name), created on first use.
std::shared_ptr<connector> shared_connector(const config &cfg, const connector_settings &s, const logger &log);

} // namespace reclaim
