// c_api.cpp — the one file that implements the C ABI of reclaim.h. Every
// function catches everything: std::bad_alloc, std::exception and (...) each
// become a status code plus a thread-local message, so no exception ever
// crosses into the host (STYLE.md 9). Inputs are copied before return.
#include "reclaim/reclaim.h"

#include "engine/engine.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstring>
#include <string>

struct reclaim_engine {
  std::unique_ptr<reclaim::engine> impl;
  std::vector<const char *> attr_names; // NULL-terminated view of impl's names
};

namespace {

thread_local std::string last_error;

int fail(int status, std::string message) {
  last_error = std::move(message);
  return status;
}

template <typename F> int guarded(F &&body) noexcept {
  try {
    last_error.clear();
    return body();
  } catch (const std::bad_alloc &) {
    return fail(RECLAIM_ERR_NOMEM, "out of memory");
  } catch (const reclaim::permission_error &e) {
    return fail(RECLAIM_ERR_PERMISSION, e.what());
  } catch (const reclaim::config_error &e) {
    return fail(RECLAIM_ERR_CONFIG, e.what());
  } catch (const reclaim::sqlite::store_error &e) {
    return fail(RECLAIM_ERR_STORE, e.what());
  } catch (const reclaim::usage_error &e) {
    return fail(RECLAIM_ERR_INVALID_ARGUMENT, e.what());
  } catch (const std::exception &e) {
    return fail(RECLAIM_ERR_INTERNAL, e.what());
  } catch (...) {
    return fail(RECLAIM_ERR_INTERNAL, "unknown internal error");
  }
}

// A struct's size before it grew (0.1), or 0 when it never did.
template <typename T> constexpr size_t older_size() { return 0; }
template <> constexpr size_t older_size<reclaim_ldap_change>() { return offsetof(reclaim_ldap_change, dn); }

// Structs are the current size or a size an older header had (the fields
// added since then read as zero); a larger struct_size comes from a newer
// header than this library and is refused.
template <typename T> int check_struct(const T *s, const char *what) {
  if (s == nullptr) return fail(RECLAIM_ERR_INVALID_ARGUMENT, std::string(what) + " is NULL");
  if (s->struct_size != sizeof(T) && (older_size<T>() == 0 || s->struct_size != older_size<T>()))
    return fail(RECLAIM_ERR_VERSION,
                std::string(what) + ".struct_size " + std::to_string(s->struct_size) +
                    " is not supported by libreclaim " RECLAIM_VERSION " (expected " +
                    std::to_string(sizeof(T)) + ")");
  return RECLAIM_OK;
}

bool valid_state(int s) { return s >= RECLAIM_STATE_NONE && s <= RECLAIM_STATE_DELETED; }

// A host's time: 0 means now; otherwise 1970-01-01T00:00:00.001Z up to
// 9999-12-31T23:59:59.999Z (reclaim.h), so that due times (a time plus a
// delay of years at most) never overflow.
constexpr int64_t max_time_unix_ms = 253402300799999;

reclaim::time_point time_or_now(int64_t ms, const char *what) {
  if (ms == 0) return reclaim::now();
  if (ms < 0 || ms > max_time_unix_ms)
    throw reclaim::usage_error(fmt::format("{} {} is outside 1970-01-01..9999-12-31 (0 means now)", what, ms));
  return reclaim::from_unix_ms(ms);
}

reclaim::ldap::entry copy_entry(const reclaim_ldap_entry &in) {
  reclaim::ldap::entry e;
  if (in.dn == nullptr) throw std::invalid_argument("entry dn is NULL");
  e.dn = in.dn;
  if (in.attribute_count > 0 && in.attributes == nullptr)
    throw std::invalid_argument("entry attributes is NULL but attribute_count > 0");
  for (size_t i = 0; i < in.attribute_count; ++i) {
    const auto &a = in.attributes[i];
    if (a.name == nullptr) throw std::invalid_argument("attribute name is NULL");
    if (a.value_count > 0 && a.values == nullptr)
      throw std::invalid_argument(std::string("attribute ") + a.name + ": values is NULL but value_count > 0");
    for (size_t v = 0; v < a.value_count; ++v)
      if (a.values[v] != nullptr) e.add(a.name, a.values[v]);
  }
  return e;
}

// The 0.2 fields of a change: a modify as its DN and modifications.
int copy_mods(const reclaim_ldap_change &in, reclaim::ldap::change &c) {
  if (in.dn != nullptr) c.dn = in.dn;
  if (in.mod_count > 0 && in.mods == nullptr)
    return fail(RECLAIM_ERR_INVALID_ARGUMENT, "change.mods is NULL but mod_count > 0");
  if (in.mod_count > 0 && (in.operation != RECLAIM_LDAP_MODIFY || in.dn == nullptr || in.before || in.after))
    return fail(RECLAIM_ERR_INVALID_ARGUMENT,
                "change.mods needs operation RECLAIM_LDAP_MODIFY, a dn and no before/after entries");
  for (size_t i = 0; i < in.mod_count; ++i) {
    const auto &m = in.mods[i];
    if (m.type == nullptr) return fail(RECLAIM_ERR_INVALID_ARGUMENT, "change.mods[].type is NULL");
    if (m.op < RECLAIM_LDAP_MOD_ADD || m.op > RECLAIM_LDAP_MOD_REPLACE)
      return fail(RECLAIM_ERR_INVALID_ARGUMENT, std::string("change.mods[].op of ") + m.type + " is not add, delete or replace");
    if (m.value_count > 0 && m.values == nullptr)
      return fail(RECLAIM_ERR_INVALID_ARGUMENT, std::string("change.mods[].values of ") + m.type + " is NULL");
    auto &out = c.mods.emplace_back();
    out.op = m.op;
    out.type = m.type;
    for (size_t v = 0; v < m.value_count; ++v)
      if (m.values[v] != nullptr) out.values.emplace_back(m.values[v]);
  }
  return RECLAIM_OK;
}

// The host's C search as the engine's search function; search_failed is
// set when it fails (or an entry could not be taken).
reclaim::ldap::search_fn host_search(reclaim_ldap_search_fn search, void *payload, bool &search_failed) {
  return [search, payload, &search_failed](const std::string &base, const std::string &filter,
                                           const std::vector<std::string> &attrs,
                                           const std::function<void(reclaim::ldap::entry &&)> &on_entry) {
      std::vector<const char *> names;
      for (const auto &a : attrs) names.push_back(a.c_str());
      names.push_back(nullptr);
      struct ctx_t {
        const std::function<void(reclaim::ldap::entry &&)> *cb;
        bool bad = false;
      } ctx{&on_entry};
      auto trampoline = [](const reclaim_ldap_entry *e, void *p) {
        auto *c = static_cast<ctx_t *>(p);
        try {
          if (e != nullptr) (*c->cb)(copy_entry(*e));
        } catch (...) {
          c->bad = true; // never unwind through the host's C frames
        }
      };
      const int rc = search(base.c_str(), filter.c_str(), names.data(), trampoline, &ctx, payload);
      if (rc != 0 || ctx.bad) search_failed = true;
      return rc == 0 && !ctx.bad;
  };
}

// Runs an engine call that reads the directory through the host's search;
// a failed search is RECLAIM_ERR_SEARCH.
int with_host_search(size_t *out_recorded, reclaim_engine *engine, reclaim_ldap_search_fn search, void *payload,
                     size_t (reclaim::engine::*call)(const reclaim::ldap::search_fn &)) {
  if (out_recorded != nullptr) *out_recorded = 0;
  return guarded([&] {
    if (engine == nullptr || search == nullptr)
      return fail(RECLAIM_ERR_INVALID_ARGUMENT, "engine or search is NULL");
    bool search_failed = false;
    try {
      const size_t n = (engine->impl.get()->*call)(host_search(search, payload, search_failed));
      if (out_recorded != nullptr) *out_recorded = n;
    } catch (const std::runtime_error &e) {
      if (search_failed) return fail(RECLAIM_ERR_SEARCH, e.what());
      throw;
    }
    return RECLAIM_OK;
  });
}

const char *const status_names[] = {
    "ok",           "invalid argument", "unsupported struct version", "configuration error",
    "unsafe file permissions", "state store error", "out of memory", "internal error",
    "not found",    "host search failed", "timed out"};

} // namespace

