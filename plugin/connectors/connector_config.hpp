// connector_config.hpp — [connector.NAME] tables of reclaim.toml: one
// instance per vendor tenant (type msgraph, google, scim or webhook), with
// its endpoints, secret files, TLS and proxy settings and the published
// rate limits it must follow. Applications name an instance in their
// `connector` key; "local" is built in.
#pragma once

#include "http/http_client.hpp"

#include <chrono>
#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace toml {
inline namespace v3 {
class table;
}
} // namespace toml

namespace reclaim {

class reader;

struct rate_limit {
  double count = 0; // requests per window; 0 = no limit
  std::chrono::milliseconds window{std::chrono::seconds(1)};
  double burst = 0; // 0 = count (a full window may be spent at once)
  double per_second() const { return count <= 0 ? 0 : count * 1000.0 / double(window.count()); }
};

struct connector_settings {
  std::string name, type, origin;
  std::string base_url, token_url;
  http::client_options http;
  rate_limit reads, writes;
  // When requests.count > 0: one bucket that reads and writes both draw
  // from (a vendor quota counting every request, e.g. Google's 1 request/s),
  // on top of reads/writes when those are set too.
  rate_limit requests;
  std::string user_attribute; // "" = the subject id; else an attribute journalled with the event
  // msgraph
  std::string tenant, client_id, client_secret_file, certificate_file, private_key_file, scope;
  std::string group_licences = "fail"; // fail | remove_member
  int batch_size = 20;
  std::map<std::string, std::string> skus; // catalogue SKU id → vendor SKU id
  // google
  std::string service_account_file, admin_subject, product_id;
  // scim
  std::string token_file;
  std::string revoke = "deactivate"; // deactivate | delete
  // Which SCIM attribute user_attribute's value is matched against:
  // userName | externalId | email (emails[value eq …]).
  std::string match_by = "userName";
  // webhook
  std::string url, secret_file;
  std::vector<std::string> targets; // notify targets this webhook serves

  std::string vendor_sku(const std::string &catalogue_id) const {
    const auto it = skus.find(catalogue_id);
    return it == skus.end() ? catalogue_id : it->second;
  }
  // The catalogue ids of vendor SKU ids (an unmapped id is its own), for
  // before images: what was reclaimed is costed from the catalogue.
  std::vector<std::string> catalogue_skus(const std::vector<std::string> &vendor_ids) const {
    std::vector<std::string> out;
    for (const auto &v : vendor_ids) {
      const auto it = std::find_if(skus.begin(), skus.end(), [&](const auto &kv) { return kv.second == v; });
      out.push_back(it == skus.end() ? v : it->first);
    }
    return out;
  }
};

// Reads every [connector.NAME] table; throws config_error naming
// file:line:col and the key.
std::map<std::string, connector_settings> load_connectors(const reader &r, const toml::table &section);

} // namespace reclaim
