// reclaimctl_ingest.cpp — HR XML files into the journal, the way a host's
// reclaim_submit does it (the same journal, person keys and idempotency):
// the engine's planner picks the events up at its next poll. Each file is
// all or nothing — a refused document records nothing — and ingesting a
// file again records nothing new (the key is worker, event and date).
#include "cli/reclaimctl_ingest.hpp"

#include "audit/audit_log.hpp"
#include "cli/reclaimctl_audit.hpp"
#include "scim/hr_xml.hpp"
#include "store/journal.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

namespace reclaim::ctl {
namespace {

using json = nlohmann::json;

struct file_result {
  std::string file, document, error;
  size_t workers = 0, recorded = 0, already = 0;
  std::vector<std::string> conflicts;
};

std::string read_limited(const std::string &file, size_t max) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw hr::parse_error(fmt::format("cannot open: {}", std::strerror(errno)));
  std::string bytes(max + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (in.bad()) throw hr::parse_error("read failed");
  bytes.resize(static_cast<size_t>(in.gcount())); // max + 1 bytes: the parser says it is too large
  return bytes;
}

event_record to_event(const hr::hr_record &r, const std::string &actor) {
  event_record ev;
  ev.idempotency_key = r.key;
  ev.subject_id = r.worker_id;
  ev.subject_name = r.name;
  ev.source = "hr";
  ev.current = from_abi(r.state);
  ev.previous = state::none;
  ev.recorded = now();
  ev.time = r.effective_ms != 0 ? from_unix_ms(r.effective_ms) : ev.recorded;
  ev.actor = actor;
  json attrs = json::object();
  for (const auto &[name, values] : r.attributes) attrs[name] = values;
  ev.attributes_json = attrs.dump(-1, ' ', false, json::error_handler_t::replace);
  return ev;
}

file_result ingest_file(const config &cfg, journal &j, const std::string &file, const std::string &actor) {
  file_result out;
  out.file = file;
  std::vector<hr::hr_record> records;
  try {
    const auto bytes = read_limited(file, cfg.hr.max_bytes);
    out.document = hr::document_digest(bytes);
    records = hr::parse(bytes, cfg.hr, out.document);
    if (!records.empty()) out.document = records.front().document_id;
  } catch (const hr::parse_error &e) {
    out.error = e.what();
  }
  sqlite::transaction tx(j.db());
  if (out.error.empty()) {
    out.workers = records.size();
    for (const auto &r : records) {
      auto ev = to_event(r, actor);
      if (j.append(ev)) ++out.recorded;
      else ++out.already;
      if (!ev.person_conflict.empty()) out.conflicts.push_back(ev.person_conflict);
    }
  }
  if (cfg.audit.enabled)
    audit::enqueue(j.db(), {{"type", out.error.empty() ? "hr_ingested" : "hr_refused"},
                            {"actor", actor},
                            {"outcome", out.error.empty() ? "ok" : "refused"},
                            {"reason", out.error},
                            {"data", {{"file", file}, {"document", out.document}, {"workers", out.workers},
                                      {"recorded", out.recorded}, {"already", out.already}}}});
  tx.commit();
  return out;
}

} // namespace

std::shared_ptr<ingest_args> add_ingest_command(CLI::App &app) {
  auto a = std::make_shared<ingest_args>();
  a->cmd = app.add_subcommand("ingest", "journal HR XML files (Workday worker data, HR-XML 3 terminations)");
  a->cmd->add_option("files", a->files, "HR XML files")->required(); // a missing one is refused like a bad one
  a->cmd->add_flag("--json", a->as_json, "print one JSON object per file");
  return a;
}

std::optional<int> run_ingest_command(const config &cfg, const ingest_args &a, const std::string &actor) {
  if (a.cmd == nullptr || !a.cmd->parsed()) return std::nullopt;
  journal j(cfg.journal_path(), sqlite::durability::full);
  j.join_people(cfg.engine.person_keys);
  int rc = 0;
  json all = json::array();
  for (const auto &file : a.files) {
    const auto r = ingest_file(cfg, j, file, actor);
    for (const auto &c : r.conflicts) std::fprintf(stderr, "reclaimctl: %s: warning: %s\n", file.c_str(), c.c_str());
    if (!r.error.empty()) {
      rc = 1;
      std::fprintf(stderr, "reclaimctl: %s: refused, nothing recorded: %s\n", file.c_str(), r.error.c_str());
    }
    if (a.as_json) {
      all.push_back({{"file", file}, {"document", r.document}, {"ok", r.error.empty()}, {"error", r.error},
                     {"workers", r.workers}, {"recorded", r.recorded}, {"already", r.already},
                     {"conflicts", r.conflicts}});
    } else if (r.error.empty()) {
      std::cout << fmt::format("{}: {} workers with a status, {} recorded, {} already journalled (document {})\n",
                               file, r.workers, r.recorded, r.already, r.document);
    }
  }
  if (a.as_json) std::cout << all.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  drain_audit(cfg);
  return rc;
}

} // namespace reclaim::ctl
