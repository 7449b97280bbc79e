// ldap_client.cpp — libldap (OpenLDAP client library) behind the small test
// client API. Values travel as berval so binary values and embedded NULs
// reach the server unchanged.
#include "ldap_client.hpp"

#include <algorithm>
#include <cctype>
#include <ldap.h>
#include <memory>
#include <stdexcept>
#include <strings.h>

namespace reclaim::test {
namespace {

// Owns the berval and LDAPMod arrays that libldap wants as C arrays. Inner
// vectors keep their buffers when the outer vectors grow, so the pointers
// stored in each LDAPMod stay valid.
class mod_array {
public:
  void push(int op, const std::string &name, const std::vector<std::string> &values) {
    auto &vals = values_.emplace_back();
    auto &ptrs = value_ptrs_.emplace_back();
    vals.reserve(values.size());
    for (const auto &v : values) {
      vals.push_back(berval{static_cast<ber_len_t>(v.size()), const_cast<char *>(v.data())});
    }
    for (auto &v : vals) {
      ptrs.push_back(&v);
    }
    ptrs.push_back(nullptr);
    auto &mod = mods_.emplace_back();
    mod.mod_op = op | LDAP_MOD_BVALUES;
    mod.mod_type = const_cast<char *>(name.c_str());
    mod.mod_vals.modv_bvals = values.empty() ? nullptr : ptrs.data();
  }

