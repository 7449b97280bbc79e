// access.cpp — [access]: persons, roles, the verb table, and resolving any
// identity (OS user, group member, bind DN in any spelling) to one person.
// The operator's identity comes from getuid() and the process's groups only:
// never an environment variable or a flag.
#include "config/access.hpp"

#include "config/access_toml.hpp"
#include "ldap/ldap_entry.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace reclaim::access {
namespace {

constexpr std::string_view role_names[] = {"hr", "iam", "procurement", "auditor", "privacy"};

// Every reclaimctl verb: nullopt is a read (any identity, known or not).
const std::vector<std::pair<std::string_view, std::optional<role>>> verbs = {
    {"events list", std::nullopt},
    {"config check", std::nullopt},
    {"config show", std::nullopt},
    {"plans list", std::nullopt},
    {"actions list", std::nullopt},
    {"exceptions list", std::nullopt},
    {"hold list", std::nullopt},
    {"inventory list", std::nullopt},
    {"plan", std::nullopt},
    {"dispatch --at", std::nullopt}, // a preview: changes nothing
    {"store check", std::nullopt},
    {"audit verify", std::nullopt},
    {"audit verify-record", std::nullopt},
    {"audit prove", std::nullopt},
    {"audit consistency", std::nullopt},
    {"audit verify-consistency", std::nullopt},
    {"audit show", std::nullopt},
    {"audit public-key", std::nullopt},
    {"audit show --resolve", role::auditor}, // decrypts personal data
    {"audit export", role::auditor},
    {"ingest", role::hr}, // journals HR XML files as lifecycle events
    {"exceptions add", role::hr},
    {"exceptions remove", role::hr},
    {"approve", role::iam},
    {"reject", role::iam},
    {"hold add", role::iam},
    {"hold remove", role::iam},
    {"dispatch", role::iam},
    {"plans enforce", role::iam},
    {"store rebaseline", role::iam},
    {"audit drain", role::iam},
    {"audit rotate-key", role::iam},
    {"audit witness", role::iam}, // adds cosignatures to checkpoint notes
    {"inventory assign", role::procurement},
    {"inventory grant", role::procurement},
    {"audit forget", role::privacy},
    {"audit prune", role::privacy},
};

std::string passwd_name(uid_t uid) {
  passwd pw{}, *out = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &out) != 0 || out == nullptr || pw.pw_name == nullptr) return "";
  return pw.pw_name;
}

std::string group_name(gid_t gid) {
  group gr{}, *out = nullptr;
  std::vector<char> buf(65536);
  if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &out) != 0 || out == nullptr || gr.gr_name == nullptr)
    return fmt::format("{}", gid);
  return gr.gr_name;
}

// "dc=com." is the same name as "dc=com" to a person reading it (a DNS
// habit), so a trailing unescaped dot is not a different person.
std::string without_trailing_dot(std::string dn) {
  while (dn.size() > 1 && dn.back() == '.' && dn[dn.size() - 2] != '\\') dn.pop_back();
  return dn;
}

bool contains(const std::vector<std::string> &v, const std::string &x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

void load_person(const reader &r, const toml::table &t, const std::string &id, access_config &out) {
  const auto prefix = fmt::format("access.person.{}", id);
  r.only_keys(t, prefix, {"unix_users", "unix_groups", "ldap_dns"});
  const bool plain = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  if (!plain) r.fail(t.source(), prefix, "a person id is letters, digits, - and _ only");
  person p;
  p.id = id;
  if (auto v = r.strings(t, prefix, "unix_users")) p.unix_users = *v;
  if (auto v = r.strings(t, prefix, "unix_groups")) p.unix_groups = *v;
  if (auto v = r.strings(t, prefix, "ldap_dns"))
    for (const auto &dn : *v) p.ldap_dns.push_back(r.normalized_dn(t, prefix, "ldap_dns", without_trailing_dot(dn)));
  if (p.unix_users.empty() && p.unix_groups.empty() && p.ldap_dns.empty())
    r.fail(t.source(), prefix, "names no unix_users, unix_groups or ldap_dns: nobody could be this person");
  out.persons.push_back(std::move(p));
}

// One Unix user, group or DN may belong to one person only: otherwise the
// two-person rule would depend on which entry matched first.
void check_unique(const reader &r, const toml::table &t, const access_config &cfg) {
  std::map<std::string, std::string> seen;
  for (const auto &p : cfg.persons) {
    auto claim = [&](const std::string &kind, const std::string &name) {
      const auto [it, fresh] = seen.emplace(kind + ":" + name, p.id);
      if (!fresh)
        r.fail(t.source(), "access.person",
               fmt::format("{} \"{}\" is named by both person \"{}\" and person \"{}\"", kind, name, it->second,
                           p.id));
    };
    for (const auto &u : p.unix_users) claim("Unix user", u);
    for (const auto &g : p.unix_groups) claim("Unix group", g);
    for (const auto &d : p.ldap_dns) claim("LDAP DN", d);
  }
}

} // namespace

