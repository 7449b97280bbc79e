// slapi_host.cpp — the SLAPI host adapter: reclaim_slapi_init and the
// operation callbacks slapd calls. A host like any other, it reaches the
// engine only through reclaim.h. Like refint, a callback copies what it
// needs, hands it to the engine's queue and returns at once; the journal is
// written on the engine's thread. Init only validates the config (it also
// runs inside slaptest and slapadd); the engine opens in the start function
// (or on first use when the plugin was added online, where slapd never calls
// start). Nothing here may throw into slapd or block on the network.
#include "reclaim/reclaim.h"
#include "slapi_compat.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <strings.h>
#include <deque>
#include <dlfcn.h>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

char subsystem[] = "reclaim";
char desc_id[] = "reclaim";
char desc_vendor[] = "reclaim";
char desc_version[] = RECLAIM_VERSION;
char desc_text[] = "reclaim lifecycle hook: journals people's status changes";
// OpenLDAP keeps the pointer, 389 copies the struct: static storage.
Slapi_PluginDesc description = {desc_id, desc_vendor, desc_version, desc_text};

void log_line(int severity, const char *message) {
  // slapi_log_error is printf-like; never pass the message as the format.
  char fmt[] = "%s\n";
  slapi_log_error(severity, subsystem, fmt, message);
}

void engine_log(int level, const char *message, void *) {
  log_line(level <= RECLAIM_LOG_WARNING ? SLAPI_LOG_FATAL : SLAPI_LOG_PLUGIN, message);
}

// ------------------------------------------------------------ adapter state

struct adapter {
  std::mutex mu;
  std::string config_path;
  Slapi_ComponentId *identity = nullptr;
  std::atomic<reclaim_engine *> engine{nullptr};
  std::vector<std::string> watched; // lower-cased, without entryCSN/entryUUID
  std::vector<std::string> attrs;   // what internal searches fetch
  std::chrono::steady_clock::time_point next_attempt{};
  bool closed = false;
  std::mutex catch_up_mu;
  std::atomic<bool> caught_up{false};
};

adapter &state() {
  static adapter a; // never destroyed before slapd's close calls
  return a;
}

