// google_connector.cpp — check (GET the assignment), act (DELETE, PATCH,
// POST), and on a lost answer check again. Google reports an exceeded quota
// as 503 (and some limits as 403 rateLimitExceeded / 429): transient, with
// the scheduler's exponential backoff; other 4xx are permanent with
// Google's error message.
#include "connectors/google_connector.hpp"

#include "base/private_files.hpp"
#include "http/jwt.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace reclaim {
namespace {

using json = nlohmann::json;
using outcome = connector_result::outcome;

std::shared_ptr<http::token_cache> google_tokens(const connector_settings &s, http::client &c) {
  auto key_file = json::parse(files::read_secret(s.service_account_file, http::max_secret_bytes).view(), nullptr, false);
  if (!key_file.is_object() || !key_file.contains("client_email") || !key_file.contains("private_key") ||
      !key_file["client_email"].is_string() || !key_file["private_key"].is_string())
    throw std::runtime_error(s.service_account_file + ": not a service account key (client_email, private_key)");
  const auto email = key_file["client_email"].get<std::string>();
  // Parsed once into a key object; the PEM text in the parsed JSON is wiped.
  auto &pem = key_file["private_key"].get_ref<std::string &>();
  std::shared_ptr<EVP_PKEY> key;
  try {
    key.reset(files::parse_private_key_pem(pem, s.service_account_file + ": private_key"), EVP_PKEY_free);
  } catch (...) {
    OPENSSL_cleanse(pem.data(), pem.size());
    throw;
  }
  OPENSSL_cleanse(pem.data(), pem.size());
  json header{{"alg", "RS256"}, {"typ", "JWT"}};
  if (key_file.contains("private_key_id") && key_file["private_key_id"].is_string())
    header["kid"] = key_file["private_key_id"];
  return std::make_shared<http::token_cache>([&c, s, email, key, header] {
    const auto t = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
    const json claims{{"iss", email}, {"scope", s.scope}, {"aud", s.token_url}, {"sub", s.admin_subject},
                      {"iat", t}, {"exp", t + 3600}};
    return http::fetch_oauth_token(c, s.token_url, {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                                    {"assertion", http::sign_rs256(header, claims, *key)}});
  });
}

std::string google_error(const std::string &body) {
  const auto j = parse_error_body(body);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto &e = j["error"];
    std::string reason;
    if (e.contains("errors") && e["errors"].is_array() && !e["errors"].empty() && e["errors"][0].is_object() &&
        e["errors"][0].contains("reason") && e["errors"][0]["reason"].is_string())
      reason = http::printable_prefix(e["errors"][0]["reason"].get<std::string>(), 80);
    const auto message = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "?";
    return fmt::format("{}{}{}", reason, reason.empty() ? "" : ": ", http::printable_prefix(message, 200));
  }
  return http::printable_prefix(body, 160);
}

} // namespace

google_connector::google_connector(const connector_settings &s) : api_(s, nullptr) {
  api_.set_tokens(google_tokens(s, api_.client()));
}

std::string google_connector::url(const std::string &sku, const std::string &user) const {
  const auto &s = api_.settings();
  return fmt::format("{}/product/{}/sku/{}/user{}", s.base_url, path_segment(s.product_id, "the Google product id"),
                     path_segment(sku, "the Google SKU id"), user.empty() ? "" : "/" + path_segment(user, "the user key"));
}

void google_connector::fail(const http::response &r, const std::string &what) {
  const auto detail = google_error(r.body);
  if (r.status == 403 && detail.find("rateLimitExceeded") != std::string::npos)
    fail_transient(fmt::format("{}: HTTP 403: {}", what, detail));
  api_.fail_status(r, what, detail);
}

bool google_connector::assigned(const std::string &sku, const std::string &user) {
  const auto r = api_.call({"GET", url(sku, user), {{"Accept", "application/json"}}, ""}, 0);
  if (r.status == 404) return false;
  if (r.status != 200) fail(r, "Google GET licence assignment");
  const auto j = parse_object(r.body, "Google GET licence assignment");
  if (!j.contains("skuId") || !j["skuId"].is_string())
    fail_transient("Google licence assignment answer without a string skuId");
  return true;
}

connector_result google_connector::act(const action_row &a, const application &app) {
  const auto &s = api_.settings();
  const auto user = subject_key(a, s.user_attribute);
  (void)path_segment(user, "the user key"); // refused before any request, even one without it in the path
  std::vector<std::string> skus;
  if (!a.sku.empty()) skus.push_back(s.vendor_sku(a.sku));
  else
    for (const auto &k : app.skus) skus.push_back(s.vendor_sku(k.id));
  const auto send = [&](const std::string &method, const std::string &u, const std::string &body,
                        const std::function<bool()> &applied) {
    try {
      const auto r = api_.call({method, u, {{"Content-Type", "application/json"}, {"Accept", "application/json"}}, body}, 1);
      if (r.status < 200 || r.status >= 300) fail(r, fmt::format("Google {} {}", method, u));
    } catch (const http::transport_error &e) {
      if (!e.maybe_applied() || !applied()) throw; // the answer was lost: checked again
    }
  };
  switch (a.kind) {
  case action_kind::reclaim_licence: {
    std::vector<std::string> removed;
    for (const auto &sku : skus) {
      if (!assigned(sku, user)) continue;
      send("DELETE", url(sku, user), "", [&] { return !assigned(sku, user); });
      removed.push_back(sku);
    }
    if (removed.empty()) return {outcome::already_done, "no licence of this application assigned", "{}"};
    return {outcome::done, fmt::format("removed {}", fmt::join(removed, ", ")), json{{"skus", removed}, {"catalogue_skus", s.catalogue_skus(removed)}}.dump()};
  }
  case action_kind::downgrade_licence: {
    const auto to = s.vendor_sku(a.to_sku);
    for (const auto &sku : skus) {
      if (sku == to || !assigned(sku, user)) continue;
      send("PATCH", url(sku, user), json{{"skuId", to}}.dump(), [&] { return assigned(to, user); });
      return {outcome::done, fmt::format("reassigned {} -> {}", sku, to), json{{"skus", {sku}}, {"added", to}, {"catalogue_skus", s.catalogue_skus({sku})}}.dump()};
    }
    return {outcome::already_done, "no licence to downgrade", "{}"};
  }
  case action_kind::assign_licence: {
    const auto image = json::parse(a.before_image.empty() ? "{}" : a.before_image, nullptr, false);
    std::vector<std::string> added;
    if (image.is_object() && image.contains("skus") && image["skus"].is_array())
      for (const auto &j : image["skus"]) {
        if (!j.is_string() || assigned(j.get<std::string>(), user)) continue;
        const auto sku = j.get<std::string>();
        if (image.contains("added") && image["added"].is_string() && assigned(image["added"].get<std::string>(), user)) {
          send("PATCH", url(image["added"].get<std::string>(), user), json{{"skuId", sku}}.dump(),
               [&] { return assigned(sku, user); });
        } else {
          send("POST", url(sku), json{{"userId", user}}.dump(), [&] { return assigned(sku, user); });
        }
        added.push_back(sku);
      }
    if (added.empty()) return {outcome::already_done, "licences already assigned", "{}"};
    return {outcome::done, fmt::format("assigned {}", fmt::join(added, ", ")), "{}"};
  }
  default:
    fail_permanent(fmt::format("the google licensing connector manages licences only, not {}", action_kind_name(a.kind)));
  }
}

connector_result google_connector::execute(const action_row &a, const application &app) {
  return guarded([&] { return act(a, app); });
}

} // namespace reclaim
