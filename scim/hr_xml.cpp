// hr_xml.cpp — reads Workday worker data and HR-XML 3 dossiers with libxml2.
// Safety first: the bytes must be UTF-8 and within max_bytes; the parser
// context's own SAX hooks stop at a DOCTYPE or an entity declaration (billion
// laughs, XXE) and collect errors per context (no global error handler);
// NONET, never NOENT/DTDLOAD/DTDATTR/HUGE. A bad worker refuses the document.
#include "scim/hr_xml.hpp"

#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlstring.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cctype>
#include <memory>
#include <mutex>
#include <optional>

namespace reclaim::hr {
namespace {

using node = const xmlNode *;

// What the SAX hooks found, reached through ctxt->_private.
struct parse_state {
  std::string refused; // a DOCTYPE or entity declaration
  std::string first_error;
};

parse_state *state_of(void *ctx) {
  auto *ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  return ctxt != nullptr ? static_cast<parse_state *>(ctxt->_private) : nullptr;
}

void refuse(void *ctx, const std::string &what) {
  if (auto *s = state_of(ctx); s != nullptr && s->refused.empty()) s->refused = what;
  xmlStopParser(static_cast<xmlParserCtxtPtr>(ctx));
}

void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *, const xmlChar *) {
  refuse(ctx, fmt::format("a DOCTYPE ({}) is not accepted: DTDs and entity declarations are refused",
                          name != nullptr ? reinterpret_cast<const char *>(name) : "?"));
}

void on_entity_decl(void *ctx, const xmlChar *name, int, const xmlChar *, const xmlChar *, xmlChar *) {
  refuse(ctx, fmt::format("entity declaration \"{}\" refused", name != nullptr ? reinterpret_cast<const char *>(name) : "?"));
}

void on_error(void *ctx, xmlErrorPtr err) {
  auto *s = state_of(ctx);
  if (s == nullptr || err == nullptr || !s->first_error.empty() || err->level < XML_ERR_ERROR) return;
  std::string msg = err->message != nullptr ? err->message : "malformed XML";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  s->first_error = fmt::format("line {}: {}", err->line, msg);
}

struct ctxt_free {
  void operator()(xmlParserCtxtPtr c) const {
    if (c->myDoc != nullptr) xmlFreeDoc(c->myDoc);
    c->myDoc = nullptr;
    xmlFreeParserCtxt(c);
  }
};
struct doc_free {
  void operator()(xmlDocPtr d) const { xmlFreeDoc(d); }
};
using doc_ptr = std::unique_ptr<xmlDoc, doc_free>;

void check_utf8(std::string_view bytes) {
  const auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
  size_t left = bytes.size();
  size_t offset = 0;
  while (left > 0) {
    int len = static_cast<int>(std::min<size_t>(left, 4));
    const int c = xmlGetUTF8Char(p + offset, &len);
    if (c <= 0 || len <= 0)
      throw parse_error(fmt::format("the document is not UTF-8 (invalid byte sequence at offset {})", offset));
    offset += static_cast<size_t>(len);
    left -= static_cast<size_t>(len);
  }
}

doc_ptr read_document(std::string_view bytes, const hr_config &cfg) {
  if (bytes.size() > cfg.max_bytes)
    throw parse_error(fmt::format("the document has {} bytes, more than the limit of {}", bytes.size(), cfg.max_bytes));
  if (bytes.empty()) throw parse_error("the document is empty");
  check_utf8(bytes);
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
  std::unique_ptr<xmlParserCtxt, ctxt_free> ctxt(
      xmlCreateMemoryParserCtxt(bytes.data(), static_cast<int>(bytes.size())));
  if (!ctxt || ctxt->sax == nullptr) throw std::bad_alloc();
  parse_state st;
  ctxt->_private = &st;
  ctxt->sax->internalSubset = on_internal_subset;
  ctxt->sax->externalSubset = on_internal_subset;
  ctxt->sax->entityDecl = on_entity_decl;
  ctxt->sax->serror = on_error;
  ctxt->sax->error = nullptr;
  ctxt->sax->warning = nullptr;
  xmlCtxtUseOptions(ctxt.get(), XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlParseDocument(ctxt.get());
  doc_ptr doc(ctxt->myDoc);
  ctxt->myDoc = nullptr;
  if (!st.refused.empty()) throw parse_error(st.refused);
  if (!ctxt->wellFormed || !doc)
    throw parse_error(fmt::format("not well-formed XML: {}", st.first_error.empty() ? "unknown error" : st.first_error));
  if (doc->intSubset != nullptr || doc->extSubset != nullptr)
    throw parse_error("a DOCTYPE is not accepted: DTDs and entity declarations are refused");
  if (doc->encoding != nullptr && xmlStrcasecmp(doc->encoding, BAD_CAST "UTF-8") != 0 &&
      xmlStrcasecmp(doc->encoding, BAD_CAST "UTF8") != 0)
    throw parse_error(fmt::format("the document declares encoding \"{}\"; only UTF-8 is accepted",
                                  reinterpret_cast<const char *>(doc->encoding)));
  return doc;
}

std::string_view local(node n) { return n->name != nullptr ? reinterpret_cast<const char *>(n->name) : ""; }

std::string_view ns_of(node n) {
  return n->ns != nullptr && n->ns->href != nullptr ? reinterpret_cast<const char *>(n->ns->href) : "";
}

bool is(node n, std::string_view ns, std::string_view name) {
  return n != nullptr && n->type == XML_ELEMENT_NODE && local(n) == name && ns_of(n) == ns;
}

std::string where(node n) {
  const auto prefix = n->ns != nullptr && n->ns->prefix != nullptr ? reinterpret_cast<const char *>(n->ns->prefix) : "";
  return fmt::format("{}{}{} (line {})", prefix, *prefix != '\0' ? ":" : "", local(n), xmlGetLineNo(n));
}

void check_depth(node root, size_t max_depth) {
  // Iterative: a deep document must not deepen our own stack.
  size_t depth = 1;
  node n = root;
  while (n != nullptr) {
    if (n->type == XML_ELEMENT_NODE && depth > max_depth)
      throw parse_error(fmt::format("element {} is nested deeper than {} levels", where(n), max_depth));
    if (n->children != nullptr) {
      n = n->children;
      ++depth;
      continue;
    }
    while (n != nullptr && n != root && n->next == nullptr) {
      n = n->parent;
      --depth;
    }
    if (n == nullptr || n == root) break;
    n = n->next;
  }
}

std::string trim(std::string s) {
  const auto ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string text(node n) {
  if (n == nullptr) return {};
  xmlChar *c = xmlNodeGetContent(n);
  if (c == nullptr) return {};
  std::string out(reinterpret_cast<const char *>(c));
  xmlFree(c);
  return trim(std::move(out));
}

std::string attr(node n, const char *name, const char *ns) {
  xmlChar *v = ns != nullptr ? xmlGetNsProp(n, BAD_CAST name, BAD_CAST ns) : nullptr;
  if (v == nullptr) v = xmlGetNoNsProp(n, BAD_CAST name);
  if (v == nullptr) return {};
  std::string out(reinterpret_cast<const char *>(v));
  xmlFree(v);
  return trim(std::move(out));
}

node child(node n, std::string_view ns, std::string_view name) {
  for (node c = n != nullptr ? n->children : nullptr; c != nullptr; c = c->next)
    if (is(c, ns, name)) return c;
  return nullptr;
}

// Every descendant with this name, in document order (not below a match).
void descendants(node n, std::string_view ns, std::string_view name, std::vector<node> &out) {
  for (node c = n->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (is(c, ns, name)) out.push_back(c);
    else descendants(c, ns, name, out);
  }
}

node descendant(node n, std::string_view ns, std::string_view name) {
  std::vector<node> found;
  if (n != nullptr) descendants(n, ns, name, found);
  return found.empty() ? nullptr : found.front();
}

std::optional<bool> boolean(node n) {
  if (n == nullptr) return std::nullopt;
  auto v = text(n);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  throw parse_error(fmt::format("element {}: \"{}\" is not a boolean (1, 0, true, false)", where(n), v));
}

int parse_int(std::string_view s, node n) {
  int v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty())
    throw parse_error(fmt::format("element {}: \"{}\" is not an xs:date", where(n), s));
  return v;
}

// xs:date or xs:dateTime ("2026-12-01", "2026-12-01-08:00",
// "2026-12-01T17:00:00.000Z") -> UTC ms. A date alone means its start, or
// with end_of_day the start of the next day (a last day of work is worked).
int64_t parse_date(node n, const std::string &s, bool end_of_day) {
  using namespace std::chrono;
  const auto bad = [&] { return parse_error(fmt::format("element {}: \"{}\" is not an xs:date", where(n), s)); };
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') throw bad();
  const year_month_day ymd{year{parse_int(std::string_view(s).substr(0, 4), n)},
                           month{static_cast<unsigned>(parse_int(std::string_view(s).substr(5, 2), n))},
                           day{static_cast<unsigned>(parse_int(std::string_view(s).substr(8, 2), n))}};
  if (!ymd.ok() || ymd.year() < year{1970} || ymd.year() > year{9999}) throw bad();
  int64_t ms = duration_cast<milliseconds>(sys_days{ymd}.time_since_epoch()).count();
  std::string_view rest = std::string_view(s).substr(10);
  if (!rest.empty() && rest[0] == 'T') {
    if (rest.size() < 9 || rest[3] != ':' || rest[6] != ':') throw bad();
    const int h = parse_int(rest.substr(1, 2), n), m = parse_int(rest.substr(4, 2), n), sec = parse_int(rest.substr(7, 2), n);
    if (h > 23 || m > 59 || sec > 60) throw bad();
    ms += ((h * 60 + m) * 60 + sec) * int64_t{1000};
    rest.remove_prefix(9);
    if (!rest.empty() && rest[0] == '.') {
      rest.remove_prefix(1);
      while (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') rest.remove_prefix(1);
    }
    end_of_day = false;
  }
  if (rest == "Z" || rest.empty()) {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    const int off = parse_int(rest.substr(1, 2), n) * 60 + parse_int(rest.substr(4, 2), n);
    if (off > 14 * 60) throw bad();
    ms -= (rest[0] == '+' ? 1 : -1) * off * int64_t{60000};
  } else {
    throw bad();
  }
  if (end_of_day) ms += 86400000;
  if (ms < 1 || ms > 253402300799999) throw bad(); // reclaim_event's range: 1970 to 9999-12-31
  return ms;
}

struct worker_facts {
  std::string format, document_id, name, kind, date, reason;
  int64_t effective_ms = 0;
  std::vector<std::pair<std::string, std::string>> ids;
};

void add_id(worker_facts &f, std::string type, std::string value) {
  if (type.empty() || value.empty()) return;
  for (const auto &[t, v] : f.ids)
    if (t == type && v == value) return;
  f.ids.emplace_back(std::move(type), std::move(value));
}

void set_kind(worker_facts &f, const char *kind, node date_node, bool end_of_day) {
  f.kind = kind;
  if (date_node == nullptr) return;
  f.date = text(date_node);
  f.effective_ms = parse_date(date_node, f.date, end_of_day);
}

void workday_status(worker_facts &f, node worker) {
  const auto &w = workday_ns;
  node status = descendant(worker, w, "Worker_Status_Data");
  if (status == nullptr) throw parse_error(fmt::format("{}: no Worker_Status_Data", where(worker)));
  const auto active = boolean(child(status, w, "Active"));
  if (boolean(child(status, w, "Terminated")).value_or(false)) {
    node date = child(status, w, "Termination_Date");
    if (date == nullptr) throw parse_error(fmt::format("{}: Terminated is set but Termination_Date is missing", where(status)));
    if (node reason = child(status, w, "Primary_Termination_Reason_Reference"))
      f.reason = text(child(reason, w, "ID"));
    return set_kind(f, "terminated", date, true);
  }
  // The newest leave (a worker's history may hold several).
  std::vector<node> leaves;
  descendants(worker, w, "Leave_Status_Data", leaves);
  node leave = nullptr;
  for (node l : leaves)
    if (leave == nullptr || text(child(l, w, "Leave_Start_Date")) > text(child(leave, w, "Leave_Start_Date"))) leave = l;
  if (leave != nullptr) {
    node start = child(leave, w, "Leave_Start_Date");
    node end = child(leave, w, "Leave_End_Date");
    const auto on = boolean(child(leave, w, "On_Leave"));
    if (on.value_or(end == nullptr)) {
      if (start == nullptr) throw parse_error(fmt::format("{}: on leave but Leave_Start_Date is missing", where(leave)));
      return set_kind(f, "leave", start, false);
    }
    if (end != nullptr) return set_kind(f, "return", end, true);
  }
  if (active.value_or(false) && boolean(child(status, w, "Rehire")).value_or(false))
    return set_kind(f, "rehire", child(status, w, "Hire_Date"), false);
  node contract_end = descendant(worker, w, "Contract_End_Date");
  if (contract_end == nullptr) contract_end = child(status, w, "End_Employment_Date");
  if (contract_end != nullptr) return set_kind(f, "contract_end", contract_end, true);
  if (active.value_or(false)) return set_kind(f, "hire", child(status, w, "Hire_Date"), false);
  // Neither active nor terminated (a rescinded or future hire): no state.
}

worker_facts workday_worker(node worker, const std::string &document_id) {
  const auto &w = workday_ns;
  worker_facts f;
  f.format = "workday";
  f.document_id = document_id;
  node ref = child(worker, w, "Worker_Reference");
  if (ref != nullptr) {
    f.name = attr(ref, "Descriptor", w);
    for (node c = ref->children; c != nullptr; c = c->next)
      if (is(c, w, "ID")) add_id(f, attr(c, "type", w), text(c));
  }
  node data = child(worker, w, "Worker_Data");
  if (data == nullptr) throw parse_error(fmt::format("{}: no Worker_Data", where(worker)));
  add_id(f, "Worker_ID", text(child(data, w, "Worker_ID")));
  add_id(f, "User_ID", text(child(data, w, "User_ID")));
  if (node personal = child(data, w, "Personal_Data")) {
    add_id(f, "Email", text(descendant(personal, w, "Email_Address")));
    if (f.name.empty())
      if (node detail = descendant(personal, w, "Name_Detail_Data")) f.name = attr(detail, "Formatted_Name", w);
  }
  if (f.name.empty()) f.name = text(child(worker, w, "Worker_Descriptor"));
  workday_status(f, worker);
  return f;
}

worker_facts hrxml_dossier(node dossier, const std::string &document_id) {
  const auto &h = hrxml_ns;
  worker_facts f;
  f.format = "hr-xml";
  f.document_id = document_id;
  add_id(f, "EmployeeID", text(descendant(dossier, h, "EmployeeID")));
  add_id(f, "PersonID", text(descendant(dossier, h, "PersonID")));
  std::vector<node> comms;
  descendants(dossier, h, "Communication", comms);
  for (node c : comms)
    if (text(child(c, h, "ChannelCode")) == "Email") add_id(f, "Email", text(child(c, h, "URI")));
  f.name = text(descendant(dossier, h, "FormattedName"));
  node life = descendant(dossier, h, "EmploymentLifecycle");
  if (life == nullptr) throw parse_error(fmt::format("{}: no EmploymentLifecycle", where(dossier)));
  node term = child(life, h, "Termination");
  const auto indicated = boolean(child(life, h, "TerminatedIndicator"));
  if (indicated.value_or(term != nullptr)) {
    node date = term != nullptr ? child(term, h, "TerminationDate") : nullptr;
    if (date == nullptr && term != nullptr) date = child(term, h, "LastWorkedDate");
    if (date == nullptr)
      throw parse_error(fmt::format("{}: terminated but Termination/TerminationDate is missing", where(life)));
    f.reason = text(child(term, h, "TerminationReasonCode"));
    set_kind(f, "terminated", date, true);
  }
  return f;
}

hr_record to_record(worker_facts f, node at, const hr_config &cfg) {
  hr_record r;
  for (const auto &type : cfg.subject_ids) {
    for (const auto &[t, v] : f.ids)
      if (t == type) {
        r.worker_id = v;
        break;
      }
    if (!r.worker_id.empty()) break;
  }
  if (r.worker_id.empty()) {
    std::string found;
    for (const auto &[t, v] : f.ids) found += (found.empty() ? "" : ", ") + t;
    throw parse_error(fmt::format("{}: no worker id (none of [hr] subject_ids present; ids found: {})", where(at),
                                  found.empty() ? "none" : found));
  }
  r.state = RECLAIM_STATE_NONE;
  if (!f.kind.empty()) {
    const auto it = cfg.states.find(f.kind);
    r.state = it != cfg.states.end() ? it->second : RECLAIM_STATE_NONE;
    if (f.kind == "terminated" && !f.reason.empty())
      if (const auto reason = cfg.termination_reasons.find(f.reason); reason != cfg.termination_reasons.end())
        r.state = reason->second;
  }
  r.format = std::move(f.format);
  r.name = std::move(f.name);
  r.kind = std::move(f.kind);
  r.effective_ms = f.effective_ms;
  r.effective_date = std::move(f.date);
  r.document_id = std::move(f.document_id);
  r.key = fmt::format("hr/{}/{}/{}", r.worker_id, r.kind,
                      r.effective_date.empty() ? "doc:" + r.document_id : r.effective_date);
  for (const auto &[type, value] : f.ids) {
    const auto mapped = cfg.id_attributes.find(type);
    auto &values = r.attributes[mapped != cfg.id_attributes.end() ? mapped->second : type];
    if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
  }
  r.ids = std::move(f.ids);
  r.attributes["hrFormat"] = {r.format};
  r.attributes["hrKind"] = {r.kind};
  r.attributes["hrDocument"] = {r.document_id};
  if (!r.effective_date.empty()) r.attributes["hrEffectiveDate"] = {r.effective_date};
  if (!f.reason.empty()) r.attributes["hrReason"] = {f.reason};
  return r;
}

// The first element with this local name in any other namespace: a
// document whose Worker is not Workday's is named as such.
node misplaced(node n, std::string_view name, std::string_view ns) {
  for (node c = n; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (local(c) == name && ns_of(c) != ns) return c;
    if (node d = misplaced(c->children, name, ns)) return d;
  }
  return nullptr;
}

} // namespace

std::string document_digest(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  std::string out = "sha256:";
  for (unsigned k = 0; k < len; ++k) out += fmt::format("{:02x}", md[k]);
  return out;
}

std::vector<hr_record> parse(std::string_view bytes, const hr_config &cfg, const std::string &fallback_document_id) {
  const auto doc = read_document(bytes, cfg);
  node root = xmlDocGetRootElement(doc.get());
  if (root == nullptr) throw parse_error("the document has no root element");
  check_depth(root, cfg.max_depth);

  std::vector<node> units;
  bool workday = true;
  if (is(root, workday_ns, "Worker")) units.push_back(root);
  else descendants(root, workday_ns, "Worker", units);
  if (units.empty()) {
    workday = false;
    descendants(root, hrxml_ns, "IndicativePersonDossier", units);
  }
  if (units.empty()) {
    if (node w = misplaced(root, "Worker", workday_ns))
      throw parse_error(fmt::format("element {} is in namespace \"{}\", not Workday's {}", where(w), ns_of(w), workday_ns));
    if (node d = misplaced(root, "IndicativePersonDossier", hrxml_ns))
      throw parse_error(fmt::format("element {} is in namespace \"{}\", not HR-XML's {}", where(d), ns_of(d), hrxml_ns));
    throw parse_error(fmt::format("root element {} (namespace \"{}\") holds no wd:Worker ({}) and no HR-XML "
                                  "IndicativePersonDossier ({})",
                                  where(root), ns_of(root), workday_ns, hrxml_ns));
  }
  if (units.size() > cfg.max_workers)
    throw parse_error(fmt::format("the document holds {} workers, more than the limit of {}", units.size(), cfg.max_workers));

  std::string document_id = fallback_document_id;
  if (!workday)
    if (node area = descendant(root, hrxml_ns, "ApplicationArea"))
      if (auto bod = text(child(area, hrxml_ns, "BODID")); !bod.empty()) document_id = bod;

  std::vector<hr_record> out;
  out.reserve(units.size());
  for (node u : units) {
    auto facts = workday ? workday_worker(u, document_id) : hrxml_dossier(u, document_id);
    auto r = to_record(std::move(facts), u, cfg);
    if (r.state != RECLAIM_STATE_NONE) out.push_back(std::move(r));
  }
  return out;
}

} // namespace reclaim::hr