std::string lower(const char *s) {
  std::string out = s ? s : "";
  for (auto &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ----------------------------------------------------- owned entry copies

// An entry copied out of slapd's memory, with a reclaim_ldap_entry view.
struct owned_entry {
  std::string dn;
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> values;
  std::vector<std::vector<const char *>> value_ptrs;
  std::vector<reclaim_attribute> attrs;
  reclaim_ldap_entry view{};

  const reclaim_ldap_entry *finish() {
    value_ptrs.clear();
    attrs.clear();
    for (size_t i = 0; i < names.size(); ++i) {
      auto &ptrs = value_ptrs.emplace_back();
      for (auto &v : values[i]) ptrs.push_back(v.c_str());
    }
    for (size_t i = 0; i < names.size(); ++i)
      attrs.push_back({names[i].c_str(), value_ptrs[i].data(), value_ptrs[i].size()});
    view = {dn.c_str(), attrs.data(), attrs.size()};
    return &view;
  }
};

size_t find_attr(const owned_entry &e, const char *type) {
  for (size_t i = 0; i < e.names.size(); ++i)
    if (strcasecmp(e.names[i].c_str(), type) == 0) return i;
  return e.names.size();
}

bool same_value(const std::string &a, const std::string &b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The entry after the operation, computed from the pre-image and the
// operation's own modifications (which on OpenLDAP include the new
// entryCSN). Reading the entry again after the reply would race with the
// client's next operation.
void apply_mods(owned_entry &e, LDAPMod **mods) {
  for (size_t m = 0; mods != nullptr && mods[m] != nullptr; ++m) {
    const LDAPMod *mod = mods[m];
    if (mod->mod_type == nullptr) continue;
    std::vector<std::string> vals;
    if (mod->mod_op & LDAP_MOD_BVALUES) {
      for (size_t v = 0; mod->mod_bvalues != nullptr && mod->mod_bvalues[v] != nullptr; ++v) {
        const berval *bv = mod->mod_bvalues[v];
        if (bv->bv_val != nullptr && std::memchr(bv->bv_val, 0, bv->bv_len) == nullptr)
          vals.emplace_back(bv->bv_val, bv->bv_len);
      }
    } else {
      for (size_t v = 0; mod->mod_values != nullptr && mod->mod_values[v] != nullptr; ++v)
        vals.emplace_back(mod->mod_values[v]);
    }
    size_t i = find_attr(e, mod->mod_type);
    if (i == e.names.size()) {
      e.names.emplace_back(mod->mod_type);
      e.values.emplace_back();
    }
    auto &have = e.values[i];
    switch (mod->mod_op & 0x3) { // slapd's soft add/delete (0x1000…) keep these low bits
    case LDAP_MOD_ADD:
      for (auto &v : vals)
        if (std::none_of(have.begin(), have.end(), [&](auto &h) { return same_value(h, v); })) have.push_back(v);
      break;
    case LDAP_MOD_DELETE:
      if (vals.empty()) have.clear();
      for (auto &v : vals) have.erase(std::remove_if(have.begin(), have.end(), [&](auto &h) { return same_value(h, v); }), have.end());
      break;
    case LDAP_MOD_REPLACE:
      have = std::move(vals);
      break;
    default: // increment: not a status attribute; keep what is known
      break;
    }
  }
}

std::vector<std::string> sorted_lower(const owned_entry &e, const std::string &name) {
  std::vector<std::string> out;
  const size_t i = find_attr(e, name.c_str());
  if (i < e.names.size())
    for (const auto &v : e.values[i]) out.push_back(lower(v.c_str()));
  std::sort(out.begin(), out.end());
  return out;
}

bool fetch_entry(const char *dn, owned_entry &out);

// SLAPI gives no operation's entryCSN (OpenLDAP's modify mods hold only the
// client's changes, measured). Read the entry back: if its watched values
// are what this operation produced, its entryCSN is this operation's (or
// that of a later change that touched nothing watched, which is as good).
// Otherwise a later change already landed; the entryCSN is then dropped and
// the engine keys the event by the version it followed.
bool settle_csn(owned_entry &after) {
  static std::atomic<bool> told{false};
  if (!told.exchange(true))
    log_line(SLAPI_LOG_PLUGIN, "entryCSN is not among the post-operation modifications (did another plugin read "
                               "them in its pre-operation callback?): reading entries back, one more internal "
                               "search per change");
  const size_t csn_at = find_attr(after, "entryCSN");
  std::string before_csn;
  if (csn_at < after.names.size()) {
    if (!after.values[csn_at].empty()) before_csn = after.values[csn_at].front();
    after.names.erase(after.names.begin() + static_cast<std::ptrdiff_t>(csn_at));
    after.values.erase(after.values.begin() + static_cast<std::ptrdiff_t>(csn_at));
  }
  owned_entry now;
  if (!fetch_entry(after.dn.c_str(), now)) return false; // gone already: read nothing
  for (const auto &name : state().watched)
    if (sorted_lower(after, name) != sorted_lower(now, name)) {
      after.names.emplace_back("reclaimFollowsCSN");
      after.values.push_back({before_csn});
      return true;
    }
  const size_t now_csn = find_attr(now, "entryCSN");
  if (now_csn < now.names.size()) {
    after.names.emplace_back("entryCSN");
    after.values.push_back(now.values[now_csn]);
  }
  return true;
}

// only: when given, the attribute types to copy (an added entry carries all
// of them, passwords included; the engine needs its own few).
void copy_entry(Slapi_Entry *e, owned_entry &out, const std::vector<std::string> *only = nullptr) {
  const char *dn = slapi_entry_get_dn(e);
  out.dn = dn ? dn : "";
  Slapi_Attr *attr = nullptr;
  for (int rc = slapi_entry_first_attr(e, &attr); rc == 0 && attr != nullptr;
       rc = slapi_entry_next_attr(e, attr, &attr)) {
    char *type = nullptr;
    slapi_attr_get_type(attr, &type);
    if (type == nullptr) continue;
    const size_t base_len = std::strcspn(type, ";"); // "description;lang-en" is a description
    if (only != nullptr && std::none_of(only->begin(), only->end(), [&](const std::string &n) {
          return n.size() == base_len && strncasecmp(n.c_str(), type, base_len) == 0;
        }))
      continue;
    std::vector<std::string> vals;
    Slapi_Value *v = nullptr;
    for (int i = slapi_attr_first_value(attr, &v); i != -1 && v != nullptr;
         i = slapi_attr_next_value(attr, i, &v)) {
      const berval *bv = slapi_value_get_berval(v);
      // Binary values (a NUL inside) cannot be state values: skip them.
      if (bv == nullptr || bv->bv_val == nullptr || std::memchr(bv->bv_val, 0, bv->bv_len))
        continue;
      vals.emplace_back(bv->bv_val, bv->bv_len);
    }
    out.names.emplace_back(type);
    out.values.push_back(std::move(vals));
  }
}

// Internal search; calls on_entry for each entry. Returns the LDAP result
// code (32 "no such object" is reported as success with no entries).
template <typename F>
int internal_search(const char *base, int scope, const char *filter, char **attrs, F &&on_entry) {
  Slapi_PBlock *pb = slapi_pblock_new();
  if (pb == nullptr) return LDAP_NO_MEMORY;
  slapi_search_internal_set_pb(pb, base, scope, filter, attrs, 0, nullptr, nullptr,
                               state().identity, 0);
  slapi_search_internal_pb(pb);
  int rc = LDAP_OTHER;
  slapi_pblock_get(pb, SLAPI_PLUGIN_INTOP_RESULT, &rc);
  Slapi_Entry **entries = nullptr;
  if (rc == LDAP_SUCCESS) slapi_pblock_get(pb, SLAPI_PLUGIN_INTOP_SEARCH_ENTRIES, &entries);
  for (size_t i = 0; entries != nullptr && entries[i] != nullptr; ++i) on_entry(entries[i]);
  slapi_free_search_results_internal(pb);
  slapi_pblock_destroy(pb);
  return rc == LDAP_NO_SUCH_OBJECT ? LDAP_SUCCESS : rc;
}

bool fetch_entry(const char *dn, owned_entry &out) {
  auto &a = state();
  std::vector<char *> attrs;
  for (auto &n : a.attrs) attrs.push_back(n.data());
  attrs.push_back(nullptr);
  bool found = false;
  // OpenLDAP's internal search returns whole entries (measured): copy only
  // what was asked for.
  internal_search(dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs.data(), [&](Slapi_Entry *e) {
    copy_entry(e, out, &a.attrs);
    found = true;
  });
  return found;
}

// The search catch-up uses, over slapd's internal search.
int catch_up_search(const char *base, const char *filter, const char *const *attributes,
                    reclaim_ldap_entry_fn on_entry, void *entry_payload, void *) {
  std::vector<std::string> names;
  for (size_t i = 0; attributes != nullptr && attributes[i] != nullptr; ++i) names.emplace_back(attributes[i]);
  std::vector<char *> attrs;
  for (auto &n : names) attrs.push_back(n.data());
  attrs.push_back(nullptr);
  const int rc = internal_search(base, LDAP_SCOPE_SUBTREE, filter, attrs.data(), [&](Slapi_Entry *e) {
    owned_entry copy;
    copy_entry(e, copy, &names);
    on_entry(copy.finish(), entry_payload);
  });
  return rc == LDAP_SUCCESS ? 0 : -1;
}

// ------------------------------------------------------------ engine life

void log_failure(const char *what) {
  std::string msg = std::string(what) + ": " + reclaim_error_last();
  log_line(SLAPI_LOG_FATAL, msg.c_str());
}

// slapadd, slapindex and friends call the start function too (measured);
// the engine must not open, baseline or journal inside an offline tool.
// OpenLDAP exports slapMode; SLAP_TOOL_MODE is 0x0002 (servers/slapd/slap.h).
bool in_offline_tool() {
  const auto *mode = static_cast<const int *>(dlsym(RTLD_DEFAULT, "slapMode"));
  return mode != nullptr && (*mode & 0x0002) != 0;
}

void run_catch_up(reclaim_engine *e) {
  size_t recorded = 0;
  if (reclaim_ldap_catch_up(&recorded, e, catch_up_search, nullptr) != RECLAIM_OK)
    log_failure("catch-up failed; changes made while reclaim was not running may be missing");
}

// Catch-up runs in the first client operation's callback, before that
// change is handed over: a pool thread serving an operation is where
// internal searches are known to work. The start function may run before
// the databases are open (a plugin on the frontend: an internal search there
// crashed slapd, measured), and a task of our own in slapd's pool disturbed
// syncrepl (measured), so neither is used.
void ensure_caught_up(reclaim_engine *e) {
  auto &a = state();
  if (a.caught_up.load(std::memory_order_acquire)) return;
  std::lock_guard lock(a.catch_up_mu);
  if (a.caught_up.load()) return;
  run_catch_up(e);
  a.caught_up.store(true, std::memory_order_release);
}

// Opens the engine and starts catch-up; called from start or on first use.
reclaim_engine *open_engine() {
  auto &a = state();
  if (auto *e = a.engine.load(std::memory_order_acquire)) return e;
  std::lock_guard lock(a.mu);
  if (auto *e = a.engine.load()) return e;
  const auto now = std::chrono::steady_clock::now();
  if (a.closed || now < a.next_attempt || in_offline_tool()) return nullptr;
  a.next_attempt = now + std::chrono::seconds(30);

  reclaim_open_options o = RECLAIM_OPEN_OPTIONS_INIT;
  o.config_path = a.config_path.c_str();
  o.log = engine_log;
  reclaim_engine *e = nullptr;
  if (reclaim_engine_open(&e, &o) != RECLAIM_OK) {
    log_failure("cannot open the engine; status changes are not journalled until it opens");
    return nullptr;
  }
  const char *const *names = nullptr;
  size_t count = 0;
  reclaim_ldap_attribute_names(&names, &count, e);
  a.attrs.clear();
  a.watched.clear();
  for (size_t i = 0; i < count; ++i) {
    a.attrs.emplace_back(names[i]);
    const auto l = lower(names[i]);
    if (l != "entrycsn" && l != "entryuuid") a.watched.push_back(l);
  }
  a.engine.store(e, std::memory_order_release);
  return e;
}

int on_start(Slapi_PBlock *) noexcept {
  try {
    open_engine();
  } catch (...) {
    log_line(SLAPI_LOG_FATAL, "unexpected failure while starting");
  }
  return 0;
}

int on_close(Slapi_PBlock *) noexcept {
  try {
    auto &a = state();
    std::lock_guard lock(a.mu);
    a.closed = true;
    reclaim_engine_close(a.engine.exchange(nullptr));
  } catch (...) {
  }
  return 0;
}

// ---------------------------------------------------------- the callbacks

// Changes a syncrepl consumer applies run without a client connection
// (conn id -1, measured); the originating server journals them.
bool from_client(Slapi_PBlock *pb) {
  long long conn = 0; // zeroed 64-bit buffer: long on OpenLDAP, uint64 on 389
  if (slapi_pblock_get(pb, SLAPI_CONN_ID, &conn) != 0) return false;
  int replicated = 0;
  slapi_pblock_get(pb, SLAPI_IS_REPLICATED_OPERATION, &replicated);
  return conn != -1 && replicated == 0;
}

bool names_watched(const char *type) {
  if (type == nullptr) return false;
  const size_t len = std::strcspn(type, ";");
  for (const auto &w : state().watched)
    if (w.size() == len && strncasecmp(w.data(), type, len) == 0) return true;
  return false;
}

// The pre-image taken in the pre-operation callback, for the post-operation
// callback of the same operation on the same thread.
struct pending_op {
  void *op = nullptr;
  owned_entry before;
};
thread_local pending_op pending;

void *operation_of(Slapi_PBlock *pb) {
  void *op = nullptr;
  slapi_pblock_get(pb, SLAPI_OPERATION, &op);
  return op;
}

const char *target_dn(Slapi_PBlock *pb) {
  char *dn = nullptr;
  slapi_pblock_get(pb, SLAPI_TARGET_DN, &dn);
  return dn;
}

void submit(reclaim_engine *e, Slapi_PBlock *pb, int op, int phase, owned_entry *before,
            owned_entry *after) {
  reclaim_ldap_change c = RECLAIM_LDAP_CHANGE_INIT;
  c.operation = op;
  c.phase = phase;
  c.before = before ? before->finish() : nullptr;
  c.after = after ? after->finish() : nullptr;
  char *actor = nullptr;
  slapi_pblock_get(pb, SLAPI_REQUESTOR_DN, &actor);
  c.actor = actor;
  if (reclaim_ldap_submit(e, &c) != RECLAIM_OK) log_failure("change not journalled");
}

// A modify's watched modifications (and its entryCSN), copied for the
// engine: an array of reclaim_ldap_mod over owned strings.
struct owned_mods {
  std::deque<std::string> strings; // stable addresses
  std::vector<std::vector<const char *>> values;
  std::vector<reclaim_ldap_mod> mods;
  bool watched = false, csn = false;

  void add(const LDAPMod *mod) {
    auto &vals = values.emplace_back();
    if (mod->mod_op & LDAP_MOD_BVALUES) {
      // Binary values (a NUL inside) are never state values: skipped.
      for (size_t v = 0; mod->mod_bvalues != nullptr && mod->mod_bvalues[v] != nullptr; ++v) {
        const berval *bv = mod->mod_bvalues[v];
        if (bv->bv_val != nullptr && std::memchr(bv->bv_val, 0, bv->bv_len) == nullptr)
          vals.push_back(strings.emplace_back(bv->bv_val, bv->bv_len).c_str());
      }
    } else {
      for (size_t v = 0; mod->mod_values != nullptr && mod->mod_values[v] != nullptr; ++v)
        vals.push_back(mod->mod_values[v]);
    }
    mods.push_back({mod->mod_op & 0x3, mod->mod_type, nullptr, 0});
  }
  void finish() {
    for (size_t i = 0; i < mods.size(); ++i) {
      mods[i].values = values[i].data();
      mods[i].value_count = values[i].size();
    }
  }
};

// OpenLDAP converts the operation's modifications into SLAPI_MODIFY_MODS on
// the first get and keeps that copy; fetched here, after the backend
// applied the change, it includes the operation's own entryCSN (measured),
// so the change needs no read of the entry. Should another plugin have
// fetched them before the backend ran, entryCSN is missing: the entry is
// then read back, one internal search per change.
void submit_modify(reclaim_engine *e, Slapi_PBlock *pb, bool replicated) {
  LDAPMod **mods = nullptr;
  slapi_pblock_get(pb, SLAPI_MODIFY_MODS, &mods);
  const char *dn = target_dn(pb);
  if (mods == nullptr || dn == nullptr) return;
  owned_mods m;
  for (size_t i = 0; mods[i] != nullptr; ++i) {
    const LDAPMod *mod = mods[i];
    if (names_watched(mod->mod_type)) {
      m.watched = true;
      m.add(mod);
    } else if (mod->mod_type != nullptr && strcasecmp(mod->mod_type, "entryCSN") == 0 &&
               (mod->mod_op & 0x3) == LDAP_MOD_REPLACE) {
      m.csn = true;
      m.add(mod);
    }
  }
  if (!m.watched) return;
  // A new object class may make the entry a person the engine has no copy
  // of yet: read the entry (rare; one internal search).
  const bool classes = std::any_of(m.mods.begin(), m.mods.end(),
                                   [](const reclaim_ldap_mod &x) { return strcasecmp(x.type, "objectClass") == 0; });
  reclaim_ldap_change c = RECLAIM_LDAP_CHANGE_INIT;
  c.operation = RECLAIM_LDAP_MODIFY;
  char *actor = nullptr;
  slapi_pblock_get(pb, SLAPI_REQUESTOR_DN, &actor);
  c.actor = actor;
  c.flags = replicated ? RECLAIM_LDAP_REPLICATED : 0;
  owned_entry after;
  if (m.csn && !classes) {
    m.finish();
    c.dn = dn;
    c.mods = m.mods.data();
    c.mod_count = m.mods.size();
  } else {
    static std::atomic<bool> told{false};
    if (!classes && !told.exchange(true))
      log_line(SLAPI_LOG_PLUGIN, "entryCSN is not among the post-operation modifications (did another plugin "
                                 "read them in its pre-operation callback?): reading entries back, one more "
                                 "internal search per change");
    if (!fetch_entry(dn, after)) return;
    c.after = after.finish();
  }
  if (reclaim_ldap_submit(e, &c) != RECLAIM_OK) log_failure("change not journalled");
}

// A change replication applied (made and journalled on another server):
// the engine only updates its copy of the person. Nothing is read here (this
// runs on the replication thread); a renamed entry is read again on its
// next local change.
void submit_replicated(reclaim_engine *e, Slapi_PBlock *pb, int op) {
  if (op == RECLAIM_LDAP_MODIFY) return submit_modify(e, pb, true);
  reclaim_ldap_change c = RECLAIM_LDAP_CHANGE_INIT;
  c.operation = op;
  c.flags = RECLAIM_LDAP_REPLICATED;
  c.dn = target_dn(pb);
  owned_entry after;
  if (op == RECLAIM_LDAP_ADD) {
    Slapi_Entry *added = nullptr;
    slapi_pblock_get(pb, SLAPI_ADD_ENTRY, &added);
    if (added == nullptr) return;
    copy_entry(added, after, &state().attrs);
    c.after = after.finish();
  }
  if (c.dn == nullptr && c.after == nullptr) return;
  if (reclaim_ldap_submit(e, &c) != RECLAIM_OK) log_failure("replicated change not applied");
}

// Entries the engine asked to read again (modifications of people it had
// no copy of); returns at once when there are none.
void refresh_unread(reclaim_engine *e) {
  size_t recorded = 0;
  if (reclaim_ldap_refresh(&recorded, e, catch_up_search, nullptr) != RECLAIM_OK)
    log_failure("reading changed entries again failed (retried on the next change)");
}

int pre_op(Slapi_PBlock *pb, int op) noexcept {
  try {
    pending.op = nullptr;
    if (!from_client(pb)) return 0;
    auto *e = open_engine();
    if (e == nullptr) return 0;
    ensure_caught_up(e); // before this change is applied
    // An add has its entry; a modify goes as its modifications, which the
    // engine applies to its copy of the person (no read of the entry).
    if (op == RECLAIM_LDAP_ADD || op == RECLAIM_LDAP_MODIFY) return 0;
    const char *dn = target_dn(pb);
    if (dn == nullptr) return 0;
    owned_entry before;
    if (!fetch_entry(dn, before)) return 0;
    if (op == RECLAIM_LDAP_DELETE) submit(e, pb, op, RECLAIM_LDAP_PREPARE, &before, nullptr);
    pending.before = std::move(before);
    pending.op = operation_of(pb);
  } catch (...) {
    pending.op = nullptr;
    log_line(SLAPI_LOG_FATAL, "pre-operation callback failed; the operation goes on");
  }
  return 0; // a pre-operation plugin must never refuse the change
}

std::string new_dn_after_modrdn(Slapi_PBlock *pb, const char *old_dn) {
  char *newrdn = nullptr, *superior = nullptr;
  slapi_pblock_get(pb, SLAPI_MODRDN_NEWRDN, &newrdn);
  slapi_pblock_get(pb, SLAPI_MODRDN_NEWSUPERIOR, &superior);
  if (newrdn == nullptr) return {};
  if (superior != nullptr) return *superior ? std::string(newrdn) + "," + superior : newrdn;
  char *parent = slapi_dn_parent(old_dn);
  std::string dn = parent && *parent ? std::string(newrdn) + "," + parent : newrdn;
  slapi_ch_free_string(&parent);
  return dn;
}

int post_op(Slapi_PBlock *pb, int op) noexcept {
  try {
    const bool have_before = pending.op != nullptr && pending.op == operation_of(pb);
    pending.op = nullptr;
    int result = LDAP_OTHER;
    slapi_pblock_get(pb, SLAPI_RESULT_CODE, &result);
    if (!from_client(pb)) {
      // Only once the engine runs and has caught up (which happens on a
      // client's operation; catch-up covers what came before).
      auto *e = state().engine.load(std::memory_order_acquire);
      if (e != nullptr && result == LDAP_SUCCESS && state().caught_up.load(std::memory_order_acquire))
        submit_replicated(e, pb, op);
      return 0;
    }
    auto *e = state().engine.load(std::memory_order_acquire);
    if (e == nullptr) e = open_engine();
    if (e == nullptr) return 0;
    ensure_caught_up(e);
    refresh_unread(e);
    if (result != LDAP_SUCCESS) {
      if (op == RECLAIM_LDAP_DELETE && have_before)
        submit(e, pb, op, RECLAIM_LDAP_ABORT, &pending.before, nullptr);
      return 0;
    }
    if (op == RECLAIM_LDAP_MODIFY) {
      submit_modify(e, pb, false);
      return 0;
    }
    if (op == RECLAIM_LDAP_DELETE) {
      if (have_before) submit(e, pb, op, RECLAIM_LDAP_COMMIT, &pending.before, nullptr);
      return 0;
    }
    const char *dn = target_dn(pb);
    if (dn == nullptr) return 0;
    owned_entry after;
    bool have_after = false;
    if (op == RECLAIM_LDAP_ADD) {
      Slapi_Entry *added = nullptr;
      slapi_pblock_get(pb, SLAPI_ADD_ENTRY, &added);
      if (added != nullptr) {
        copy_entry(added, after, &state().attrs);
        // OpenLDAP's add entry carries entryUUID and entryCSN; a server whose
        // does not is read back instead.
        have_after = find_attr(after, "entryCSN") < after.names.size() &&
                     find_attr(after, "entryUUID") < after.names.size();
      }
    } else if (have_before) {
      after = pending.before;
      if (op == RECLAIM_LDAP_MODRDN) after.dn = new_dn_after_modrdn(pb, dn);
      LDAPMod **mods = nullptr;
      slapi_pblock_get(pb, SLAPI_MODIFY_MODS, &mods);
      const size_t csn_before = find_attr(after, "entryCSN");
      const std::string before_csn =
          csn_before < after.names.size() && !after.values[csn_before].empty() ? after.values[csn_before][0] : "";
      apply_mods(after, mods);
      // The mods carry this operation's own entryCSN when the backend added
      // it (see touches_watched); otherwise read the entry back.
      const size_t csn_after = find_attr(after, "entryCSN");
      const bool own_csn = csn_after < after.names.size() && after.values[csn_after].size() == 1 &&
                           after.values[csn_after][0] != before_csn;
      have_after = !after.dn.empty() && (own_csn || settle_csn(after));
    }
    if (!have_after) {
      after = owned_entry{};
      const std::string after_dn = op == RECLAIM_LDAP_MODRDN ? new_dn_after_modrdn(pb, dn) : dn;
      if (after_dn.empty() || !fetch_entry(after_dn.c_str(), after)) return 0;
    }
    submit(e, pb, op, RECLAIM_LDAP_COMMIT, have_before ? &pending.before : nullptr, &after);
  } catch (...) {
    log_line(SLAPI_LOG_FATAL, "post-operation callback failed; the operation goes on");
  }
  return 0;
}

int pre_add(Slapi_PBlock *pb) { return pre_op(pb, RECLAIM_LDAP_ADD); }
int pre_modify(Slapi_PBlock *pb) { return pre_op(pb, RECLAIM_LDAP_MODIFY); }
int pre_modrdn(Slapi_PBlock *pb) { return pre_op(pb, RECLAIM_LDAP_MODRDN); }
int pre_delete(Slapi_PBlock *pb) { return pre_op(pb, RECLAIM_LDAP_DELETE); }
int post_add(Slapi_PBlock *pb) { return post_op(pb, RECLAIM_LDAP_ADD); }
int post_modify(Slapi_PBlock *pb) { return post_op(pb, RECLAIM_LDAP_MODIFY); }
int post_modrdn(Slapi_PBlock *pb) { return post_op(pb, RECLAIM_LDAP_MODRDN); }
int post_delete(Slapi_PBlock *pb) { return post_op(pb, RECLAIM_LDAP_DELETE); }

template <typename F> int set_fn(Slapi_PBlock *pb, int which, F *fn) {
  return slapi_pblock_set(pb, which, reinterpret_cast<void *>(fn));
}

int init(Slapi_PBlock *pb) {
  if (slapi_pblock_get == nullptr || slapi_search_internal_pb == nullptr) {
    std::fprintf(stderr, "reclaim: reclaim_slapi_init called outside a SLAPI directory server\n");
    return -1;
  }
  int argc = 0;
  char **argv = nullptr;
  slapi_pblock_get(pb, SLAPI_PLUGIN_ARGC, &argc);
  slapi_pblock_get(pb, SLAPI_PLUGIN_ARGV, &argv);
  if (argc > 1) {
    log_line(SLAPI_LOG_FATAL, "usage: reclaim_slapi_init [/path/to/reclaim.toml] (one argument)");
    std::fprintf(stderr, "reclaim: usage: reclaim_slapi_init [/path/to/reclaim.toml]\n");
    return -1;
  }
  auto &a = state();
  std::string path = argc == 1 && argv && argv[0] ? argv[0] : "/etc/reclaim/reclaim.toml";

  // Validate only: init also runs in slaptest and slapadd, before slapd
  // forks; threads and files start later.
  reclaim_open_options o = RECLAIM_OPEN_OPTIONS_INIT;
  o.config_path = path.c_str();
  o.flags = RECLAIM_OPEN_VALIDATE_ONLY;
  reclaim_engine *probe = nullptr;
  if (reclaim_engine_open(&probe, &o) != RECLAIM_OK) {
    std::string msg = std::string("configuration refused: ") + reclaim_error_last();
    log_line(SLAPI_LOG_FATAL, msg.c_str());
    // slapd prints only "handler exited with 1"; the admin needs the reason.
    std::fprintf(stderr, "reclaim: %s\n", msg.c_str());
    return -1;
  }
  reclaim_engine_close(probe);
  {
    std::lock_guard lock(a.mu);
    if (!a.config_path.empty() && a.config_path != path) {
      std::fprintf(stderr, "reclaim: loaded twice with different configs (%s, %s)\n",
                   a.config_path.c_str(), path.c_str());
      return -1;
    }
    a.config_path = path;
    a.closed = false;
  }
  slapi_pblock_get(pb, SLAPI_PLUGIN_IDENTITY, &a.identity);

  int rc = 0;
  rc |= slapi_pblock_set(pb, SLAPI_PLUGIN_VERSION, const_cast<char *>(SLAPI_PLUGIN_VERSION_03));
  rc |= slapi_pblock_set(pb, SLAPI_PLUGIN_DESCRIPTION, &description);
  rc |= set_fn(pb, SLAPI_PLUGIN_START_FN, on_start);
  rc |= set_fn(pb, SLAPI_PLUGIN_CLOSE_FN, on_close);
  // OpenLDAP calls any function a plugin registers, whatever its type, so
  // one `plugin postoperation` line gives us the pre-images too.
  rc |= set_fn(pb, SLAPI_PLUGIN_PRE_ADD_FN, pre_add);
  rc |= set_fn(pb, SLAPI_PLUGIN_PRE_MODIFY_FN, pre_modify);
  rc |= set_fn(pb, SLAPI_PLUGIN_PRE_MODRDN_FN, pre_modrdn);
  rc |= set_fn(pb, SLAPI_PLUGIN_PRE_DELETE_FN, pre_delete);
  rc |= set_fn(pb, SLAPI_PLUGIN_POST_ADD_FN, post_add);
  rc |= set_fn(pb, SLAPI_PLUGIN_POST_MODIFY_FN, post_modify);
  rc |= set_fn(pb, SLAPI_PLUGIN_POST_MODRDN_FN, post_modrdn);
  rc |= set_fn(pb, SLAPI_PLUGIN_POST_DELETE_FN, post_delete);
  if (rc != 0) {
    log_line(SLAPI_LOG_FATAL, "could not register callbacks");
    return -1;
  }
  std::string msg = "reclaim " RECLAIM_VERSION " loaded with " + path;
  log_line(SLAPI_LOG_PLUGIN, msg.c_str());
  return 0;
}

} // namespace

extern "C" RECLAIM_API int reclaim_slapi_init(Slapi_PBlock *pb) noexcept {
  try {
    return init(pb);
  } catch (...) {
    std::fprintf(stderr, "reclaim: unexpected failure in reclaim_slapi_init\n");
    return -1;
  }
}
