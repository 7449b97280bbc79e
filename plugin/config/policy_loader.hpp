// policy_loader.hpp — loader of the policy sections (see policy_loader.cpp).
#pragma once

#include "policy/policy_model.hpp"
#include "config/toml_reader.hpp"

namespace reclaim {

void load_policy(const reader &r, const toml::table &root, policy_config &cfg);

} // namespace reclaim
