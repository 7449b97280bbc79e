// webhook_connector.cpp — one signed POST per notification. The receiver's
// answer decides: 2xx delivered (a receiver that saw the delivery id before
// answers 2xx too), 429/5xx and transport failures retried, other 4xx
// permanent with the receiver's words.
#include "connectors/webhook_connector.hpp"

#include "policy/costs.hpp"

#include "http/jwt.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

namespace reclaim {

std::string hmac_hex(const std::string &digest, const std::string &key, const std::string &text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest.c_str(), nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char *>(text.data()), text.size(), md, sizeof md, &len) == nullptr ||
      len == 0)
    fail_transient(fmt::format("HMAC-{} of the webhook body failed: {}", digest, http::openssl_reason()));
  std::string hex;
  for (size_t i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

std::string webhook_signature(const std::string &secret, int64_t unix_time, const std::string &body) {
  return fmt::format("t={},v1={}", unix_time, hmac_hex("SHA256", secret, fmt::format("{}.{}", unix_time, body)));
}

webhook_connector::webhook_connector(const connector_settings &s)
    : api_(s, nullptr), secret_(http::read_secret_file(s.secret_file)) {}

connector_result webhook_connector::execute(const action_row &a, const application &app) {
  return guarded([&]() -> connector_result {
    if (a.kind != action_kind::notify && a.kind != action_kind::transfer_ownership)
      fail_permanent(fmt::format("the webhook connector only delivers notifications, not {}", action_kind_name(a.kind)));
    const auto target = a.target.empty() ? std::string("manager") : a.target;
    nlohmann::json body{{"id", a.idempotency_key}, {"type", fmt::format("reclaim.{}", action_kind_name(a.kind))},
                        {"target", target}, {"plan", a.plan_id}, {"application", {{"id", app.id}, {"name", app.name}}},
                        {"subject", {{"id", a.subject_id}, {"name", a.subject_name}}}, {"sku", a.sku},
                        {"occurred_at", format_utc(now())}};
    // The planner names the SKUs this notice is about (the plan's licence
    // actions on this application); their catalogue cost, not the sum of
    // every SKU the application has.
    std::vector<std::string> skus;
    for (size_t from = 0; from < a.sku.size();) {
      const auto comma = std::min(a.sku.find(',', from), a.sku.size());
      if (comma > from) skus.push_back(a.sku.substr(from, comma - from));
      from = comma + 1;
    }
    std::string currency;
    const double cost = skus_cost(app, skus, currency);
    body["sku"] = skus.empty() ? "" : skus.front();
    body["skus"] = skus;
    body["monthly_cost"] = {{"amount", cost}, {"currency", currency.empty() ? "EUR" : currency}};
    const auto text = body.dump();
    const auto t = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
    const auto resp = api_.call({"POST", api_.settings().url,
                                 {{"Content-Type", "application/json"},
                                  {"X-Reclaim-Signature", webhook_signature(secret_, t, text)},
                                  {"X-Reclaim-Delivery", a.idempotency_key}},
                                 text},
                                1);
    if (resp.status >= 200 && resp.status < 300)
      return {connector_result::outcome::done, fmt::format("{} notified (HTTP {})", target, resp.status), "{}"};
    api_.fail_status(resp, "webhook " + api_.settings().url, http::printable_prefix(resp.body, 200));
  });
}

} // namespace reclaim
