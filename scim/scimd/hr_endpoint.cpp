// hr_endpoint.cpp — the HR XML intake of reclaim-scimd. A refused document
// records nothing (it is parsed whole before the first submit); a submit
// that fails part-way answers 503 and a retry of the same document records
// only what is missing, the keys being idempotent.
#include "hr_endpoint.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>

namespace reclaim::scimd {
namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string &file, const toml::source_region &where, const std::string &key,
                       const std::string &problem) {
  throw config_error(fmt::format("{}:{}:{}: {}: {}", file, where.begin.line, where.begin.column, key, problem));
}

reclaim_state state_of(const std::string &file, const toml::node &n, const std::string &key) {
  static const std::pair<const char *, reclaim_state> names[] = {
      {"none", RECLAIM_STATE_NONE},
      {"active", RECLAIM_STATE_ACTIVE},
      {"leave", RECLAIM_STATE_LEAVE},
      {"transferred", RECLAIM_STATE_TRANSFERRED},
      {"terminated", RECLAIM_STATE_TERMINATED},
      {"contract_ended", RECLAIM_STATE_CONTRACT_ENDED},
      {"reactivated", RECLAIM_STATE_REACTIVATED},
      {"deleted", RECLAIM_STATE_DELETED}};
  if (const auto s = n.value<std::string>())
    for (const auto &[name, st] : names)
      if (*s == name) return st;
  fail(file, n.source(), key, "must be a state name (none, active, leave, transferred, terminated, "
                              "contract_ended, reactivated, deleted)");
}

const char *state_name(reclaim_state s) {
  switch (s) {
  case RECLAIM_STATE_ACTIVE: return "active";
  case RECLAIM_STATE_LEAVE: return "leave";
  case RECLAIM_STATE_TRANSFERRED: return "transferred";
  case RECLAIM_STATE_TERMINATED: return "terminated";
  case RECLAIM_STATE_CONTRACT_ENDED: return "contract_ended";
  case RECLAIM_STATE_REACTIVATED: return "reactivated";
  case RECLAIM_STATE_DELETED: return "deleted";
  default: return "none";
  }
}

std::string text_of(const std::string &file, const toml::node &n, const std::string &key) {
  const auto s = n.value<std::string>();
  if (!s || s->empty()) fail(file, n.source(), key, "must be a non-empty string");
  return *s;
}

size_t limit_of(const std::string &file, const toml::node &n, const std::string &key, int64_t max) {
  const auto v = n.value<int64_t>();
  if (!v || *v < 1 || *v > max) fail(file, n.source(), key, fmt::format("must be between 1 and {}", max));
  return static_cast<size_t>(*v);
}

const toml::table &table_of(const std::string &file, const toml::node &n, const std::string &key) {
  if (!n.is_table()) fail(file, n.source(), key, "must be a table");
  return *n.as_table();
}

http_response json_reply(int status, const json &body) {
  http_response r;
  r.status = status;
  r.headers["Content-Type"] = "application/json; charset=utf-8";
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

bool is_xml_media_type(std::string ct) {
  ct = ct.substr(0, ct.find(';'));
  std::transform(ct.begin(), ct.end(), ct.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  while (!ct.empty() && ct.front() == ' ') ct.erase(0, 1);
  return ct == "application/xml" || ct == "text/xml";
}

} // namespace

hr::hr_config load_hr_config(const std::string &path) {
  hr::hr_config out;
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error &e) {
    throw config_error(fmt::format("{}:{}:{}: syntax error: {}", path, e.source().begin.line,
                                   e.source().begin.column, e.description()));
  }
  const auto *section = root.get("hr");
  if (section == nullptr) return out;
  const auto &t = table_of(path, *section, "hr");
  for (auto &&[k, v] : t) {
    const std::string key = "hr." + std::string(k.str());
    if (k == "subject_ids") {
      const auto *arr = v.as_array();
      if (arr == nullptr || arr->empty()) fail(path, v.source(), key, "must name at least one id type");
      out.subject_ids.clear();
      for (const auto &e : *arr) out.subject_ids.push_back(text_of(path, e, key));
    } else if (k == "id_attributes") {
      for (auto &&[id, name] : table_of(path, v, key))
        out.id_attributes[std::string(id.str())] = text_of(path, name, key + "." + std::string(id.str()));
    } else if (k == "states") {
      for (auto &&[kind, st] : table_of(path, v, key)) {
        if (!hr::is_kind(kind.str()))
          fail(path, kind.source(), key + "." + std::string(kind.str()),
               "unknown HR event (expected one of: terminated, leave, return, hire, rehire, contract_end)");
        out.states[std::string(kind.str())] = state_of(path, st, key + "." + std::string(kind.str()));
      }
    } else if (k == "termination_reasons") {
      for (auto &&[reason, st] : table_of(path, v, key))
        out.termination_reasons[std::string(reason.str())] = state_of(path, st, key + "." + std::string(reason.str()));
    } else if (k == "max_bytes") {
      out.max_bytes = limit_of(path, v, key, int64_t{1} << 30);
    } else if (k == "max_depth") {
      out.max_depth = limit_of(path, v, key, 256);
    } else if (k == "max_workers") {
      out.max_workers = limit_of(path, v, key, 10000000);
    } else {
      fail(path, k.source(), key, "unknown key");
    }
  }
  return out;
}

scim_service::route_handler hr_workers_handler(hr::hr_config cfg, engine_lib &engine) {
  return [cfg = std::move(cfg), &engine](const http_request &req, const caller &who) -> http_response {
    if (req.method != "POST") {
      auto r = json_reply(405, {{"error", "use POST"}});
      r.headers["Allow"] = "POST";
      return r;
    }
    if (!is_xml_media_type(req.header("content-type")))
      return json_reply(415, {{"error", "Content-Type must be application/xml or text/xml"}});
    std::vector<hr::hr_record> records;
    try {
      records = hr::parse(req.body, cfg, hr::document_digest(req.body));
    } catch (const hr::parse_error &e) {
      std::fprintf(stderr, "reclaim-scimd: hr: document from %s refused: %s\n", who.name.c_str(), e.what());
      return json_reply(400, {{"error", std::string("document refused, nothing recorded: ") + e.what()}});
    }
    size_t recorded = 0, duplicates = 0;
    json list = json::array();
    for (const auto &r : records) {
      if (r.state == RECLAIM_STATE_NONE) continue;
      mapped_event ev;
      ev.subject_id = r.worker_id;
      ev.subject_name = r.name;
      ev.state = state_name(r.state);
      ev.previous_state = "none";
      ev.attributes = r.attributes;
      ev.time_unix_ms = r.effective_ms;
      ev.idempotency_key = r.key;
      const bool is_new = engine.submit(ev, "hr", who.name); // engine_error: 503 in scim_service::handle
      ++(is_new ? recorded : duplicates);
      list.push_back({{"worker", r.worker_id}, {"kind", r.kind}, {"state", ev.state},
                      {"effectiveDate", r.effective_date}, {"document", r.document_id},
                      {"idempotencyKey", r.key}, {"recorded", is_new}});
    }
    return json_reply(200, {{"recorded", recorded}, {"duplicates", duplicates}, {"records", list}});
  };
}

} // namespace reclaim::scimd
