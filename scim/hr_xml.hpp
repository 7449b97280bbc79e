// hr_xml.hpp — HR XML documents → lifecycle records: Workday worker data
// (wd:Worker / Worker_Status_Data, namespace urn:com.workday/bsvc) and
// HR-XML 3 termination documents (IndicativePersonDossier / EmploymentLifecycle).
// Parsed with libxml2 with no network, no DTD and no entity expansion; a
// document that declares a DOCTYPE is refused, so is one that is not UTF-8.
// Which status becomes which state and which id names the person is hr_config.
#pragma once

#include "reclaim/reclaim.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace reclaim::hr {

inline constexpr const char *workday_ns = "urn:com.workday/bsvc";
inline constexpr const char *hrxml_ns = "http://www.hr-xml.org/3";

// The document is refused as a whole; what() names the element (and line).
class parse_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// [hr] in reclaim.toml (loaded by plugin/config; these are the defaults).
struct hr_config {
  // Id types, first present wins, whose value is the record's worker id.
  // Workday: Worker_Reference/ID[@wd:type] (Employee_ID, Contingent_Worker_ID,
  // WID), Worker_Data/Worker_ID (as "Worker_ID"), User_ID, Email.
  // HR-XML: EmployeeID, PersonID, Email.
  std::vector<std::string> subject_ids = {"Employee_ID", "Contingent_Worker_ID", "Worker_ID", "EmployeeID",
                                          "PersonID"};
  // Id type -> the attribute name it is journalled as (what [engine]
  // person_keys and the policy read). Unlisted types keep their own name.
  std::map<std::string, std::string> id_attributes = {
      {"Employee_ID", "employeeNumber"}, {"Contingent_Worker_ID", "employeeNumber"},
      {"Worker_ID", "employeeNumber"},   {"EmployeeID", "employeeNumber"},
      {"User_ID", "uid"},                {"Email", "mail"}};
  // Event kind -> state. Kinds: terminated, leave, return, hire, rehire,
  // contract_end. A kind mapped to RECLAIM_STATE_NONE is not journalled.
  std::map<std::string, reclaim_state> states = {
      {"terminated", RECLAIM_STATE_TERMINATED}, {"leave", RECLAIM_STATE_LEAVE},
      {"return", RECLAIM_STATE_REACTIVATED},    {"hire", RECLAIM_STATE_ACTIVE},
      {"rehire", RECLAIM_STATE_REACTIVATED},    {"contract_end", RECLAIM_STATE_CONTRACT_ENDED}};
  // A termination reason id (Workday Primary_Termination_Reason_Reference
  // ID, HR-XML TerminationReasonCode) -> the state it means instead.
  std::map<std::string, reclaim_state> termination_reasons;
  size_t max_bytes = 16u << 20;
  size_t max_depth = 64;
  size_t max_workers = 100000;
};

struct hr_record {
  std::string format;    // "workday" or "hr-xml"
  std::string worker_id; // the value of the first subject_ids type present
  std::string name;      // display name, when the document has one
  std::vector<std::pair<std::string, std::string>> ids; // id type, value (all found)
  reclaim_state state = RECLAIM_STATE_NONE;
  std::string kind;          // terminated, leave, return, hire, rehire, contract_end
  int64_t effective_ms = 0;  // UTC ms; 0 when the document gives no date
  std::string effective_date; // as written in the document
  std::string document_id;
  // Idempotency key: the same worker, state and effective date (or, without
  // a date, document) is the same event, whichever file brings it again.
  std::string key;
  std::map<std::string, std::vector<std::string>> attributes; // journalled with the event
};

// Parses one document. fallback_document_id names it when it carries no id
// of its own (the caller passes e.g. the file's SHA-256). Thread-safe; no
// global libxml2 state is changed. Throws parse_error.
std::vector<hr_record> parse(std::string_view bytes, const hr_config &cfg, const std::string &fallback_document_id);

// "sha256:<hex>" of a document's bytes: the fallback id every intake passes
// (reclaimctl ingest and reclaim-scimd's endpoint must agree on it, or one
// document would be two events). Throws std::runtime_error if OpenSSL fails.
std::string document_digest(std::string_view bytes);

// Whether kind names an HR event hr_config.states maps (header-only: the
// config loader checks [hr] without linking libxml2).
inline bool is_kind(std::string_view kind) {
  return kind == "terminated" || kind == "leave" || kind == "return" || kind == "hire" || kind == "rehire" ||
         kind == "contract_end";
}

} // namespace reclaim::hr
