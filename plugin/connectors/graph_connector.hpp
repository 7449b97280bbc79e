// graph_connector.hpp — Microsoft Graph (Entra ID / Microsoft 365): the
// client-credentials token (secret or certificate assertion), licence
// removal, downgrade and restore through assignLicense, account disable and
// enable, group-inherited licences (remove the person from the licensing
// group, or refuse), and JSON $batch of up to 20 requests with each inner
// answer handled on its own.
#pragma once

#include "connectors/vendor_api.hpp"

namespace reclaim {

class graph_connector : public connector {
public:
  explicit graph_connector(const connector_settings &s);
  connector_result execute(const action_row &action, const application &app) override;
  size_t batch_size() const override { return static_cast<size_t>(api_.settings().batch_size); }
  std::vector<connector_result> execute_batch(const std::vector<action_row> &actions,
                                              const std::vector<const application *> &apps) override;

  struct inner_request {
    std::string method, url; // url relative to base_url: /users/…
    nlohmann::json body;     // null: none
  };
  struct inner_response {
    long status = 0;
    nlohmann::json body;
    std::string retry_after;
    std::string raw; // the body as received (direct answers; "" inside a $batch)
  };

  struct decision_slot;

private:
  void read_and_decide(const std::vector<action_row> &actions, const std::vector<const application *> &apps,
                       std::vector<bool> &open, std::vector<decision_slot> &decisions,
                       std::vector<connector_result> &results);
  void confirm(const std::vector<action_row> &actions, const std::vector<const application *> &apps,
               const std::vector<size_t> &which, const std::vector<decision_slot> &decided,
               std::vector<connector_result> &results, const std::string &why);
  std::vector<inner_response> send(const std::vector<inner_request> &reqs, bool writes);
  std::vector<inner_response> send_batch(const std::vector<inner_request> &reqs, bool writes);
  std::vector<std::optional<nlohmann::json>> read_users(const std::vector<action_row> &actions,
                                                        std::vector<connector_result> &results,
                                                        const std::vector<bool> &open);
  vendor_api api_;
};

} // namespace reclaim
