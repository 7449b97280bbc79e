// webhook_connector.hpp — notifications to finance, ITSM or a manager as a
// JSON POST signed with HMAC-SHA256 over "timestamp.body". The header
// carries both (X-Reclaim-Signature: t=<unix>,v1=<hex>), so the receiver can
// verify and refuse replays and stale deliveries; X-Reclaim-Delivery carries
// the action's idempotency key, so a retried delivery is recognised.
#pragma once

#include "connectors/vendor_api.hpp"

namespace reclaim {

// "t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>"; a failure of
// OpenSSL is an action_failure (transient), never an empty signature.
std::string webhook_signature(const std::string &secret, int64_t unix_time, const std::string &body);
// Hex HMAC of text under key with the named digest ("SHA256"); throws
// action_failure (transient) with OpenSSL's reason when it fails.
std::string hmac_hex(const std::string &digest, const std::string &key, const std::string &text);

class webhook_connector : public connector {
public:
  explicit webhook_connector(const connector_settings &s);
  connector_result execute(const action_row &action, const application &app) override;
  std::vector<std::string> notify_targets() const override { return api_.settings().targets; }

private:
  vendor_api api_;
  std::string secret_;
};

} // namespace reclaim
