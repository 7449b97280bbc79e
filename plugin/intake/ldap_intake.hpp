// ldap_intake.hpp — turns directory changes into lifecycle events: maps
// before/after entries to states, decides whether the change is an event
// (state change, reactivation, transfer), journals it under the key
// "<entryUUID>/<entryCSN>", and runs start-up catch-up through a search
// the host provides. Runs on the engine's writer thread, not the host's.
#pragma once

#include "store/journal.hpp"
#include "ldap/ldap_mapping.hpp"
#include "base/log.hpp"

#include <functional>
#include <optional>
#include <set>
#include <string>

namespace reclaim::ldap {

enum class operation { add = 1, modify = 2, modrdn = 3, remove = 4 };
enum class phase { prepare = 1, commit = 2, abort = 3 };

using search_fn = std::function<bool(const std::string &base, const std::string &filter,
                                     const std::vector<std::string> &attributes,
                                     const std::function<void(entry &&)> &on_entry)>;

// One modification of a modify (LDAP's operation codes: 0 add, 1 delete,
// 2 replace; anything else is ignored).
struct modification {
  int op = 2;
  std::string type;
  std::vector<std::string> values;
};

struct change {
  operation op = operation::modify;
  phase when = phase::commit;
  std::optional<entry> before;
  std::optional<entry> after;
  // A modify without entries: its target and modifications (entryCSN
  // included), applied to the journal's copy of the person (apply_change).
  std::string dn;
  std::vector<modification> mods;
  bool replicated = false; // made on another server: update the copy only
  std::string ndn;         // the after-image's normalised DN, when already known
  std::string actor;
  time_point time{};
  std::string source = "ldap";
};

// The entryCSN a change carries (after-image or modifications), or "".
std::string change_csn(const change &c);

// A modify given as modifications (dn and mods, no entries) packed into one
// string and back: the engine's queue holds a packed modify in about a
// third of the memory of a change object. pack_modify returns "" for any
// other change.
std::string pack_modify(const change &c);
bool pack_modify(const change &c, std::string &out); // appends; false (nothing appended) as above
change unpack_modify(std::string_view packed);

// Applies one committed/aborted change; returns true when an event was
// journalled. Call inside a transaction on j. A modification of an entry
// the journal has no copy of cannot be applied: it is added to *unread
// (when given) for the host to read the entry again (refresh).
bool apply_change(journal &j, const mapping_config &cfg, const change &c, const logger &log,
                  std::vector<change> *unread = nullptr);

// Journals what a fresh read of entries shows (reclaim_ldap_refresh): each
// as catch-up would. Returns the number of events.
size_t refresh(journal &j, const mapping_config &cfg, const std::vector<change> &unread,
               const search_fn &search, const logger &log);

// A prepared delete of a person in scope: commits its pre-image.
// Returns false when the entry is not a watched person (nothing written).
bool prepare_delete(journal &j, const mapping_config &cfg, const entry &before);

// Start-up catch-up (see reclaim_ldap_catch_up in reclaim.h). Returns the
// number of events journalled; throws on a failed search.
// from: start at this entryCSN (minus the margin) instead of the resume
// point (after changes were dropped on a full queue).
size_t catch_up(journal &j, const mapping_config &cfg, const search_fn &search, const logger &log,
                const std::optional<std::string> &from = std::nullopt);

// The server ids (entryCSN's third field) of changes made on this server,
// read from cn=config's olcServerID; nullopt when it cannot be told.
std::optional<std::set<unsigned>> local_server_ids(const search_fn &search, const logger &log);

// JSON of an entry's attributes (invalid UTF-8 replaced), for the journal.
std::string entry_json(const entry &e);
entry entry_from_json(const std::string &json);

// (|(objectClass=a)(objectClass=b)…)
std::string person_filter(const mapping_config &cfg);

} // namespace reclaim::ldap
