// main.cpp — reclaim-scimd --config PATH [--library PATH]: loads
// libreclaim.so.1 with dlopen, opens the engine on the same reclaim.toml,
// serves SCIM (unless [scim_server] enabled = false: engine-only) and on
// SIGTERM/SIGINT stops accepting, drains, closes the engine and exits 0.
#include "engine_lib.hpp"
#include "hr_endpoint.hpp"
#include "http_server.hpp"
#include "resource_store.hpp"
#include "saml_endpoint.hpp"
#include "scim_service.hpp"
#include "scimd_config.hpp"

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <pthread.h>
#include <thread>

namespace {

void say(const std::string &text) { std::fprintf(stderr, "reclaim-scimd: %s\n", text.c_str()); }

int run(const std::string &config_path, const std::string &library, const std::string &port_file) {
  using namespace reclaim::scimd;
  const scimd_config cfg = load_config(config_path);

  // Signals are taken by one thread with sigwait; every other thread
  // (engine, I/O) inherits the blocked mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  engine_lib engine(library, config_path);
  say("engine " + engine.version() + " open (" + config_path + ")");
  resource_store store(cfg.state_dir);
  scim_service service(cfg, store, &engine);
  service.add_route("/hr/v1/workers", role::hr, hr_workers_handler(load_hr_config(config_path), engine));
  // The SAML endpoint is served before bearer authentication: the IdP's
  // signature authenticates it (docs/scim.md).
  std::unique_ptr<saml_endpoint> saml;
  if (auto settings = load_saml_settings(config_path)) saml = std::make_unique<saml_endpoint>(std::move(*settings), cfg, engine);

  if (!cfg.enabled) {
    say("[scim_server] enabled = false: engine only, no listener");
    int sig = 0;
    sigwait(&set, &sig);
    say(std::string("signal ") + strsignal(sig) + ": closing the engine");
    return 0;
  }

  http_server server(
      cfg,
      [&](const http_request &req) {
        if (saml && req.target.substr(0, req.target.find('?')) == saml->path()) return saml->handle(req);
        return service.handle(req);
      },
      [](int status, const std::string &detail) { return scim_service::error(status, "", detail); });
  say("listening on " + cfg.listen_host + ":" + std::to_string(server.port()) + (cfg.tls() ? " (https)" : " (http, loopback)"));
  if (!port_file.empty()) {
    // Written after listen: a test waits for this file to know the port.
    const std::string tmp = port_file + ".tmp";
    if (FILE *f = std::fopen(tmp.c_str(), "w")) {
      std::fprintf(f, "%u\n", server.port());
      std::fclose(f);
      std::rename(tmp.c_str(), port_file.c_str());
    }
  }
  std::thread signals([&] {
    int sig = 0;
    sigwait(&set, &sig);
    say(std::string("signal ") + strsignal(sig) + ": draining");
    server.stop();
  });
  server.run();
  // run() returned without a signal only if the I/O loop ended on its own;
  // wake the signal thread so it can be joined.
  kill(getpid(), SIGTERM);
  signals.join();
  say("drained; closing the engine");
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"reclaim-scimd: SCIM 2.0 provisioning endpoint and engine host of libreclaim"};
  std::string config = "/etc/reclaim/reclaim.toml";
  std::string library;
  std::string port_file;
  app.add_option("--config", config, "reclaim.toml with a [scim_server] section")->capture_default_str();
  app.add_option("--library", library, "path of libreclaim.so.1 (default: the loader's search)");
  app.add_option("--port-file", port_file, "write the bound port here once listening (tests; listen port 0)");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(config, library, port_file);
  } catch (const std::exception &e) {
    say(std::string("error: ") + e.what());
    return 1;
  } catch (...) {
    say("error: unknown exception");
    return 1;
  }
}