  LDAPMod **get() {
    pointers_.clear();
    for (auto &m : mods_) {
      pointers_.push_back(&m);
    }
    pointers_.push_back(nullptr);
    return pointers_.data();
  }

private:
  std::vector<std::vector<berval>> values_;
  std::vector<std::vector<berval *>> value_ptrs_;
  std::vector<LDAPMod> mods_;
  std::vector<LDAPMod *> pointers_;
};

std::vector<char *> c_strings(const std::vector<std::string> &items) {
  std::vector<char *> result;
  for (const auto &s : items) {
    result.push_back(const_cast<char *>(s.c_str()));
  }
  result.push_back(nullptr);
  return result;
}

ldap_entry to_entry(LDAP *ld, LDAPMessage *message) {
  ldap_entry entry;
  if (char *dn = ldap_get_dn(ld, message)) {
    entry.dn = dn;
    ldap_memfree(dn);
  }
  BerElement *ber = nullptr;
  for (char *attr = ldap_first_attribute(ld, message, &ber); attr != nullptr;
       attr = ldap_next_attribute(ld, message, ber)) {
    auto &values = entry.attributes[attr];
    if (berval **vals = ldap_get_values_len(ld, message, attr)) {
      for (berval **v = vals; *v != nullptr; ++v) {
        values.emplace_back((*v)->bv_val, (*v)->bv_len);
      }
      ldap_value_free_len(vals);
    }
    ldap_memfree(attr);
  }
  if (ber != nullptr) {
    ber_free(ber, 0);
  }
  return entry;
}

} // namespace

bool ci_less::operator()(const std::string &a, const std::string &b) const {
  return ::strcasecmp(a.c_str(), b.c_str()) < 0;
}

std::string ldap_entry::first(const std::string &name) const {
  const auto it = attributes.find(name);
  return it == attributes.end() || it->second.empty() ? std::string() : it->second.front();
}

std::string ldap_error_name(int rc) { return ldap_err2string(rc); }

ldap_connection::ldap_connection(const std::string &uri, const std::string &bind_dn,
                                 const std::string &password) {
  if (int rc = ldap_initialize(&ld_, uri.c_str()); rc != LDAP_SUCCESS) {
    throw std::runtime_error("ldap_initialize " + uri + ": " + ldap_err2string(rc));
  }
  const int version = LDAP_VERSION3;
  ldap_set_option(ld_, LDAP_OPT_PROTOCOL_VERSION, &version);
  timeval network_timeout{5, 0};
  ldap_set_option(ld_, LDAP_OPT_NETWORK_TIMEOUT, &network_timeout);
  timeval timeout{30, 0};
  ldap_set_option(ld_, LDAP_OPT_TIMEOUT, &timeout);
  berval cred{static_cast<ber_len_t>(password.size()), const_cast<char *>(password.data())};
  const int rc = ldap_sasl_bind_s(ld_, bind_dn.empty() ? nullptr : bind_dn.c_str(), LDAP_SASL_SIMPLE,
                                  &cred, nullptr, nullptr, nullptr);
  if (rc != LDAP_SUCCESS) {
    ldap_unbind_ext_s(ld_, nullptr, nullptr);
    ld_ = nullptr;
    throw std::runtime_error("bind to " + uri + " as " + bind_dn + ": " + ldap_err2string(rc));
  }
}

ldap_connection::~ldap_connection() {
  if (ld_ != nullptr) {
    ldap_unbind_ext_s(ld_, nullptr, nullptr);
  }
}

int ldap_connection::finish(int rc) {
  last_message_.clear();
  char *message = nullptr;
  if (ldap_get_option(ld_, LDAP_OPT_DIAGNOSTIC_MESSAGE, &message) == LDAP_OPT_SUCCESS &&
      message != nullptr) {
    last_message_ = message;
    ldap_memfree(message);
  }
  return rc;
}

int ldap_connection::add(const std::string &dn, const std::vector<ldap_attribute> &attributes) {
  mod_array mods;
  for (const auto &a : attributes) {
    mods.push(LDAP_MOD_ADD, a.name, a.values);
  }
  return finish(ldap_add_ext_s(ld_, dn.c_str(), mods.get(), nullptr, nullptr));
}

int ldap_connection::modify(const std::string &dn, const std::vector<ldap_modification> &changes) {
  mod_array mods;
  for (const auto &m : changes) {
    const int op = m.op == mod_op::add      ? LDAP_MOD_ADD
                   : m.op == mod_op::remove ? LDAP_MOD_DELETE
                                            : LDAP_MOD_REPLACE;
    mods.push(op, m.name, m.values);
  }
  return finish(ldap_modify_ext_s(ld_, dn.c_str(), mods.get(), nullptr, nullptr));
}

int ldap_connection::rename(const std::string &dn, const std::string &new_rdn,
                            const std::optional<std::string> &new_superior, bool delete_old_rdn) {
  return finish(ldap_rename_s(ld_, dn.c_str(), new_rdn.c_str(),
                              new_superior ? new_superior->c_str() : nullptr,
                              delete_old_rdn ? 1 : 0, nullptr, nullptr));
}

int ldap_connection::remove(const std::string &dn) {
  return finish(ldap_delete_ext_s(ld_, dn.c_str(), nullptr, nullptr));
}

std::optional<ldap_entry> ldap_connection::read(const std::string &dn,
                                                const std::vector<std::string> &attributes) {
  auto attrs = c_strings(attributes);
  LDAPMessage *result = nullptr;
  const int rc = ldap_search_ext_s(ld_, dn.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)",
                                   attrs.data(), 0, nullptr, nullptr, nullptr, 0, &result);
  std::unique_ptr<LDAPMessage, int (*)(LDAPMessage *)> guard(result, ldap_msgfree);
  if (rc == LDAP_NO_SUCH_OBJECT) {
    return std::nullopt;
  }
  if (rc != LDAP_SUCCESS) {
    throw std::runtime_error("read " + dn + ": " + ldap_err2string(rc));
  }
  LDAPMessage *first = ldap_first_entry(ld_, result);
  if (first == nullptr) {
    return std::nullopt;
  }
  return to_entry(ld_, first);
}

std::vector<ldap_entry> ldap_connection::search(const std::string &base, const std::string &filter,
                                                const std::vector<std::string> &attributes) {
  auto attrs = c_strings(attributes);
  LDAPMessage *result = nullptr;
  const int rc = ldap_search_ext_s(ld_, base.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(),
                                   attrs.data(), 0, nullptr, nullptr, nullptr, 0, &result);
  std::unique_ptr<LDAPMessage, int (*)(LDAPMessage *)> guard(result, ldap_msgfree);
  if (rc == LDAP_NO_SUCH_OBJECT) {
    return {};
  }
  if (rc != LDAP_SUCCESS) {
    throw std::runtime_error("search " + base + " " + filter + ": " + ldap_err2string(rc));
  }
  std::vector<ldap_entry> entries;
  for (LDAPMessage *e = ldap_first_entry(ld_, result); e != nullptr; e = ldap_next_entry(ld_, e)) {
    entries.push_back(to_entry(ld_, e));
  }
  return entries;
}

} // namespace reclaim::test