std::string_view role_name(role r) { return role_names[static_cast<size_t>(r)]; }

std::optional<role> parse_role(std::string_view name) {
  for (auto r : all_roles)
    if (role_name(r) == name) return r;
  return std::nullopt;
}

access_config load_access(const reader &r, const toml::table &t) {
  access_config out;
  out.present = true;
  r.only_keys(t, "access", {"person", "roles"});
  if (const auto *persons = r.table(t, "access", "person"))
    for (auto &&[k, v] : *persons) {
      const auto *pt = v.as_table();
      if (pt == nullptr) r.fail(v.source(), fmt::format("access.person.{}", k.str()), "must be a table");
      load_person(r, *pt, std::string(k.str()), out);
    }
  check_unique(r, t, out);
  if (const auto *roles = r.table(t, "access", "roles"))
    for (auto &&[k, v] : *roles) {
      const auto key = fmt::format("access.roles.{}", k.str());
      const auto rl = parse_role(k.str());
      if (!rl)
        r.fail(k.source(), key,
               fmt::format("unknown role \"{}\" (expected one of: hr, iam, procurement, auditor, privacy)", k.str()));
      auto members = r.strings(*roles, "access.roles", k.str());
      for (const auto &m : *members) {
        if (m.rfind("group:", 0) == 0 && m.size() > 6) continue;
        const bool known = std::any_of(out.persons.begin(), out.persons.end(), [&](const person &p) { return p.id == m; });
        if (!known)
          r.fail(v.source(), key,
                 fmt::format("\"{}\" is not a person of [access.person] (write a Unix group as \"group:NAME\")", m));
      }
      out.grants[*rl] = *members;
    }
  return out;
}

void check_accounts(const access_config &cfg) {
  for (const auto &p : cfg.persons) {
    for (const auto &u : p.unix_users)
      if (::getpwnam(u.c_str()) == nullptr)
        throw std::invalid_argument(fmt::format("[access] person \"{}\": unknown Unix user \"{}\"", p.id, u));
    for (const auto &g : p.unix_groups)
      if (::getgrnam(g.c_str()) == nullptr)
        throw std::invalid_argument(fmt::format("[access] person \"{}\": unknown Unix group \"{}\"", p.id, g));
  }
  for (const auto &[r, members] : cfg.grants)
    for (const auto &m : members)
      if (m.rfind("group:", 0) == 0 && ::getgrnam(m.c_str() + 6) == nullptr)
        throw std::invalid_argument(
            fmt::format("[access] roles.{}: unknown Unix group \"{}\"", role_name(r), m.substr(6)));
}

os_identity current_identity() {
  os_identity id;
  id.uid = ::getuid();
  id.user = passwd_name(::getuid());
  std::set<gid_t> gids = {::getgid()};
  const int n = ::getgroups(0, nullptr);
  if (n > 0) {
    std::vector<gid_t> list(static_cast<size_t>(n));
    const int got = ::getgroups(n, list.data());
    for (int i = 0; i < got; ++i) gids.insert(list[static_cast<size_t>(i)]);
  }
  for (const auto g : gids) id.groups.push_back(group_name(g));
  return id;
}

std::vector<std::string> groups_of_user(const std::string &user) {
  passwd pw{}, *out = nullptr;
  std::vector<char> buf(16384);
  if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &out) != 0 || out == nullptr) return {};
  int n = 64;
  std::vector<gid_t> gids;
  for (int tries = 0; tries < 4; ++tries) {
    gids.resize(static_cast<size_t>(n));
    if (::getgrouplist(user.c_str(), pw.pw_gid, gids.data(), &n) >= 0) break;
  }
  gids.resize(static_cast<size_t>(std::max(n, 0)));
  std::vector<std::string> names;
  for (const auto g : gids) names.push_back(group_name(g));
  return names;
}