extern "C" {

int reclaim_version_num(void) { return RECLAIM_VERSION_NUM; }

const char *reclaim_version(void) { return RECLAIM_VERSION; }

const char *reclaim_strerror(int status) {
  if (status < 0 || static_cast<size_t>(status) >= std::size(status_names)) return "unknown status";
  return status_names[status];
}

const char *reclaim_error_last(void) { return last_error.c_str(); }

const char *reclaim_state_name(int state) {
  if (!valid_state(state)) return nullptr;
  // Names are static string literals behind the string_view.
  return reclaim::state_name(static_cast<reclaim::state>(state)).data();
}

int reclaim_state_parse(int *out, const char *name) {
  return guarded([&] {
    if (out == nullptr || name == nullptr) return fail(RECLAIM_ERR_INVALID_ARGUMENT, "NULL argument");
    const auto s = reclaim::parse_state(name);
    if (!s) return fail(RECLAIM_ERR_INVALID_ARGUMENT, std::string("unknown state \"") + name + "\"");
    *out = static_cast<int>(*s);
    return RECLAIM_OK;
  });
}

void reclaim_open_options_init(reclaim_open_options *options) {
  if (options != nullptr) *options = RECLAIM_OPEN_OPTIONS_INIT;
}

int reclaim_engine_open(reclaim_engine **out, const reclaim_open_options *options) {
  if (out != nullptr) *out = nullptr;
  return guarded([&] {
    if (out == nullptr) return fail(RECLAIM_ERR_INVALID_ARGUMENT, "out is NULL");
    if (int rc = check_struct(options, "options"); rc != RECLAIM_OK) return rc;
    constexpr uint32_t roles = RECLAIM_OPEN_ROLE_ENGINE | RECLAIM_OPEN_ROLE_INTAKE;
    if (options->flags & ~(RECLAIM_OPEN_VALIDATE_ONLY | roles))
      return fail(RECLAIM_ERR_INVALID_ARGUMENT, "unknown flags in options.flags");
    if ((options->flags & roles) == roles)
      return fail(RECLAIM_ERR_INVALID_ARGUMENT,
                  "options.flags: RECLAIM_OPEN_ROLE_ENGINE and RECLAIM_OPEN_ROLE_INTAKE exclude each other");
    reclaim::open_options o;
    o.config_path = reclaim::resolve_config_path(options->config_path);
    o.validate_only = (options->flags & RECLAIM_OPEN_VALIDATE_ONLY) != 0;
    if (options->flags & RECLAIM_OPEN_ROLE_ENGINE) o.role = reclaim::engine_role::engine;
    if (options->flags & RECLAIM_OPEN_ROLE_INTAKE) o.role = reclaim::engine_role::intake;
    o.sink = options->log;
    o.sink_payload = options->log_payload;
    auto handle = std::make_unique<reclaim_engine>();
    handle->impl = std::make_unique<reclaim::engine>(o);
    for (const auto &n : handle->impl->ldap_attribute_names()) handle->attr_names.push_back(n.c_str());
    handle->attr_names.push_back(nullptr);
    *out = handle.release();
    return RECLAIM_OK;
  });
}

void reclaim_engine_close(reclaim_engine *engine) {
  try {
    delete engine;
  } catch (...) {
  }
}

void reclaim_event_init(reclaim_event *event) {
  if (event != nullptr) *event = RECLAIM_EVENT_INIT;
}

namespace {

// Validates *event and converts it; on a bad event returns the error code
// (reclaim_error_last() set, its message prefixed by `where`) and leaves out.
int convert_event(reclaim::event_record &out, const reclaim_event *event, const std::string &where) {
  if (int rc = check_struct(event, where.c_str()); rc != RECLAIM_OK) return rc;
  auto required = [](const char *s) { return s != nullptr && *s != '\0'; };
  auto bad = [&](const std::string &what) { return fail(RECLAIM_ERR_INVALID_ARGUMENT, where + "." + what); };
  if (!required(event->subject_id)) return bad("subject_id is required");
  if (!required(event->source)) return bad("source is required");
  if (!required(event->idempotency_key)) return bad("idempotency_key is required");
  if (!valid_state(event->state) || event->state == RECLAIM_STATE_NONE)
    return bad("state " + std::to_string(event->state) + " is not a lifecycle state");
  if (!valid_state(event->previous_state))
    return bad("previous_state " + std::to_string(event->previous_state) + " is not a lifecycle state");
  if (event->attribute_count > 0 && event->attributes == nullptr)
    return bad("attributes is NULL but attribute_count > 0");
  reclaim::event_record ev;
  ev.subject_id = event->subject_id;
  ev.source = event->source;
  ev.idempotency_key = event->idempotency_key;
  ev.current = static_cast<reclaim::state>(event->state);
  ev.previous = static_cast<reclaim::state>(event->previous_state);
  ev.time = time_or_now(event->time_unix_ms, (where + ".time_unix_ms").c_str());
  if (event->subject_name) ev.subject_name = event->subject_name;
  if (event->actor) ev.actor = event->actor;
  nlohmann::json attrs = nlohmann::json::object();
  for (size_t i = 0; i < event->attribute_count; ++i) {
    const auto &a = event->attributes[i];
    if (a.name == nullptr) return bad("attribute name is NULL");
    if (a.value_count > 0 && a.values == nullptr)
      return bad(std::string("attribute ") + a.name + ": values is NULL but value_count > 0");
    auto &values = attrs[a.name] = nlohmann::json::array();
    for (size_t v = 0; v < a.value_count; ++v)
      if (a.values[v] != nullptr) values.push_back(a.values[v]);
  }
  ev.attributes_json = attrs.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out = std::move(ev);
  return RECLAIM_OK;
}

} // namespace

int reclaim_submit(bool *out_recorded, reclaim_engine *engine, const reclaim_event *event) {
  if (out_recorded != nullptr) *out_recorded = false;
  return guarded([&] {
    if (engine == nullptr) return fail(RECLAIM_ERR_INVALID_ARGUMENT, "engine is NULL");
    reclaim::event_record ev;
    if (int rc = convert_event(ev, event, "event"); rc != RECLAIM_OK) return rc;
    const bool inserted = engine->impl->submit(std::move(ev));
    if (out_recorded != nullptr) *out_recorded = inserted;
    return RECLAIM_OK;
  });
}

int reclaim_submit_batch(bool *out_recorded, reclaim_engine *engine, const reclaim_event *events, size_t count) {
  if (out_recorded != nullptr)
    for (size_t i = 0; i < count; ++i) out_recorded[i] = false;
  return guarded([&] {
    if (engine == nullptr) return fail(RECLAIM_ERR_INVALID_ARGUMENT, "engine is NULL");
    if (count == 0) return RECLAIM_OK;
    if (events == nullptr) return fail(RECLAIM_ERR_INVALID_ARGUMENT, "events is NULL but count > 0");
    std::vector<reclaim::event_record> batch(count);
    for (size_t i = 0; i < count; ++i)
      if (int rc = convert_event(batch[i], &events[i], "events[" + std::to_string(i) + "]"); rc != RECLAIM_OK)
        return rc;
    const std::vector<bool> inserted = engine->impl->submit_many(std::move(batch));
    if (out_recorded != nullptr)
      for (size_t i = 0; i < count; ++i) out_recorded[i] = inserted[i];
    return RECLAIM_OK;
  });
}

void reclaim_ldap_change_init(reclaim_ldap_change *change) {
  if (change != nullptr) *change = RECLAIM_LDAP_CHANGE_INIT;
}

int reclaim_ldap_submit(reclaim_engine *engine, const reclaim_ldap_change *change) {
  return guarded([&] {
    if (engine == nullptr) return fail(RECLAIM_ERR_INVALID_ARGUMENT, "engine is NULL");
    if (int rc = check_struct(change, "change"); rc != RECLAIM_OK) return rc;
    if (change->operation < RECLAIM_LDAP_ADD || change->operation > RECLAIM_LDAP_DELETE)
      return fail(RECLAIM_ERR_INVALID_ARGUMENT, "change.operation is not RECLAIM_LDAP_ADD..DELETE");
    if (change->phase < RECLAIM_LDAP_PREPARE || change->phase > RECLAIM_LDAP_ABORT)
      return fail(RECLAIM_ERR_INVALID_ARGUMENT, "change.phase is not RECLAIM_LDAP_PREPARE..ABORT");
    reclaim::ldap::change c;
    c.op = static_cast<reclaim::ldap::operation>(change->operation);
    c.when = static_cast<reclaim::ldap::phase>(change->phase);
    try {
      if (change->before) c.before = copy_entry(*change->before);
      if (change->after) c.after = copy_entry(*change->after);
    } catch (const std::invalid_argument &e) {
      return fail(RECLAIM_ERR_INVALID_ARGUMENT, e.what());
    }
    if (change->actor) c.actor = change->actor;
    c.time = time_or_now(change->time_unix_ms, "change.time_unix_ms");
    if (change->struct_size == sizeof(reclaim_ldap_change)) {
      if (int rc = copy_mods(*change, c); rc != RECLAIM_OK) return rc;
      c.replicated = (change->flags & RECLAIM_LDAP_REPLICATED) != 0;
    }
    engine->impl->ldap_submit(std::move(c));
    return RECLAIM_OK;
  });
}

int reclaim_ldap_attribute_names(const char *const **out, size_t *out_count, reclaim_engine *engine) {
  return guarded([&] {
    if (out == nullptr || engine == nullptr) return fail(RECLAIM_ERR_INVALID_ARGUMENT, "NULL argument");
    *out = engine->attr_names.data();
    if (out_count) *out_count = engine->attr_names.size() - 1;
    return RECLAIM_OK;
  });
}

int reclaim_ldap_catch_up(size_t *out_recorded, reclaim_engine *engine, reclaim_ldap_search_fn search,
                          void *payload) {
  return with_host_search(out_recorded, engine, search, payload, &reclaim::engine::ldap_catch_up);
}

int reclaim_ldap_refresh(size_t *out_recorded, reclaim_engine *engine, reclaim_ldap_search_fn search,
                         void *payload) {
  // Called by every directory operation's callback: when there is nothing
  // to read again (nearly always), return before building the search
  // adapter (a heap-allocated std::function).
  if (engine != nullptr && search != nullptr && !engine->impl->refresh_wanted()) {
    if (out_recorded != nullptr) *out_recorded = 0;
    last_error.clear();
    return RECLAIM_OK;
  }
  return with_host_search(out_recorded, engine, search, payload, &reclaim::engine::ldap_refresh);
}

int reclaim_flush(reclaim_engine *engine, uint32_t timeout_ms) {
  return guarded([&] {
    if (engine == nullptr) return fail(RECLAIM_ERR_INVALID_ARGUMENT, "engine is NULL");
    if (!engine->impl->flush(std::chrono::milliseconds(timeout_ms)))
      return fail(RECLAIM_ERR_TIMEOUT, "queued changes not yet journalled");
    return RECLAIM_OK;
  });
}

} // extern "C"
