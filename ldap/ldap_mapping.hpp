// ldap_mapping.hpp — which directory entries are people and which
// lifecycle state an entry's attributes mean. The rules are configuration
// ([ldap] in reclaim.toml, docs/config.md); this file only evaluates them.
#pragma once

#include "ldap_entry.hpp"
#include "ldap_time.hpp"
#include "reclaim/reclaim.h" // reclaim_state: the one state vocabulary

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace reclaim::ldap {

struct state_rule {
  enum class test { equals, present, bits_set, expired_days };
  std::string attribute;           // as configured
  test kind = test::equals;
  std::vector<std::string> values; // lower-cased, for equals
  uint64_t mask = 0;               // for bits_set
  reclaim_state result = RECLAIM_STATE_ACTIVE;
  std::string origin;              // "file:line:col", for messages
};

struct mapping_config {
  std::string base;                          // as configured
  std::string base_norm;                     // normalised
  std::vector<std::string> person_classes;   // lower-cased
  std::vector<std::string> leavers_norm;     // normalised DNs
  reclaim_state leavers_state = RECLAIM_STATE_TERMINATED;
  std::vector<std::string> transfer_attributes;
  reclaim_state default_state = RECLAIM_STATE_ACTIVE;
  std::chrono::milliseconds catch_up_margin{5 * 60 * 1000};
  std::vector<state_rule> rules;
  // Attributes other parts of the config read from events (policy `where`
  // filters, the role attribute, the contract end date).
  std::vector<std::string> extra_attributes;
  // The policy's contract end-date attribute ("" when none): a change of it
  // alone is journalled (state unchanged) so the planner can (re)schedule.
  std::string end_date_attribute;
  // The legal-hold attribute ("" when none): a change of it alone is
  // journalled in any state (a hold placed on someone who has left).
  std::string hold_attribute;
  // needed_attributes(), computed once the config is complete (empty: compute on use).
  std::vector<std::string> needed;
};

bool rule_matches(const state_rule &rule, const entry &e, time_point at);

// The resting state of the entry: leavers subtree first, then the first
// matching rule, else the default state.
reclaim_state map_state(const mapping_config &cfg, const entry &e, time_point at);

bool in_scope(const mapping_config &cfg, const entry &e);
bool is_person(const mapping_config &cfg, const entry &e);

// The values of the transfer attributes, as one comparable string.
std::string transfer_key(const mapping_config &cfg, const entry &e);

// Every attribute the engine needs in an entry (rules, transfer attributes,
// objectClass, entryUUID, entryCSN), without duplicates.
std::vector<std::string> needed_attributes(const mapping_config &cfg);

} // namespace reclaim::ldap
