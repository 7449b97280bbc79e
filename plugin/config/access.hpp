// access.hpp — who may do what through reclaimctl. [access] in reclaim.toml
// names persons (the Unix users, Unix groups and LDAP bind DNs that are each
// one) and grants roles to persons or groups. Every identity — the operator
// from getuid(), a requester's bind DN — is resolved to one person id, so
// the two-person rule compares persons, never spellings.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace reclaim::access {

enum class role { hr, iam, procurement, auditor, privacy };
inline constexpr role all_roles[] = {role::hr, role::iam, role::procurement, role::auditor, role::privacy};
std::string_view role_name(role r);
std::optional<role> parse_role(std::string_view name);

struct person {
  std::string id;
  std::vector<std::string> unix_users, unix_groups;
  std::vector<std::string> ldap_dns; // normalised (ldap::normalize_dn)
};

struct access_config {
  bool present = false; // [access] in the file; without it nobody may act
  std::vector<person> persons;
  // Role -> person ids, and Unix group names written "group:NAME".
  std::map<role, std::vector<std::string>> grants;
};

// Refuses a mapping that names a Unix user or group this host does not know.
// Separate from load_access: the engine inside slapd never asks NSS (which
// may be slapd itself); reclaimctl does, before it authorises anything.
void check_accounts(const access_config &cfg);

// The operator as the operating system knows them: the real uid (a setuid
// binary or sudo cannot change it; SUDO_USER is ignored — root is root)
// and the process's groups.
struct os_identity {
  uint32_t uid = 0;
  std::string user;                // "" when the uid has no passwd entry
  std::vector<std::string> groups; // names
};
os_identity current_identity();

// Group names of a Unix user (getgrouplist); empty when unknown.
using group_lookup = std::function<std::vector<std::string>(const std::string &user)>;
std::vector<std::string> groups_of_user(const std::string &user);

// An identity that maps to two persons: the config is ambiguous, nobody acts.
class ambiguous_identity : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class resolver {
public:
  explicit resolver(const access_config &cfg, group_lookup groups = groups_of_user);

  // The person an OS identity is; nullopt when unknown.
  std::optional<std::string> person_of(const os_identity &who) const;
  // The person any recorded name is: "person:ID", "unix:NAME", a DN (any
  // case, spacing, trailing dot) or a bare Unix user name.
  std::optional<std::string> person_of_name(const std::string &who) const;
  // The actor to record: "person:ID", else "unix:NAME" (or "uid:N").
  std::string actor(const os_identity &who) const;
  // Key for the two-person rule: "person:ID" when known, else a spelling-
  // independent form (normalised DN, lower-cased name) prefixed "unknown:".
  std::string canonical(const std::string &who) const;

  bool holds(const os_identity &who, role r) const;

private:
  std::optional<std::string> match(const std::string *user, const std::vector<std::string> &groups,
                                   const std::string *dn) const;
  const access_config &cfg_;
  group_lookup groups_;
};

// The verbs of reclaimctl ("approve", "hold add", "audit show --resolve", …)
// and the role each needs; nullopt: a read, open to any identity. Throws
// std::out_of_range for a verb not in the table (it then needs mapping).
std::optional<role> role_for_verb(std::string_view verb);
// Every verb in the table, for the docs and the tests.
std::vector<std::pair<std::string_view, std::optional<role>>> verb_table();

struct decision {
  bool allowed = false;
  std::string actor; // "person:ID" or "unix:NAME"
  std::optional<role> needed;
  std::string message; // why not, naming the role
};
decision authorize(const access_config &cfg, const resolver &res, const os_identity &who, std::string_view verb);

} // namespace reclaim::access