resolver::resolver(const access_config &cfg, group_lookup groups) : cfg_(cfg), groups_(std::move(groups)) {}

std::optional<std::string> resolver::match(const std::string *user, const std::vector<std::string> &groups,
                                           const std::string *dn) const {
  std::vector<std::string> found;
  for (const auto &p : cfg_.persons) {
    bool hit = (user != nullptr && contains(p.unix_users, *user)) || (dn != nullptr && contains(p.ldap_dns, *dn));
    for (const auto &g : groups) hit = hit || contains(p.unix_groups, g);
    if (hit) found.push_back(p.id);
  }
  if (found.size() > 1)
    throw ambiguous_identity(fmt::format("[access]: {} is person \"{}\" and person \"{}\"; each identity must be "
                                         "one person",
                                         user ? "Unix user \"" + *user + "\"" : "\"" + (dn ? *dn : "") + "\"",
                                         found[0], found[1]));
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::optional<std::string> resolver::person_of(const os_identity &who) const {
  return match(who.user.empty() ? nullptr : &who.user, who.groups, nullptr);
}

std::optional<std::string> resolver::person_of_name(const std::string &who) const {
  if (who.rfind("person:", 0) == 0) {
    const auto id = who.substr(7);
    for (const auto &p : cfg_.persons)
      if (p.id == id) return id;
    return std::nullopt;
  }
  if (who.find('=') != std::string::npos) {
    const auto dn = ldap::normalize_dn(without_trailing_dot(who));
    if (!dn) return std::nullopt;
    return match(nullptr, {}, &*dn);
  }
  const auto user = who.rfind("unix:", 0) == 0 ? who.substr(5) : who;
  if (user.empty()) return std::nullopt;
  return match(&user, groups_(user), nullptr);
}

std::string resolver::actor(const os_identity &who) const {
  if (const auto p = person_of(who)) return "person:" + *p;
  return who.user.empty() ? fmt::format("uid:{}", who.uid) : "unix:" + who.user;
}

std::string resolver::canonical(const std::string &who) const {
  if (const auto p = person_of_name(who)) return "person:" + *p;
  if (who.find('=') != std::string::npos)
    if (const auto dn = ldap::normalize_dn(without_trailing_dot(who))) return "unknown:" + *dn;
  auto name = who.rfind("unix:", 0) == 0 ? who.substr(5) : who;
  return "unknown:" + ldap::lower_ascii(name);
}

bool resolver::holds(const os_identity &who, role r) const {
  const auto p = person_of(who);
  if (!p) return false; // unknown identities may read but not act
  const auto it = cfg_.grants.find(r);
  if (it == cfg_.grants.end()) return false;
  for (const auto &m : it->second) {
    if (m == *p) return true;
    if (m.rfind("group:", 0) == 0 && contains(who.groups, m.substr(6))) return true;
  }
  return false;
}

std::optional<role> role_for_verb(std::string_view verb) {
  for (const auto &[v, r] : verbs)
    if (v == verb) return r;
  throw std::out_of_range(fmt::format("reclaimctl {}: this verb has no entry in the access table", verb));
}

std::vector<std::pair<std::string_view, std::optional<role>>> verb_table() { return verbs; }

decision authorize(const access_config &cfg, const resolver &res, const os_identity &who, std::string_view verb) {
  decision d;
  d.needed = role_for_verb(verb);
  try {
    d.actor = res.actor(who);
  } catch (const ambiguous_identity &e) {
    d.actor = who.user.empty() ? fmt::format("uid:{}", who.uid) : "unix:" + who.user;
    d.message = fmt::format("refused: reclaimctl {}: {}", verb, e.what());
    return d;
  }
  if (!d.needed) {
    d.allowed = true;
    return d;
  }
  const auto role_text = role_name(*d.needed);
  if (!cfg.present) {
    d.message = fmt::format("refused: reclaimctl {} needs role \"{}\", and the config has no [access] table: "
                            "nobody may act (see \"Who may do what\" in docs/admin.md)",
                            verb, role_text);
    return d;
  }
  d.allowed = res.holds(who, *d.needed);
  if (!d.allowed)
    d.message = fmt::format("refused: reclaimctl {} needs role \"{}\"; {} {}", verb, role_text, d.actor,
                            d.actor.rfind("person:", 0) == 0 ? "does not hold it"
                                                             : "is no person of [access] (unknown identities may "
                                                               "read but not act)");
  return d;
}

} // namespace reclaim::access
