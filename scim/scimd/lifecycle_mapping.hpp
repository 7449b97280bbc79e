// lifecycle_mapping.hpp — a SCIM User change (before/after resource JSON)
// becomes at most one lifecycle event for reclaim_submit. Pure: no I/O, no
// clock; unit-tested as a table (tests/scim/test_lifecycle_mapping.cpp).
// The idempotency key names the resource id and the version the change
// produced, so a replayed request that changes nothing yields nothing.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace reclaim::scimd {

// The reclaim lifecycle extension (state, effectiveDate, contractEndDate,
// legalHold) as published by the Schemas endpoint.
inline constexpr const char *lifecycle_urn = "urn:reclaim:params:scim:schemas:extension:lifecycle:2.0:User";
inline constexpr const char *enterprise_urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

struct mapping_config {
  // Which attribute is the subject id: "id", "externalId", "userName" or
  // "employeeNumber" (a missing value falls back to the SCIM id).
  std::string subject_key = "id";
  // The state of a person whose active became false without a lifecycle
  // state that says otherwise.
  std::string inactive_state = "terminated";
  // A change of any of these (flattened names) while active is a transfer.
  std::vector<std::string> transfer_attributes = {"department", "manager", "title", "costCenter"};
  // [legal_hold] attribute/value of reclaim.toml; empty: holds not mapped.
  std::string hold_attribute;
  std::string hold_value;
};

struct mapped_event {
  std::string subject_id;
  std::string subject_name; // userName
  std::string state;          // reclaim state name ("terminated", ...)
  std::string previous_state; // "none" when unknown
  std::map<std::string, std::vector<std::string>> attributes;
  std::int64_t time_unix_ms = 0; // 0: now
  std::string idempotency_key;
};

// before: the stored resource before the change (nullopt for a create);
// after: the resource after it (nullopt for a DELETE). after carries
// meta.version (W/"n") for the key; for a DELETE, before's version is used.
std::optional<mapped_event> map_change(const mapping_config &cfg, const std::optional<nlohmann::json> &before,
                                       const std::optional<nlohmann::json> &after);

// The resting state of a resource: "active", or an away state.
std::string resting_state(const mapping_config &cfg, const nlohmann::json &user);

// The resource flattened to string-valued attributes for policy rules:
// userName, externalId, displayName, title, emails (values), employeeNumber,
// department, manager (the id), costCenter, organization, division, the
// lifecycle extension's fields, and the hold attribute when configured.
std::map<std::string, std::vector<std::string>> flatten(const mapping_config &cfg, const nlohmann::json &user);

// "2026-12-31" or "2026-12-31T17:00:00Z" (offsets allowed) → Unix ms;
// nullopt when it is not such a date.
std::optional<std::int64_t> parse_date_ms(const std::string &text);

} // namespace reclaim::scimd
