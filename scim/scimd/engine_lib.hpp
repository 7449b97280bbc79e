// engine_lib.hpp — libreclaim.so.1 loaded with dlopen, as any third-party host
// would: only reclaim/reclaim.h, its symbols resolved into a function table,
// the major version checked before anything else is called.
#pragma once

#include "lifecycle_mapping.hpp"

#include <reclaim/reclaim.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace reclaim::scimd {

struct engine_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class engine_lib {
public:
  // dlopen(path) (default "libreclaim.so.1" through the loader's search),
  // dlsym of every call used, version check; then reclaim_engine_open with
  // config_path. Throws engine_error naming what failed.
  engine_lib(const std::string &library_path, const std::string &config_path);
  ~engine_lib(); // closes the engine (drains its queues), then dlclose
  engine_lib(const engine_lib &) = delete;
  engine_lib &operator=(const engine_lib &) = delete;

  std::string version() const;

  // reclaim_submit of the mapped event (source "scim"); returns whether it
  // was new. Throws engine_error with reclaim_error_last() on failure.
  bool submit(const mapped_event &ev, const std::string &source, const std::string &actor);

  // Every event in one journal transaction (reclaim_submit_batch, 0.5), all
  // or nothing; with an older library reclaim_submit per event (then an
  // error part-way leaves the earlier ones journalled). Throws engine_error.
  struct batch_item {
    const mapped_event *event;
    const std::string *actor;
  };
  void submit_batch(const std::vector<batch_item> &items, const std::string &source);

private:
  struct table {
    int (*version_num)(void);
    const char *(*version)(void);
    const char *(*strerror)(int);
    const char *(*error_last)(void);
    int (*state_parse)(int *, const char *);
    void (*open_options_init)(reclaim_open_options *);
    int (*engine_open)(reclaim_engine **, const reclaim_open_options *);
    void (*engine_close)(reclaim_engine *);
    void (*event_init)(reclaim_event *);
    int (*submit)(bool *, reclaim_engine *, const reclaim_event *);
    int (*submit_batch)(bool *, reclaim_engine *, const reclaim_event *, size_t); // null before 0.5
  };
  struct converted;
  void convert(converted &c, const mapped_event &ev, const std::string &source, const std::string &actor);
  void *handle_ = nullptr;
  table fn_{};
  reclaim_engine *engine_ = nullptr;
};

} // namespace reclaim::scimd
