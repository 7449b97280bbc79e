// audit_config.cpp — validation of the [audit] table (docs/config.md).
#include "audit/audit_config_toml.hpp"
#include "audit/witness.hpp"
#include "http/http_client.hpp"

namespace reclaim::audit {
namespace {

std::filesystem::path abs_path(const reader &r, const toml::table &t, std::string_view key,
                               std::filesystem::path fallback) {
  auto v = r.str(t, "audit", key);
  if (!v) return fallback;
  if (v->empty() || (*v)[0] != '/')
    r.fail(t.get(key)->source(), reader::join("audit", key), "must be an absolute path");
  return *v;
}

// witnesses = [{ url = "https://...", key = "name+id+base64" }, ...]
void load_witnesses(const reader &r, const toml::table &t, audit_config &out) {
  if (const auto *n = t.get("witnesses")) {
    const auto *a = n->as_array();
    if (!a) r.fail(n->source(), "audit.witnesses", "must be an array of tables { url, key }");
    for (const auto &e : *a) {
      const auto *w = e.as_table();
      if (!w) r.fail(e.source(), "audit.witnesses", "must be an array of tables { url, key }");
      r.only_keys(*w, "audit.witnesses", {"url", "key"});
      witness_config c;
      c.url = r.str(*w, "audit.witnesses", "url").value_or("");
      c.key = r.str(*w, "audit.witnesses", "key").value_or("");
      if (c.url.empty()) r.fail(w->source(), "audit.witnesses.url", "is required");
      if (c.key.empty()) r.fail(w->source(), "audit.witnesses.key", "is required (the witness's vkey)");
      try {
        http::check_url(c.url + "/add-checkpoint");
      } catch (const std::exception &x) {
        r.fail(w->get("url")->source(), "audit.witnesses.url", x.what());
      }
      try {
        parse_cosigner_key(c.key);
      } catch (const note_error &x) {
        r.fail(w->get("key")->source(), "audit.witnesses.key", x.what());
      }
      out.witnesses.push_back(std::move(c));
    }
  }
  if (auto d = r.duration(t, "audit", "witness_timeout")) {
    if (d->count() < 100 || d->count() > 300000)
      r.fail(t.get("witness_timeout")->source(), "audit.witness_timeout", "must be PT0.1S..PT5M");
    out.witness_timeout = *d;
  }
}

} // namespace

void load_audit(const reader &r, const toml::table &t, const std::filesystem::path &state_dir,
                audit_config &out) {
  r.only_keys(t, "audit",
              {"enabled", "path", "checkpoint_dir", "key_file", "extra_key_files", "origin",
               "checkpoint_every", "checkpoint_interval", "syslog", "copy_to",
               "pseudonym_key_file", "key_store", "trusted_keys", "retention", "witnesses",
               "witness_timeout"});
  out.enabled = r.boolean(t, "audit", "enabled").value_or(true);
  out.path = abs_path(r, t, "path", state_dir / "audit" / "audit.jsonl");
  out.checkpoint_dir = abs_path(r, t, "checkpoint_dir", out.path.string() + ".checkpoints");
  out.key_file = abs_path(r, t, "key_file", state_dir / "audit" / "signing.pem");
  if (const auto *n = t.get("extra_key_files")) {
    const auto *a = n->as_array();
    if (!a) r.fail(n->source(), "audit.extra_key_files", "must be an array of absolute paths");
    for (const auto &e : *a) {
      const auto *s = e.as_string();
      if (!s || s->get().empty() || s->get()[0] != '/')
        r.fail(e.source(), "audit.extra_key_files", "must be an array of absolute paths");
      out.extra_key_files.emplace_back(s->get());
    }
  }
  out.origin = r.str(t, "audit", "origin").value_or("");
  if (out.enabled && out.origin.empty()) r.fail(t.source(), "audit.origin", "is required");
  if (out.origin.find_first_of(" +\n") != std::string::npos)
    r.fail(t.get("origin")->source(), "audit.origin", "must not contain spaces, '+' or newlines");
  if (auto v = r.integer(t, "audit", "checkpoint_every")) {
    if (*v < 1 || *v > 1000000)
      r.fail(t.get("checkpoint_every")->source(), "audit.checkpoint_every", "must be 1..1000000");
    out.checkpoint_every = *v;
  }
  if (auto d = r.duration(t, "audit", "checkpoint_interval")) {
    if (d->count() < 1000)
      r.fail(t.get("checkpoint_interval")->source(), "audit.checkpoint_interval", "must be at least PT1S");
    out.checkpoint_interval = *d;
  }
  out.syslog = r.boolean(t, "audit", "syslog").value_or(false);
  out.copy_to = abs_path(r, t, "copy_to", {});
  out.pseudonym_key_file = abs_path(r, t, "pseudonym_key_file", state_dir / "audit" / "pseudonym.key");
  out.key_store = abs_path(r, t, "key_store", state_dir / "audit" / "subject-keys.sqlite3");
  out.trusted_keys = abs_path(r, t, "trusted_keys", {});
  if (auto d = r.duration(t, "audit", "retention")) out.retention = *d;
  load_witnesses(r, t, out);
}

} // namespace reclaim::audit
