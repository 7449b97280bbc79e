// ldap_intake.cpp — LDAP change → lifecycle event. The subjects table holds
// each person's last resting state, so a change is an event only when the
// state really moves; catch-up and the live callback share the same keys
// and the same comparison, so seeing a change twice journals it once.
#include "intake/ldap_intake.hpp"

#include "ldap/csn.hpp"
#include "store/store_health.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fmt/format.h>
#include <set>
#include <unordered_map>
#include <nlohmann/json.hpp>

namespace reclaim::ldap {
namespace {

using json = nlohmann::json;

std::string subject_id_of(const entry &e, const logger &log) {
  auto uuid = lower_ascii(e.first("entryUUID"));
  if (!uuid.empty()) return uuid;
  auto ndn = normalize_dn(e.dn).value_or(e.dn);
  log.log(log_level::warning, "an entry has no entryUUID; using its DN as subject id (debug level names it)");
  log.log(log_level::debug, "entry \"{}\" has no entryUUID", e.dn);
  return "dn:" + ndn;
}

std::string_view op_name(operation op) {
  switch (op) {
  case operation::add: return "add";
  case operation::modify: return "modify";
  case operation::modrdn: return "modrdn";
  case operation::remove: return "delete";
  }
  return "?";
}

// entry_json of the attributes the mapping reads (a host may hand more).
std::string watched_json(const mapping_config &cfg, const entry &e) {
  static const std::vector<std::string> none;
  const auto computed = cfg.needed.empty() ? needed_attributes(cfg) : none;
  entry w;
  w.dn = e.dn;
  for (const auto &name : cfg.needed.empty() ? computed : cfg.needed)
    if (const auto *v = e.find(name)) w.attrs.emplace(name, *v);
  return entry_json(w);
}

// The subject row for an entry: its resting state plus the copy of its
// watched attributes that later modifications are applied to.
subject_record subject_row(const mapping_config &cfg, const entry &e, const std::string &id, state s,
                           std::string csn, std::string ndn = {}) {
  if (ndn.empty()) ndn = normalize_dn(e.dn).value_or(lower_ascii(e.dn));
  return {id, e.dn, s, transfer_key(cfg, e), std::move(csn), std::move(ndn), watched_json(cfg, e)};
}

bool same_value(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !type_less{}(a, b) && !type_less{}(b, a);
}

// A modify's effect on the copy of the entry (values compare
// case-insensitively, as the directory's state values do).
void apply_mods(entry &e, const std::vector<modification> &mods) {
  for (const auto &m : mods) {
    const auto type = std::string_view(m.type).substr(0, m.type.find(';'));
    if (type.empty()) continue;
    auto &have = e.attrs[lower_ascii(type)];
    const auto holds = [&](const std::string &v) {
      return std::any_of(have.begin(), have.end(), [&](const std::string &h) { return same_value(h, v); });
    };
    switch (m.op) {
    case 0: // add
      for (const auto &v : m.values)
        if (!holds(v)) have.push_back(v);
      break;
    case 1: // delete: the values, or the attribute
      if (m.values.empty()) have.clear();
      for (const auto &v : m.values)
        std::erase_if(have, [&](const std::string &h) { return same_value(h, v); });
      break;
    case 2: // replace
      have = m.values;
      break;
    default: // increment: not a state attribute
      break;
    }
    if (have.empty()) e.attrs.erase(e.attrs.find(type));
  }
}

std::string event_attributes(const mapping_config &cfg, const change &c, const entry &e) {
  json attrs = json::object();
  attrs["dn"] = e.dn;
  attrs["operation"] = op_name(c.op);
  if (c.before && c.before->dn != e.dn) attrs["previous_dn"] = c.before->dn;
  json before = json::object();
  static const std::vector<std::string> none;
  const auto computed = cfg.needed.empty() ? needed_attributes(cfg) : none;
  for (const auto &name : cfg.needed.empty() ? computed : cfg.needed) {
    const type_less less;
    const auto is = [&](std::string_view t) { return !less(name, t) && !less(t, name); };
    if (is("objectclass") || is("entryuuid")) continue;
    if (const auto *v = e.find(name)) attrs[name] = *v;
    if (is("entrycsn") || !c.before || &*c.before == &e) continue;
    if (const auto *v = c.before->find(name)) before[name] = *v;
  }
  // The values before the change, so a transfer can be diffed by role.
  if (c.before && &*c.before != &e) attrs["before"] = before;
  return attrs.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> values_of(const entry &e, const std::string &attribute) {
  const auto *v = e.find(attribute);
  return v ? *v : std::vector<std::string>{};
}

std::vector<std::string> end_date_of(const entry &e, const mapping_config &cfg) {
  return values_of(e, cfg.end_date_attribute);
}

bool record(journal &j, event_record &ev, const logger &log) {
  const bool inserted = j.append(ev);
  if (!ev.person_conflict.empty()) log.log(log_level::warning, "event {}: {}", ev.idempotency_key, ev.person_conflict);
  if (inserted)
    log.log(log_level::debug, "event {}: {} {} -> {} ({})", ev.seq, ev.subject_name,
            state_name(ev.previous), state_name(ev.current), ev.source);
  return inserted;
}

bool apply_delete(journal &j, const mapping_config &cfg, const change &c, const logger &log) {
  if (!c.before) {
    log.log(log_level::warning, "delete without a pre-image ignored (entry unknown)");
    return false;
  }
  const entry &before = *c.before;
  const auto id = subject_id_of(before, log);
  j.remove_pending_delete(id);
  if (c.when != phase::commit || !in_scope(cfg, before) || !is_person(cfg, before)) return false;
  const auto known = j.subject(id);
  if (known && known->current == state::deleted) return false;
  event_record ev;
  ev.idempotency_key = fmt::format("{}/deleted/{}", id, before.first("entryCSN"));
  ev.subject_id = id;
  ev.subject_name = before.dn;
  ev.source = c.source;
  ev.previous = known ? known->current : from_abi(map_state(cfg, before, c.time));
  ev.current = state::deleted;
  ev.time = c.time;
  ev.recorded = now();
  ev.actor = c.actor;
  ev.attributes_json = event_attributes(cfg, c, before);
  auto row = subject_row(cfg, before, id, state::deleted, before.first("entryCSN"), "-");
  row.ndn.clear(); // its DN may be taken by a new entry
  j.put_subject(row);
  return record(j, ev, log);
}

// A replicated delete or rename (made on another server, journalled
// there): the person's copy no longer answers to the DN. A renamed person's
// next local change has the host read the entry again (refresh).
bool forget_at(journal &j, const std::string &dn, bool deleted) {
  if (const auto ndn = normalize_dn(dn))
    if (auto known = j.subject_by_dn(*ndn)) {
      known->ndn.clear();
      if (deleted) known->current = state::deleted;
      j.put_subject(*known);
    }
  return false;
}

} // namespace

namespace {

void put_u32(std::string &out, size_t n) {
  const auto v = static_cast<uint32_t>(n);
  out.append(reinterpret_cast<const char *>(&v), sizeof v);
}
void put_str(std::string &out, std::string_view s) {
  put_u32(out, s.size());
  out.append(s);
}

struct reader {
  std::string_view in;
  uint32_t u32() {
    uint32_t v = 0;
    if (in.size() < sizeof v) throw std::runtime_error("packed change truncated");
    std::memcpy(&v, in.data(), sizeof v);
    in.remove_prefix(sizeof v);
    return v;
  }
  std::string str() {
    const auto n = u32();
    if (in.size() < n) throw std::runtime_error("packed change truncated");
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
};

} // namespace

bool pack_modify(const change &c, std::string &out) {
  if (c.op != operation::modify || c.before || c.after || c.dn.empty()) return false;
  size_t size = out.size() + 32 + c.dn.size() + c.actor.size() + c.source.size();
  for (const auto &m : c.mods) {
    size += 12 + m.type.size();
    for (const auto &v : m.values) size += 4 + v.size();
  }
  out.reserve(size);
  put_u32(out, c.replicated ? 1 : 0);
  const int64_t ms = to_unix_ms(c.time);
  out.append(reinterpret_cast<const char *>(&ms), sizeof ms);
  put_str(out, c.dn);
  put_str(out, c.actor);
  put_str(out, c.source);
  put_u32(out, c.mods.size());
  for (const auto &m : c.mods) {
    put_u32(out, static_cast<size_t>(m.op));
    put_str(out, m.type);
    put_u32(out, m.values.size());
    for (const auto &v : m.values) put_str(out, v);
  }
  return true;
}

std::string pack_modify(const change &c) {
  std::string out;
  pack_modify(c, out);
  return out;
}

change unpack_modify(std::string_view packed) {
  reader r{packed};
  change c;
  c.op = operation::modify;
  c.replicated = r.u32() != 0;
  int64_t ms = 0;
  if (r.in.size() < sizeof ms) throw std::runtime_error("packed change truncated");
  std::memcpy(&ms, r.in.data(), sizeof ms);
  r.in.remove_prefix(sizeof ms);
  c.time = from_unix_ms(ms);
  c.dn = r.str();
  c.actor = r.str();
  c.source = r.str();
  for (auto n = r.u32(); n > 0; --n) {
    auto &m = c.mods.emplace_back();
    m.op = static_cast<int>(r.u32());
    m.type = r.str();
    for (auto k = r.u32(); k > 0; --k) m.values.push_back(r.str());
  }
  return c;
}

std::string change_csn(const change &c) {
  if (c.after) return c.after->first("entryCSN");
  for (const auto &m : c.mods)
    if (m.op == 2 && m.values.size() == 1 && !type_less{}(m.type, "entryCSN") && !type_less{}("entryCSN", m.type))
      return m.values.front();
  return {};
}

std::string entry_json(const entry &e) {
  json attrs = json::object();
  for (const auto &[k, v] : e.attrs) attrs[k] = v;
  return json{{"dn", e.dn}, {"attributes", attrs}}.dump(-1, ' ', false,
                                                       json::error_handler_t::replace);
}

entry entry_from_json(const std::string &text) {
  const auto j = json::parse(text);
  entry e;
  e.dn = j.at("dn").get<std::string>();
  for (const auto &[k, v] : j.at("attributes").items())
    e.attrs[k] = v.get<std::vector<std::string>>();
  return e;
}

std::string person_filter(const mapping_config &cfg) {
  std::string f = "(|";
  // Object class names are checked to be plain keystrings by the config.
  for (const auto &c : cfg.person_classes) f += fmt::format("(objectClass={})", c);
  return f + ")";
}

namespace {

// A modify given as modifications: applied to the journal's copy of the
// person, then journalled like a modify with both images.
bool apply_modify(journal &j, const mapping_config &cfg, const change &c, const logger &log,
                  std::vector<change> *unread) {
  const auto ndn = normalize_dn(c.dn);
  if (!ndn) {
    log.log(log_level::warning, "a modify ignored: its DN does not parse (debug level names it)");
    log.log(log_level::debug, "modify of \"{}\" ignored: the DN does not parse", c.dn);
    return false;
  }
  if (!dn_is_under(*ndn, cfg.base_norm)) return false;
  const auto csn = change_csn(c);
  const auto known = j.subject_by_dn(*ndn);
  if (!known || known->entry_json.empty() || csn.empty()) {
    if (unread != nullptr) unread->push_back(c);
    return false;
  }
  // Already in the copy: it was read after this change (refresh, catch-up).
  if (!known->csn.empty() && csn <= known->csn) return false;
  change full;
  full.op = c.op;
  full.actor = c.actor;
  full.time = c.time;
  full.source = c.source;
  full.replicated = c.replicated;
  full.ndn = *ndn;
  // The copy as parsed last time, while the recorded version is the one it
  // was parsed from (only the journal writer's thread applies modifies).
  thread_local std::unordered_map<std::string, std::pair<std::string, entry>> parsed;
  const auto key = fmt::format("{}/{}", j.instance(), known->id);
  if (const auto it = parsed.find(key); it != parsed.end() && it->second.first == known->csn)
    full.before = it->second.second;
  else
    full.before = entry_from_json(known->entry_json);
  full.after = *full.before;
  apply_mods(*full.after, c.mods);
  const bool recorded = apply_change(j, cfg, full, log);
  if (parsed.size() >= 50000) parsed.clear();
  parsed.insert_or_assign(key, std::pair{csn, std::move(*full.after)});
  return recorded;
}

} // namespace

bool apply_change(journal &j, const mapping_config &cfg, const change &c, const logger &log,
                  std::vector<change> *unread) {
  if (c.replicated && !c.before && !c.after && c.mods.empty())
    return c.when == phase::commit && forget_at(j, c.dn, c.op == operation::remove);
  if (c.op == operation::remove) return apply_delete(j, cfg, c, log);
  if (c.when != phase::commit) return false;
  if (c.op == operation::modify && !c.before && !c.after && !c.dn.empty())
    return apply_modify(j, cfg, c, log, unread);
  if (!c.after) {
    log.log(log_level::warning, "{} without a post-image ignored", op_name(c.op));
    return false;
  }
  const entry &after = *c.after;
  if (!in_scope(cfg, after) || !is_person(cfg, after)) return false;

  const auto id = subject_id_of(after, log);
  const auto csn_text = after.first("entryCSN");
  const auto known = j.subject(id);
  // Without a before-image (catch-up, or a callback that could not read
  // one), a change no newer than what is recorded carries nothing new.
  // (An add always has no before-image: it is the person's first state,
  // even when its callback arrives after the next change's.)
  const bool is_add = c.op == operation::add && c.source == "ldap";
  if (!is_add && !c.before && known && !known->csn.empty() && !csn_text.empty() && csn_text <= known->csn)
    return false;
  // A host that could not learn the change's own entryCSN names the version
  // it followed (reclaimFollowsCSN); the change is newer than that version.
  const auto follows = after.first("reclaimFollowsCSN");
  const state now_state = from_abi(map_state(cfg, after, c.time));
  const auto now_transfer = transfer_key(cfg, after);

  state before_state = state::none;
  std::string before_transfer;
  if (is_add) {
    before_state = state::none;
  } else if (c.before && is_person(cfg, *c.before)) {
    before_state = from_abi(map_state(cfg, *c.before, c.time));
    before_transfer = transfer_key(cfg, *c.before);
  } else if (known) {
    before_state = known->current;
    before_transfer = known->transfer_key;
  }

  state event_state = now_state;
  if (now_state == before_state) {
    const bool transfer = now_state == state::active && before_state != state::none &&
                          now_transfer != before_transfer;
    event_state = transfer ? state::transferred : state::none;
    // A new, moved or removed contract end date: an event without a state
    // change, so the planner (re)schedules or cancels the contract plan.
    if (event_state == state::none && now_state == state::active && c.before && !is_add &&
        !cfg.end_date_attribute.empty() && end_date_of(*c.before, cfg) != end_date_of(after, cfg))
      event_state = now_state;
    // So is a legal-hold value set or removed, in any state: legal teams
    // place holds on people who have already left.
    if (event_state == state::none && now_state != state::none && c.before && !is_add &&
        !cfg.hold_attribute.empty() && values_of(*c.before, cfg.hold_attribute) != values_of(after, cfg.hold_attribute))
      event_state = now_state;
  } else if (now_state == state::active && is_away(before_state)) {
    event_state = state::reactivated;
  }

  // A late callback for an older change must not overwrite a newer state.
  // A deleted subject keeps the CSN of its last modify, so a late callback
  // for that modify must not bring it back.
  const bool newest = !known || known->csn.empty() || csn_text > known->csn ||
                      (csn_text == known->csn && known->current != state::deleted) ||
                      (csn_text.empty() && follows >= known->csn && known->current != state::deleted);
  if (newest) j.put_subject(subject_row(cfg, after, id, now_state, csn_text.empty() ? follows : csn_text, c.ndn));
  if (c.replicated) return false; // journalled by the server where it was made
  if (!csn_text.empty()) j.set_resume_csn(csn_text);
  if (event_state == state::none) return false;

  event_record ev;
  ev.idempotency_key = !csn_text.empty() ? fmt::format("{}/{}", id, csn_text)
                       : !follows.empty() ? fmt::format("{}/after/{}/{}", id, follows, to_unix_ms(c.time))
                                          : fmt::format("{}/t{}", id, to_unix_ms(c.time));
  ev.subject_id = id;
  ev.subject_name = after.dn;
  ev.source = c.source;
  ev.previous = before_state;
  ev.current = event_state;
  // The directory's commit time (entryCSN) is when it happened; the
  // callback or catch-up may run later.
  const auto parsed = parse_csn(csn_text);
  ev.time = parsed ? parsed->time : c.time;
  ev.position = csn_text;
  ev.recorded = now();
  ev.actor = c.actor;
  ev.attributes_json = event_attributes(cfg, c, after);
  return record(j, ev, log);
}

bool prepare_delete(journal &j, const mapping_config &cfg, const entry &before) {
  if (!in_scope(cfg, before) || !is_person(cfg, before)) return false;
  logger quiet;
  j.put_pending_delete({subject_id_of(before, quiet), before.dn, entry_json(before), now()});
  return true;
}

std::optional<std::set<unsigned>> local_server_ids(const search_fn &search, const logger &log) {
  std::vector<std::string> values;
  const bool ok = search("cn=config", "(olcServerID=*)", {"olcServerID"}, [&](entry &&e) {
    if (const auto *v = e.find("olcServerID")) values.insert(values.end(), v->begin(), v->end());
  });
  // An unreadable cn=config must not make every change look replicated.
  if (!ok) {
    log.log(log_level::warning, "cn=config not readable; catch-up cannot tell replicated changes apart");
    return std::nullopt;
  }
  // "2", "0x2", or "1 ldap://a/" "2 ldap://b/" (several servers sharing one
  // config: which one is local is not known here).
  if (values.size() > 1) {
    log.log(log_level::warning, "several olcServerID values; catch-up cannot tell replicated changes apart");
    return std::nullopt;
  }
  std::set<unsigned> ids{0};
  if (values.size() == 1) {
    const auto &v = values.front();
    const bool hex = v.rfind("0x", 0) == 0 || v.rfind("0X", 0) == 0;
    unsigned id = 0;
    const char *begin = v.data() + (hex ? 2 : 0);
    if (std::from_chars(begin, v.data() + v.size(), id, hex ? 16 : 10).ec != std::errc{}) return std::nullopt;
    ids = {id};
  }
  return ids;
}

namespace {

// Catch-up writes what the host's search finds in transactions of at most
// this many rows, taken between the search's results: the store's write
// lock is never held while the host searches, so the engine's other
// connections (writer, planner, workers, reclaimctl) wait for one batch at
// most, however large the directory or slow the search.
constexpr size_t catch_up_batch = 1000;

// Collects entries from a host search and writes them batch by batch.
class batch_writer {
public:
  batch_writer(journal &j, std::function<void(entry &&)> write) : j_(j), write_(std::move(write)) {}
  void add(entry &&e) {
    pending_.push_back(std::move(e));
    if (pending_.size() >= catch_up_batch) flush();
  }
  void flush() {
    if (pending_.empty()) return;
    sqlite::transaction tx(j_.db());
    for (auto &e : pending_) write_(std::move(e));
    tx.commit();
    pending_.clear();
  }

private:
  journal &j_;
  std::function<void(entry &&)> write_;
  std::vector<entry> pending_;
};

// A store written by 0.1 has no copies of the people's watched attributes:
// take them from the directory once, keeping every recorded state.
void fill_copies(journal &j, const mapping_config &cfg, const search_fn &search, const logger &log) {
  if (j.subjects_without_copy() == 0) return;
  size_t filled = 0;
  batch_writer out(j, [&](entry &&e) {
    auto known = j.subject(subject_id_of(e, log));
    if (!known || !known->ndn.empty() || known->current == state::deleted) return;
    const auto row = subject_row(cfg, e, known->id, known->current, known->csn);
    known->ndn = row.ndn;
    known->entry_json = row.entry_json;
    j.put_subject(*known);
    ++filled;
  });
  const bool ok = search(cfg.base, person_filter(cfg), needed_attributes(cfg), [&](entry &&e) {
    if (in_scope(cfg, e) && is_person(cfg, e)) out.add(std::move(e));
  });
  if (!ok) throw std::runtime_error(fmt::format("search under \"{}\" failed", cfg.base));
  out.flush();
  log.log(log_level::info, "copied the watched attributes of {} people recorded by an older version", filled);
}

// The first start on a directory: every person's current state, no events.
// A person the writer recorded meanwhile (a newer entryCSN) keeps that row.
void baseline(journal &j, const mapping_config &cfg, const search_fn &search, const logger &log) {
  if (const auto why = store::history_without_store(j.path()); !why.empty())
    throw std::runtime_error(fmt::format(
        "refusing to record a new baseline into {}: {}. The store that was here (its people, plans and actions) "
        "is gone: restore it from a backup, or start afresh on purpose with `reclaimctl store rebaseline`",
        j.path().string(), why));
  size_t people = 0;
  std::string max_csn;
  batch_writer out(j, [&](entry &&e) {
    const auto id = subject_id_of(e, log);
    const auto csn_text = e.first("entryCSN");
    if (const auto known = j.subject(id); known && !known->csn.empty() && known->csn >= csn_text) return;
    j.put_subject(subject_row(cfg, e, id, from_abi(map_state(cfg, e, now())), csn_text));
  });
  const bool ok = search(cfg.base, person_filter(cfg), needed_attributes(cfg), [&](entry &&e) {
    if (!in_scope(cfg, e) || !is_person(cfg, e)) return;
    if (const auto csn_text = e.first("entryCSN"); csn_text > max_csn) max_csn = csn_text;
    ++people;
    out.add(std::move(e));
  });
  if (!ok) throw std::runtime_error(fmt::format("baseline search under \"{}\" failed", cfg.base));
  out.flush();
  sqlite::transaction tx(j.db());
  if (!max_csn.empty()) j.set_resume_csn(max_csn);
  j.mark_baseline();
  tx.commit();
  store::write_history_marker(j.path());
  log.log(log_level::info, "baseline: {} people under \"{}\" recorded, no events", people, cfg.base);
}

// Entries changed since the resume point, journalled in commit (entryCSN)
// order, so the resume point only moves past what is written.
size_t changed_since(journal &j, const mapping_config &cfg, const search_fn &search, const logger &log,
                     const std::optional<std::string> &from_csn) {
  fill_copies(j, cfg, search, log);
  const auto local = local_server_ids(search, log);
  const auto resume = from_csn ? std::min(*from_csn, j.resume_csn()) : j.resume_csn();
  const auto from = csn_minus(resume, cfg.catch_up_margin);
  const auto filter = from.empty() ? person_filter(cfg)
                                   : fmt::format("(&{}(entryCSN>={}))", person_filter(cfg), from);
  std::vector<entry> changed;
  const bool ok =
      search(cfg.base, filter, needed_attributes(cfg), [&](entry &&e) { changed.push_back(std::move(e)); });
  if (!ok) throw std::runtime_error(fmt::format("catch-up search \"{}\" failed", filter));
  std::stable_sort(changed.begin(), changed.end(),
                   [](const entry &a, const entry &b) { return a.first("entryCSN") < b.first("entryCSN"); });
  const size_t read = changed.size();
  size_t replicated = 0, recorded = 0;
  for (size_t begin = 0; begin < changed.size(); begin += catch_up_batch) {
    sqlite::transaction tx(j.db());
    for (size_t i = begin; i < std::min(changed.size(), begin + catch_up_batch); ++i) {
      change c;
      // A change that came from another server by replication is journalled
      // there, by the server where it was made; here it only updates the copy.
      auto &e = changed[i];
      if (const auto parsed = parse_csn(e.first("entryCSN")); parsed && local && !local->count(parsed->server_id)) {
        ++replicated;
        c.replicated = true;
      }
      c.op = operation::modify;
      c.after = std::move(e);
      c.time = now();
      c.source = "ldap-catchup";
      c.actor = "catch-up";
      recorded += apply_change(j, cfg, c, log) ? 1 : 0;
    }
    tx.commit();
  }
  log.log(log_level::info, "catch-up from entryCSN {}: {} entries read, {} replicated skipped, {} events",
          from.empty() ? "(start)" : from, read, replicated, recorded);
  return recorded;
}

// Deletes prepared (pre-operation) whose entry is gone: the delete committed
// but its post-operation callback never ran.
size_t finish_deletes(journal &j, const mapping_config &cfg, const search_fn &search, const logger &log) {
  const auto attrs = needed_attributes(cfg);
  size_t recorded = 0;
  for (const auto &p : j.pending_deletes()) {
    bool exists = false;
    // By entryUUID; an entry without one is looked up at its DN.
    const bool by_dn = p.subject_id.rfind("dn:", 0) == 0;
    const auto base = by_dn ? p.dn : cfg.base;
    const auto filter = by_dn ? std::string("(objectClass=*)") : fmt::format("(entryUUID={})", p.subject_id);
    if (!search(base, filter, attrs, [&](entry &&e) { exists = exists || !by_dn || e.dn == p.dn; }))
      throw std::runtime_error("pending-delete search failed");
    sqlite::transaction tx(j.db());
    if (exists) {
      j.remove_pending_delete(p.subject_id);
    } else {
      change c;
      c.op = operation::remove;
      c.before = entry_from_json(p.entry_json);
      c.time = p.prepared;
      c.source = "ldap-catchup";
      c.actor = "catch-up";
      recorded += apply_change(j, cfg, c, log) ? 1 : 0;
    }
    tx.commit();
  }
  return recorded;
}

} // namespace

size_t catch_up(journal &j, const mapping_config &cfg, const search_fn &search, const logger &log,
                const std::optional<std::string> &from_csn) {
  size_t recorded = 0;
  if (!j.has_baseline())
    baseline(j, cfg, search, log);
  else
    recorded += changed_since(j, cfg, search, log, from_csn);
  return recorded + finish_deletes(j, cfg, search, log);
}

size_t refresh(journal &j, const mapping_config &cfg, const std::vector<change> &unread,
               const search_fn &search, const logger &log) {
  const auto attrs = needed_attributes(cfg);
  const auto local = local_server_ids(search, log);
  // Searches first, then one short transaction (no lock held while the host searches).
  std::vector<std::vector<entry>> found(unread.size());
  for (size_t i = 0; i < unread.size(); ++i)
    if (!search(unread[i].dn, person_filter(cfg), attrs, [&](entry &&e) { found[i].push_back(std::move(e)); }))
      throw std::runtime_error(fmt::format("refresh search of \"{}\" failed", unread[i].dn));
  size_t recorded = 0;
  sqlite::transaction tx(j.db());
  for (size_t i = 0; i < unread.size(); ++i) {
    const auto &w = unread[i];
    const auto ndn = normalize_dn(w.dn);
    for (auto &e : found[i]) {
      if (normalize_dn(e.dn) != ndn) continue; // a person below it
      change c;
      c.op = operation::modify;
      const auto parsed = parse_csn(e.first("entryCSN"));
      c.replicated = parsed && local ? !local->count(parsed->server_id) : w.replicated;
      c.after = std::move(e);
      c.actor = w.actor;
      c.time = w.time;
      c.source = w.source;
      recorded += apply_change(j, cfg, c, log) ? 1 : 0;
    }
  }
  tx.commit();
  if (!unread.empty())
    log.log(log_level::info, "read {} entries again (changes of people the journal had no copy of): {} events",
            unread.size(), recorded);
  return recorded;
}

} // namespace reclaim::ldap
