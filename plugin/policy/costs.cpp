// costs.cpp — planned and reclaimed licence costs from the catalogue.
#include "policy/costs.hpp"

#include <nlohmann/json.hpp>

namespace reclaim {

bool is_licence_action(action_kind k) {
  return k == action_kind::reclaim_licence || k == action_kind::downgrade_licence;
}

std::vector<std::string> expected_skus(const application &app, const action_row &a,
                                       const std::vector<std::string> &held) {
  if (!a.sku.empty()) return {a.sku};
  if (!held.empty()) return held;
  if (app.skus.size() == 1) return {app.skus.front().id};
  return {};
}

double skus_cost(const application &app, const std::vector<std::string> &skus, std::string &currency) {
  double cost = 0;
  for (const auto &id : skus)
    if (const auto *s = app.find_sku(id)) {
      cost += s->monthly_cost;
      if (currency.empty()) currency = s->currency;
    }
  return cost;
}

namespace {

double minus_downgrade_target(const application &app, const action_row &a, double cost) {
  if (a.kind == action_kind::downgrade_licence)
    if (const auto *to = app.find_sku(a.to_sku)) cost -= to->monthly_cost;
  return cost > 0 ? cost : 0;
}

} // namespace

double planned_cost(const application &app, const action_row &a, const std::vector<std::string> &held,
                    std::string &currency) {
  if (!is_licence_action(a.kind)) return 0;
  return minus_downgrade_target(app, a, skus_cost(app, expected_skus(app, a, held), currency));
}

double reclaimed_cost(const application &app, const action_row &a, std::string &currency) {
  if (!is_licence_action(a.kind) || a.status != "done") return 0;
  // The image is our own store's text, but it is read back: a bad one
  // reclaimed nothing we can cost.
  const auto image = nlohmann::json::parse(a.before_image.empty() ? "{}" : a.before_image, nullptr, false);
  if (!image.is_object()) return 0;
  const auto *list = image.contains("catalogue_skus") ? &image["catalogue_skus"]
                     : image.contains("skus")         ? &image["skus"]
                                                      : nullptr;
  if (list == nullptr || !list->is_array()) return 0;
  std::vector<std::string> skus;
  for (const auto &s : *list)
    if (s.is_string()) skus.push_back(s.get<std::string>());
  return minus_downgrade_target(app, a, skus_cost(app, skus, currency));
}

} // namespace reclaim
