// engine_lib.cpp — dlopen/dlsym of libreclaim.so.1 and reclaim_submit of
// mapped events. The engine's log lines go to stderr (journald).
#include "engine_lib.hpp"

#include <cstdio>
#include <dlfcn.h>
#include <vector>

namespace reclaim::scimd {
namespace {

void log_to_stderr(int level, const char *message, void *) {
  static const char *const names[] = {"error", "warning", "info", "debug"};
  const char *name = level >= 0 && level <= 3 ? names[level] : "log";
  std::fprintf(stderr, "reclaim-scimd: engine %s: %s\n", name, message);
}

} // namespace

engine_lib::engine_lib(const std::string &library_path, const std::string &config_path) {
  const std::string path = library_path.empty() ? "libreclaim.so.1" : library_path;
  handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) throw engine_error("cannot load " + path + ": " + dlerror());
  auto sym = [&](const char *name) {
    void *p = dlsym(handle_, name);
    if (p == nullptr) {
      dlclose(handle_);
      handle_ = nullptr;
      throw engine_error(path + " has no symbol " + name + " (not a libreclaim.so.1?)");
    }
    return p;
  };
  // POSIX guarantees a data pointer from dlsym converts to a function pointer.
  fn_.version_num = reinterpret_cast<int (*)(void)>(sym("reclaim_version_num"));
  const int have = fn_.version_num();
  if ((have >> 16) != RECLAIM_VERSION_MAJOR) {
    dlclose(handle_);
    handle_ = nullptr;
    throw engine_error(path + " is version " + std::to_string(have >> 16) + "." + std::to_string((have >> 8) & 255) +
                       ", reclaim-scimd was built for major version " + std::to_string(RECLAIM_VERSION_MAJOR));
  }
  fn_.version = reinterpret_cast<const char *(*)(void)>(sym("reclaim_version"));
  fn_.strerror = reinterpret_cast<const char *(*)(int)>(sym("reclaim_strerror"));
  fn_.error_last = reinterpret_cast<const char *(*)(void)>(sym("reclaim_error_last"));
  fn_.state_parse = reinterpret_cast<int (*)(int *, const char *)>(sym("reclaim_state_parse"));
  fn_.open_options_init = reinterpret_cast<void (*)(reclaim_open_options *)>(sym("reclaim_open_options_init"));
  fn_.engine_open = reinterpret_cast<int (*)(reclaim_engine **, const reclaim_open_options *)>(sym("reclaim_engine_open"));
  fn_.engine_close = reinterpret_cast<void (*)(reclaim_engine *)>(sym("reclaim_engine_close"));
  fn_.event_init = reinterpret_cast<void (*)(reclaim_event *)>(sym("reclaim_event_init"));
  fn_.submit = reinterpret_cast<int (*)(bool *, reclaim_engine *, const reclaim_event *)>(sym("reclaim_submit"));
  fn_.submit_batch = reinterpret_cast<int (*)(bool *, reclaim_engine *, const reclaim_event *, size_t)>(
      dlsym(handle_, "reclaim_submit_batch"));

  reclaim_open_options opts;
  fn_.open_options_init(&opts);
  opts.config_path = config_path.c_str();
  opts.log = log_to_stderr;
  const int rc = fn_.engine_open(&engine_, &opts);
  if (rc != RECLAIM_OK) {
    std::string msg = std::string("engine open failed: ") + fn_.strerror(rc) + ": " + fn_.error_last();
    dlclose(handle_);
    handle_ = nullptr;
    throw engine_error(msg);
  }
}

engine_lib::~engine_lib() {
  if (engine_ != nullptr) fn_.engine_close(engine_);
  // The engine's threads are joined by close; unloading is then safe.
  if (handle_ != nullptr) dlclose(handle_);
}

std::string engine_lib::version() const { return fn_.version(); }

// A reclaim_event pointing into ev and the storage kept here.
struct engine_lib::converted {
  std::vector<std::vector<const char *>> values;
  std::vector<reclaim_attribute> attrs;
  reclaim_event e;
};

void engine_lib::convert(converted &c, const mapped_event &ev, const std::string &source, const std::string &actor) {
  int state = 0, previous = 0;
  if (fn_.state_parse(&state, ev.state.c_str()) != RECLAIM_OK) throw engine_error("unknown state " + ev.state);
  if (fn_.state_parse(&previous, ev.previous_state.c_str()) != RECLAIM_OK) previous = RECLAIM_STATE_NONE;
  c.values.reserve(ev.attributes.size());
  c.attrs.reserve(ev.attributes.size());
  for (const auto &[name, vals] : ev.attributes) {
    auto &ptrs = c.values.emplace_back();
    for (const auto &v : vals) ptrs.push_back(v.c_str());
    c.attrs.push_back(reclaim_attribute{name.c_str(), ptrs.data(), ptrs.size()});
  }
  fn_.event_init(&c.e);
  c.e.subject_id = ev.subject_id.c_str();
  c.e.source = source.c_str();
  c.e.state = state;
  c.e.previous_state = previous;
  c.e.attributes = c.attrs.empty() ? nullptr : c.attrs.data();
  c.e.attribute_count = c.attrs.size();
  c.e.time_unix_ms = ev.time_unix_ms;
  c.e.idempotency_key = ev.idempotency_key.c_str();
  c.e.subject_name = ev.subject_name.empty() ? nullptr : ev.subject_name.c_str();
  c.e.actor = actor.empty() ? nullptr : actor.c_str();
}

bool engine_lib::submit(const mapped_event &ev, const std::string &source, const std::string &actor) {
  converted c;
  convert(c, ev, source, actor);
  bool recorded = false;
  const int rc = fn_.submit(&recorded, engine_, &c.e);
  if (rc != RECLAIM_OK) throw engine_error(std::string("reclaim_submit: ") + fn_.strerror(rc) + ": " + fn_.error_last());
  return recorded;
}

void engine_lib::submit_batch(const std::vector<batch_item> &items, const std::string &source) {
  if (items.empty()) return;
  if (fn_.submit_batch == nullptr) {
    for (const auto &it : items) submit(*it.event, source, *it.actor);
    return;
  }
  std::vector<converted> conv(items.size());
  std::vector<reclaim_event> events;
  events.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    convert(conv[i], *items[i].event, source, *items[i].actor);
    events.push_back(conv[i].e);
  }
  const int rc = fn_.submit_batch(nullptr, engine_, events.data(), events.size());
  if (rc != RECLAIM_OK)
    throw engine_error(std::string("reclaim_submit_batch: ") + fn_.strerror(rc) + ": " + fn_.error_last());
}

} // namespace reclaim::scimd
