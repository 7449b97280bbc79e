// ldap_client.hpp — a small synchronous libldap client for tests: real
// add/modify/modrdn/delete operations on the wire, returning the server's
// result code so a test can drive failures as well as successes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

typedef struct ldap LDAP;

namespace reclaim::test {

// Attribute names compare case-insensitively, as in LDAP.
struct ci_less {
  bool operator()(const std::string &a, const std::string &b) const;
};

struct ldap_entry {
  std::string dn;
  std::map<std::string, std::vector<std::string>, ci_less> attributes;

  // The first value of an attribute, or "" when absent.
  std::string first(const std::string &name) const;
  bool has(const std::string &name) const { return attributes.count(name) != 0; }
};

// One attribute with byte-string values (binary is fine).
struct ldap_attribute {
  std::string name;
  std::vector<std::string> values;
};

enum class mod_op { add, remove, replace };

struct ldap_modification {
  mod_op op;
  std::string name;
  std::vector<std::string> values; // empty: remove/replace all values
};

class ldap_connection {
public:
  // Connects and binds (simple bind); throws std::runtime_error on failure.
  ldap_connection(const std::string &uri, const std::string &bind_dn, const std::string &password);
  ~ldap_connection();
  ldap_connection(const ldap_connection &) = delete;
  ldap_connection &operator=(const ldap_connection &) = delete;

  // Each returns the LDAP result code (0 on success) and keeps the server's
  // diagnostic message in last_message().
  int add(const std::string &dn, const std::vector<ldap_attribute> &attributes);
  int modify(const std::string &dn, const std::vector<ldap_modification> &mods);
  int rename(const std::string &dn, const std::string &new_rdn,
             const std::optional<std::string> &new_superior = std::nullopt,
             bool delete_old_rdn = true);
  int remove(const std::string &dn);

  // Base-scope read of one entry with user and operational attributes.
  std::optional<ldap_entry> read(const std::string &dn,
                                 const std::vector<std::string> &attributes = {"*", "+"});
  // Subtree search; an absent base gives an empty result.
  std::vector<ldap_entry> search(const std::string &base, const std::string &filter,
                                 const std::vector<std::string> &attributes = {"*", "+"});

  const std::string &last_message() const { return last_message_; }

private:
  int finish(int rc);

  LDAP *ld_ = nullptr;
  std::string last_message_;
};

// Human-readable name of an LDAP result code ("No such object").
std::string ldap_error_name(int rc);

} // namespace reclaim::test
