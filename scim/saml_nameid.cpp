// saml_nameid.cpp — ManageNameIDRequest verification: libxml2 parses with
// NONET and a DOCTYPE stops the parser; the signature's shape is checked by
// hand (anti-wrapping: one Signature, the request's child, one Reference to
// the request's unique ID, allowed algorithms only) before xmlsec1 checks
// the cryptography with a key from the IdP metadata and never from KeyInfo.
// Every value returned is read from the signed request element itself.
#include "saml_nameid.hpp"

#include <date/date.h>
#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include <climits>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

namespace reclaim::saml {
namespace {

constexpr const char *dsig_ns = "http://www.w3.org/2000/09/xmldsig#";
constexpr const char *alg_exc_c14n = "http://www.w3.org/2001/10/xml-exc-c14n#";
constexpr const char *alg_enveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
constexpr const char *alg_rsa_sha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
constexpr const char *alg_ecdsa_sha256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
constexpr const char *alg_sha256 = "http://www.w3.org/2001/04/xmlenc#sha256";
constexpr std::size_t max_metadata_bytes = 4 * 1024 * 1024;

const xmlChar *x(const char *s) { return reinterpret_cast<const xmlChar *>(s); }

struct doc_free {
  void operator()(xmlDoc *d) const { xmlFreeDoc(d); }
};
using doc_ptr = std::unique_ptr<xmlDoc, doc_free>;
struct ctxt_free {
  void operator()(xmlParserCtxt *c) const { xmlFreeParserCtxt(c); }
};
struct dsig_free {
  void operator()(xmlSecDSigCtx *c) const { xmlSecDSigCtxDestroy(c); }
};
using dsig_ptr = std::unique_ptr<xmlSecDSigCtx, dsig_free>;
struct key_free {
  void operator()(xmlSecKey *k) const { xmlSecKeyDestroy(k); }
};
using key_ptr = std::unique_ptr<xmlSecKey, key_free>;

[[noreturn]] void fail(reason r, const std::string &detail) { throw saml_error(r, detail); }

// A value from the message as it appears in a refusal's detail (which the
// host logs): at most 80 bytes, anything but printable ASCII as '?'.
std::string shown(std::string_view v) {
  std::string out;
  for (char c : v.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (v.size() > 80) out += "...";
  return out;
}

// xmlsec1 reports through one process-wide callback; keep the last message
// of this thread for the refusal's detail instead of printing to stderr.
thread_local std::string last_xmlsec_error;
void xmlsec_error(const char *, int, const char *func, const char *, const char *subject, int,
                  const char *msg) {
  last_xmlsec_error = fmt::format("{}: {} {}", func ? func : "?", subject ? subject : "",
                                  msg ? msg : "");
}

struct parse_state {
  bool doctype = false;
};

void on_doctype(void *ctx, const xmlChar *, const xmlChar *, const xmlChar *) {
  auto *ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  static_cast<parse_state *>(ctxt->_private)->doctype = true;
  xmlStopParser(ctxt);
}

// No DTD is ever read: a DOCTYPE stops the parser before its internal subset
// (so no entity is declared, expanded or fetched); NONET besides.
doc_ptr parse_xml(std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes)
    fail(reason::too_large, fmt::format("{} bytes, at most {}", text.size(), max_bytes));
  std::unique_ptr<xmlParserCtxt, ctxt_free> ctxt(xmlNewParserCtxt());
  if (!ctxt) throw std::bad_alloc();
  parse_state state;
  ctxt->_private = &state;
  ctxt->sax->internalSubset = &on_doctype;
  doc_ptr doc(xmlCtxtReadMemory(ctxt.get(), text.data(), static_cast<int>(text.size()), nullptr,
                                nullptr,
                                XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
                                    XML_PARSE_NOWARNING));
  if (state.doctype) fail(reason::doctype, "a DOCTYPE is not accepted");
  if (!doc || !ctxt->wellFormed) {
    const xmlError *e = xmlCtxtGetLastError(ctxt.get());
    std::string msg = e && e->message ? e->message : "not well-formed";
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    fail(reason::malformed_xml, msg);
  }
  return doc;
}

bool is(const xmlNode *n, const char *ns, const char *local) {
  return n && n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, x(ns)) &&
         xmlStrEqual(n->name, x(local));
}

std::vector<xmlNode *> elements(xmlNode *parent) {
  std::vector<xmlNode *> out;
  for (xmlNode *c = parent->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE) out.push_back(c);
  return out;
}

std::vector<xmlNode *> children(xmlNode *parent, const char *ns, const char *local) {
  std::vector<xmlNode *> out;
  for (xmlNode *c : elements(parent))
    if (is(c, ns, local)) out.push_back(c);
  return out;
}

std::optional<std::string> attr(xmlNode *n, const char *name) {
  xmlChar *v = xmlGetNoNsProp(n, x(name));
  if (!v) return std::nullopt;
  std::string s(reinterpret_cast<const char *>(v));
  xmlFree(v);
  return s;
}

// The text of an element that holds text only: a comment or element inside
// a NameID would let the signed value differ from the one a reader sees.
std::string text_only(xmlNode *n, const char *what) {
  std::string out;
  for (xmlNode *c = n->children; c; c = c->next) {
    if (c->type != XML_TEXT_NODE)
      fail(reason::unsupported_name_id, fmt::format("{} holds more than text", what));
    if (c->content) out += reinterpret_cast<const char *>(c->content);
  }
  return out;
}

template <class F> void each_element(xmlNode *n, F &&f) {
  for (; n; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    f(n);
    each_element(n->children, f);
  }
}

// GCC 12 sees date.h's fractional-seconds reader as possibly uninitialised
// once inlined here (a false positive: it is assigned before use).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
std::optional<time_point> parse_instant(const std::string &s) {
  if (s.size() < 20 || s.back() != 'Z') return std::nullopt;
  std::istringstream in(s.substr(0, s.size() - 1));
  date::sys_time<std::chrono::microseconds> tp;
  in >> date::parse("%Y-%m-%dT%H:%M:%S", tp);
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) return std::nullopt;
  // system_clock counts nanoseconds in 64 bits: 1677 to 2262. Refuse what
  // would overflow the conversion rather than wrap.
  using namespace date::literals;
  if (tp < date::sys_days(1970_y / 1 / 1) || tp >= date::sys_days(2200_y / 1 / 1)) return std::nullopt;
  return std::chrono::time_point_cast<time_point::duration>(tp);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

std::string format_instant(time_point t) {
  return date::format("%Y-%m-%dT%H:%M:%SZ", std::chrono::floor<std::chrono::seconds>(t));
}

bool weak(const std::string &alg) { return alg.find("sha1") != std::string::npos; }

std::string algorithm(xmlNode *n, const char *what) {
  auto a = attr(n, "Algorithm");
  if (!a) fail(reason::unsupported_algorithm, fmt::format("{} has no Algorithm", what));
  return *a;
}

// The request element: the document's root or the single child of a SOAP
// 1.1 Body.
xmlNode *find_request(xmlDoc *doc, bool &soap) {
  xmlNode *root = xmlDocGetRootElement(doc);
  soap = is(root, soap_ns, "Envelope");
  xmlNode *req = root;
  if (soap) {
    auto bodies = children(root, soap_ns, "Body");
    if (bodies.size() != 1) fail(reason::not_manage_name_id, "a SOAP envelope needs one Body");
    auto in_body = elements(bodies[0]);
    if (in_body.size() != 1) fail(reason::not_manage_name_id, "the SOAP Body must hold one element");
    req = in_body[0];
  }
  if (!is(req, protocol_ns, "ManageNameIDRequest"))
    fail(reason::not_manage_name_id,
         fmt::format("the message is {}, not samlp:ManageNameIDRequest",
                     req ? shown(reinterpret_cast<const char *>(req->name)) : "empty"));
  return req;
}

// The ID occurs once in the whole document (under any ID-like attribute
// name) and is registered as an ID so xmlsec1 resolves "#ID" to req only.
void register_unique_id(xmlDoc *doc, xmlNode *req, const std::string &id) {
  int count = 0;
  each_element(xmlDocGetRootElement(doc), [&](xmlNode *n) {
    for (xmlAttr *a = n->properties; a; a = a->next) {
      if (!xmlStrEqual(a->name, x("ID")) && !xmlStrEqual(a->name, x("Id")) &&
          !xmlStrEqual(a->name, x("id")))
        continue;
      xmlChar *v = xmlNodeListGetString(doc, a->children, 1);
      if (v && id == reinterpret_cast<const char *>(v)) ++count;
      xmlFree(v);
    }
  });
  if (count != 1) fail(reason::duplicate_id, fmt::format("ID \"{}\" occurs {} times", shown(id), count));
  xmlAttr *a = xmlHasNsProp(req, x("ID"), nullptr);
  if (!a || !xmlAddID(nullptr, doc, x(id.c_str()), a))
    fail(reason::duplicate_id, fmt::format("ID \"{}\" is already an ID in the document", shown(id)));
}

// The signature's shape, before any cryptography.
xmlNode *check_signature_shape(xmlDoc *doc, xmlNode *req, const std::string &id) {
  auto sigs = children(req, dsig_ns, "Signature");
  if (sigs.empty()) {
    bool elsewhere = false;
    each_element(xmlDocGetRootElement(doc), [&](xmlNode *n) { elsewhere |= is(n, dsig_ns, "Signature"); });
    if (elsewhere) fail(reason::signature_not_child, "the signature is not a child of the request");
    fail(reason::unsigned_message, "the request is not signed");
  }
  if (sigs.size() > 1) fail(reason::multiple_signatures, "the request has more than one signature");
  xmlNode *sig = sigs[0];
  auto parts = elements(sig);
  if (parts.empty() || !is(parts[0], dsig_ns, "SignedInfo"))
    fail(reason::bad_signature, "the signature has no SignedInfo");
  xmlNode *info = parts[0];
  auto c14n = children(info, dsig_ns, "CanonicalizationMethod");
  auto method = children(info, dsig_ns, "SignatureMethod");
  if (c14n.size() != 1 || method.size() != 1)
    fail(reason::bad_signature, "SignedInfo needs one CanonicalizationMethod and one SignatureMethod");
  if (algorithm(c14n[0], "CanonicalizationMethod") != alg_exc_c14n)
    fail(reason::bad_transform, "canonicalization must be exclusive c14n");
  const auto sm = algorithm(method[0], "SignatureMethod");
  if (weak(sm)) fail(reason::weak_algorithm, fmt::format("signature method {} (SHA-1)", shown(sm)));
  if (sm != alg_rsa_sha256 && sm != alg_ecdsa_sha256)
    fail(reason::unsupported_algorithm, fmt::format("signature method {}", shown(sm)));
  auto refs = children(info, dsig_ns, "Reference");
  if (refs.size() != 1)
    fail(reason::reference_not_root, fmt::format("{} References, exactly one is allowed", refs.size()));
  const auto uri = attr(refs[0], "URI");
  if (!uri || *uri != "#" + id)
    fail(reason::reference_not_root, fmt::format("Reference URI \"{}\" is not \"#{}\" (the request)",
                                                 shown(uri.value_or("")), shown(id)));
  for (xmlNode *ts : children(refs[0], dsig_ns, "Transforms")) {
    int enveloped = 0, exc = 0;
    for (xmlNode *t : elements(ts)) {
      const auto a = is(t, dsig_ns, "Transform") ? algorithm(t, "Transform") : std::string("?");
      if (a == alg_enveloped) ++enveloped;
      else if (a == alg_exc_c14n) ++exc;
      else fail(reason::bad_transform, fmt::format("transform {} is not allowed", shown(a)));
    }
    if (enveloped > 1 || exc > 1) fail(reason::bad_transform, "a transform occurs twice");
  }
  auto digest = children(refs[0], dsig_ns, "DigestMethod");
  if (digest.size() != 1) fail(reason::bad_signature, "the Reference needs one DigestMethod");
  const auto dm = algorithm(digest[0], "DigestMethod");
  if (weak(dm)) fail(reason::weak_algorithm, fmt::format("digest method {} (SHA-1)", shown(dm)));
  if (dm != alg_sha256) fail(reason::unsupported_algorithm, fmt::format("digest method {}", shown(dm)));
  return sig;
}

void allow_only_expected_transforms(xmlSecDSigCtx *ctx) {
  ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
  if (xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
      xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformEnvelopedId) < 0 ||
      xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformSha256Id) < 0 ||
      xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
      xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformRsaSha256Id) < 0 ||
      xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformEcdsaSha256Id) < 0)
    fail(reason::internal, "xmlsec1: cannot restrict the transforms");
}

// The key comes from the metadata certificate only; KeyInfo in the message
// is never consulted (signKey set, no keys manager).
void verify_crypto(xmlNode *sig, const idp_trust &trust) {
  last_xmlsec_error.clear();
  for (const auto &der : trust.certificates) {
    key_ptr key(xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte *>(der.data()),
                                             static_cast<xmlSecSize>(der.size()),
                                             xmlSecKeyDataFormatCertDer, nullptr, nullptr, nullptr));
    if (!key) continue;
    dsig_ptr ctx(xmlSecDSigCtxCreate(nullptr));
    if (!ctx) throw std::bad_alloc();
    allow_only_expected_transforms(ctx.get());
    ctx->signKey = key.release();
    if (xmlSecDSigCtxVerify(ctx.get(), sig) == 0 && ctx->status == xmlSecDSigStatusSucceeded) return;
  }
  fail(reason::bad_signature,
       last_xmlsec_error.empty() ? "no IdP certificate verifies the signature"
                                 : "no IdP certificate verifies the signature (" + last_xmlsec_error + ")");
}

xmlNode *one_child(xmlNode *req, const char *ns, const char *local) {
  auto c = children(req, ns, local);
  if (c.size() != 1) fail(reason::missing_field, fmt::format("the request needs exactly one {}", local));
  return c[0];
}

std::string required_attr(xmlNode *n, const char *name) {
  auto v = attr(n, name);
  if (!v || v->empty()) fail(reason::missing_field, fmt::format("the request has no {}", name));
  return *v;
}

time_point required_instant(xmlNode *n, const char *name) {
  const auto text = required_attr(n, name);
  const auto t = parse_instant(text);
  if (!t) fail(reason::missing_field, fmt::format("{} \"{}\" is not a UTC xs:dateTime", name, shown(text)));
  return *t;
}

// Reads and checks the signed element's values (called after verify_crypto).
verified_request read_request(xmlNode *req, const idp_trust &trust, time_point now) {
  verified_request out;
  out.id = required_attr(req, "ID");
  if (attr(req, "Version") != std::optional<std::string>("2.0"))
    fail(reason::missing_field, "Version must be 2.0");
  out.issue_instant = required_instant(req, "IssueInstant");
  out.destination = required_attr(req, "Destination");
  out.issuer = text_only(one_child(req, assertion_ns, "Issuer"), "Issuer");
  if (!children(req, assertion_ns, "EncryptedID").empty() || !children(req, assertion_ns, "BaseID").empty())
    fail(reason::unsupported_name_id, "only a plain NameID is supported");
  xmlNode *nid = one_child(req, assertion_ns, "NameID");
  out.name.value = text_only(nid, "NameID");
  if (out.name.value.empty()) fail(reason::missing_field, "the NameID is empty");
  out.name.format = attr(nid, "Format").value_or("");
  out.name.sp_name_qualifier = attr(nid, "SPNameQualifier").value_or("");
  out.name.name_qualifier = attr(nid, "NameQualifier").value_or("");
  if (!children(req, protocol_ns, "NewID").empty() || !children(req, protocol_ns, "NewEncryptedID").empty())
    fail(reason::new_id_unsupported, "NewID (changing a name identifier) is not supported, only Terminate");
  one_child(req, protocol_ns, "Terminate");
  out.terminate = true;

  if (out.issuer != trust.entity_id)
    fail(reason::wrong_issuer, fmt::format("Issuer \"{}\" is not \"{}\"", shown(out.issuer), trust.entity_id));
  if (out.destination != trust.destination)
    fail(reason::wrong_destination,
         fmt::format("Destination \"{}\" is not \"{}\"", shown(out.destination), trust.destination));
  if (out.issue_instant > now + trust.max_skew)
    fail(reason::not_yet_valid, fmt::format("IssueInstant {} is in the future", format_instant(out.issue_instant)));
  if (out.issue_instant < now - trust.max_skew)
    fail(reason::expired, fmt::format("IssueInstant {} is older than {} s", format_instant(out.issue_instant),
                                      trust.max_skew.count()));
  if (attr(req, "NotOnOrAfter") && now >= required_instant(req, "NotOnOrAfter"))
    fail(reason::expired, "NotOnOrAfter has passed");
  return out;
}

std::string read_file(const std::filesystem::path &p, std::size_t max_bytes) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(reason::bad_metadata, fmt::format("cannot read {}", p.string()));
  std::string s;
  s.resize(max_bytes + 1);
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  s.resize(static_cast<std::size_t>(in.gcount()));
  if (s.size() > max_bytes) fail(reason::bad_metadata, fmt::format("{} is too large", p.string()));
  return s;
}

} // namespace

void init_xmlsec() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    xmlInitParser();
    if (xmlSecInit() < 0) return;
    if (xmlSecCheckVersion() != 1) return;
    if (xmlSecCryptoAppInit(nullptr) < 0) return;
    if (xmlSecCryptoInit() < 0) return;
    xmlSecErrorsSetCallback(&xmlsec_error);
    ok = true;
  });
  if (!ok) fail(reason::internal, "xmlsec1 (OpenSSL) failed to initialise");
}

const char *reason_name(reason r) {
  switch (r) {
  case reason::too_large: return "too_large";
  case reason::malformed_base64: return "malformed_base64";
  case reason::malformed_xml: return "malformed_xml";
  case reason::doctype: return "doctype";
  case reason::not_manage_name_id: return "not_manage_name_id";
  case reason::missing_field: return "missing_field";
  case reason::unsigned_message: return "unsigned";
  case reason::signature_not_child: return "signature_not_child";
  case reason::multiple_signatures: return "multiple_signatures";
  case reason::reference_not_root: return "reference_not_root";
  case reason::duplicate_id: return "duplicate_id";
  case reason::bad_transform: return "bad_transform";
  case reason::weak_algorithm: return "weak_algorithm";
  case reason::unsupported_algorithm: return "unsupported_algorithm";
  case reason::bad_signature: return "bad_signature";
  case reason::wrong_issuer: return "wrong_issuer";
  case reason::wrong_destination: return "wrong_destination";
  case reason::not_yet_valid: return "not_yet_valid";
  case reason::expired: return "expired";
  case reason::replayed: return "replayed";
  case reason::new_id_unsupported: return "new_id_unsupported";
  case reason::unsupported_name_id: return "unsupported_name_id";
  case reason::bad_metadata: return "bad_metadata";
  case reason::internal: return "internal";
  }
  return "unknown";
}

int http_status(reason r) {
  switch (r) {
  case reason::too_large:
  case reason::malformed_base64:
  case reason::malformed_xml:
  case reason::doctype:
  case reason::not_manage_name_id:
  case reason::missing_field:
  case reason::new_id_unsupported:
  case reason::unsupported_name_id:
    return 400;
  case reason::bad_metadata:
  case reason::internal:
    return 500;
  default:
    return 403;
  }
}

saml_error::saml_error(reason r, const std::string &detail)
    : std::runtime_error(fmt::format("saml {}: {}", reason_name(r), detail)), code_(r) {}

struct memory_replay_cache::impl {
  mutable std::mutex mu;
  std::map<std::string, time_point, std::less<>> seen;
  std::multimap<time_point, std::string> by_expiry;
};

memory_replay_cache::memory_replay_cache() : impl_(std::make_unique<impl>()) {}
memory_replay_cache::~memory_replay_cache() = default;

bool memory_replay_cache::remember_once(std::string_view id, time_point expires) {
  std::lock_guard lock(impl_->mu);
  const auto now = std::chrono::system_clock::now();
  while (!impl_->by_expiry.empty() && impl_->by_expiry.begin()->first < now) {
    auto it = impl_->by_expiry.begin();
    if (auto s = impl_->seen.find(it->second); s != impl_->seen.end() && s->second == it->first)
      impl_->seen.erase(s);
    impl_->by_expiry.erase(it);
  }
  if (impl_->seen.find(id) != impl_->seen.end()) return false;
  impl_->seen.emplace(std::string(id), expires);
  impl_->by_expiry.emplace(expires, std::string(id));
  return true;
}

remember_once_fn memory_replay_cache::function() {
  return [this](std::string_view id, time_point expires) { return remember_once(id, expires); };
}

std::size_t memory_replay_cache::size() const {
  std::lock_guard lock(impl_->mu);
  return impl_->seen.size();
}

std::string base64_decode(std::string_view text) {
  if (text.size() > max_message_bytes * 2)
    fail(reason::too_large, fmt::format("{} base64 characters", text.size()));
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || c == '=' || c == '\r' || c == '\n' || c == ' ' || c == '\t';
    if (!ok) fail(reason::malformed_base64, "a character outside the base64 alphabet");
  }
  std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> ctx(EVP_ENCODE_CTX_new(),
                                                                       &EVP_ENCODE_CTX_free);
  if (!ctx) throw std::bad_alloc();
  std::string out(text.size() / 4 * 3 + 3, '\0');
  int n = 0, tail = 0;
  EVP_DecodeInit(ctx.get());
  if (EVP_DecodeUpdate(ctx.get(), reinterpret_cast<unsigned char *>(out.data()), &n,
                       reinterpret_cast<const unsigned char *>(text.data()), static_cast<int>(text.size())) < 0 ||
      EVP_DecodeFinal(ctx.get(), reinterpret_cast<unsigned char *>(out.data()) + n, &tail) < 0)
    fail(reason::malformed_base64, "not valid base64");
  out.resize(static_cast<std::size_t>(n + tail));
  if (out.empty()) fail(reason::malformed_base64, "empty");
  return out;
}

std::string base64_encode(std::string_view bytes) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX / 4 * 3)) throw std::length_error("base64");
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                reinterpret_cast<const unsigned char *>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

void parse_idp_metadata(std::string_view metadata_xml, idp_trust &trust) {
  doc_ptr doc;
  try {
    doc = parse_xml(metadata_xml, max_metadata_bytes);
  } catch (const saml_error &e) {
    fail(reason::bad_metadata, e.what());
  }
  xmlNode *root = xmlDocGetRootElement(doc.get());
  if (!is(root, metadata_ns, "EntityDescriptor"))
    fail(reason::bad_metadata, "the metadata's root is not md:EntityDescriptor");
  const auto entity = attr(root, "entityID");
  if (!entity || entity->empty()) fail(reason::bad_metadata, "EntityDescriptor has no entityID");
  std::vector<std::string> certs;
  for (xmlNode *idp : children(root, metadata_ns, "IDPSSODescriptor"))
    for (xmlNode *kd : children(idp, metadata_ns, "KeyDescriptor")) {
      const auto use = attr(kd, "use");
      if (use && *use != "signing") continue;
      for (xmlNode *ki : children(kd, dsig_ns, "KeyInfo"))
        for (xmlNode *xd : children(ki, dsig_ns, "X509Data"))
          for (xmlNode *c : children(xd, dsig_ns, "X509Certificate")) {
            xmlChar *b64 = xmlNodeGetContent(c);
            std::string text = b64 ? reinterpret_cast<const char *>(b64) : "";
            xmlFree(b64);
            std::string der;
            try {
              der = base64_decode(text);
            } catch (const saml_error &) {
              fail(reason::bad_metadata, "an X509Certificate is not base64");
            }
            const auto *p = reinterpret_cast<const unsigned char *>(der.data());
            X509 *cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
            if (!cert) fail(reason::bad_metadata, "an X509Certificate is not a DER certificate");
            X509_free(cert);
            certs.push_back(std::move(der));
          }
    }
  if (certs.empty())
    fail(reason::bad_metadata, "no IDPSSODescriptor KeyDescriptor use=\"signing\" X509Certificate");
  trust.entity_id = *entity;
  trust.certificates = std::move(certs);
}

verified_request verify_manage_name_id(std::string_view xml, const idp_trust &trust, time_point now) {
  if (!trust.remember_once) fail(reason::internal, "no replay store (remember_once) configured");
  if (trust.certificates.empty()) fail(reason::bad_metadata, "no IdP certificate configured");
  init_xmlsec();
  doc_ptr doc = parse_xml(xml, max_message_bytes);
  bool soap = false;
  xmlNode *req = find_request(doc.get(), soap);
  const auto id = attr(req, "ID");
  if (!id || id->empty()) fail(reason::missing_field, "the request has no ID");
  xmlNode *sig = check_signature_shape(doc.get(), req, *id);
  register_unique_id(doc.get(), req, *id);
  verify_crypto(sig, trust);
  verified_request out = read_request(req, trust, now);
  out.soap = soap;
  const auto expires = out.issue_instant + trust.max_skew;
  if (!trust.remember_once(out.id, expires))
    fail(reason::replayed, fmt::format("request ID \"{}\" was accepted before", shown(out.id)));
  return out;
}

verified_request verify_manage_name_id_post(std::string_view saml_request, const idp_trust &trust,
                                            time_point now) {
  return verify_manage_name_id(base64_decode(saml_request), trust, now);
}

signing_key::signing_key(std::string key_pem, std::string cert_pem)
    : key_pem_(std::move(key_pem)), cert_pem_(std::move(cert_pem)) {}

signing_key signing_key::load(const std::filesystem::path &key_file,
                              const std::filesystem::path &cert_file) {
  return signing_key(read_file(key_file, 1 << 20), cert_file.empty() ? "" : read_file(cert_file, 1 << 20));
}

namespace {

key_ptr load_signing_key(const signing_key &k) {
  key_ptr key(xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte *>(k.key_pem().data()),
                                           static_cast<xmlSecSize>(k.key_pem().size()),
                                           xmlSecKeyDataFormatPem, nullptr, nullptr, nullptr));
  if (!key) fail(reason::bad_metadata, "the SP signing key is not a PEM private key");
  if (!k.cert_pem().empty() &&
      xmlSecCryptoAppKeyCertLoadMemory(key.get(), reinterpret_cast<const xmlSecByte *>(k.cert_pem().data()),
                                       static_cast<xmlSecSize>(k.cert_pem().size()),
                                       xmlSecKeyDataFormatPem) < 0)
    fail(reason::bad_metadata, "the SP certificate is not a PEM certificate");
  return key;
}

void sign_enveloped(xmlDoc *doc, xmlNode *after, xmlAttr *id_attr, const std::string &id,
                    const signing_key &k) {
  key_ptr key = load_signing_key(k);
  xmlSecTransformId method = nullptr;
  if (xmlSecKeyDataCheckId(xmlSecKeyGetValue(key.get()), xmlSecKeyDataRsaId)) method = xmlSecTransformRsaSha256Id;
  else if (xmlSecKeyDataCheckId(xmlSecKeyGetValue(key.get()), xmlSecKeyDataEcdsaId))
    method = xmlSecTransformEcdsaSha256Id;
  else fail(reason::bad_metadata, "the SP signing key is neither RSA nor ECDSA");
  xmlNode *sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId, method, nullptr, x("ds"));
  if (!sig) throw std::bad_alloc();
  if (!xmlAddNextSibling(after, sig)) {
    xmlFreeNode(sig);
    fail(reason::internal, "cannot place the signature");
  }
  const std::string uri = "#" + id;
  xmlNode *ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id, nullptr, x(uri.c_str()), nullptr);
  if (!ref || !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) ||
      !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId))
    fail(reason::internal, "cannot build the signature template");
  if (!k.cert_pem().empty()) {
    xmlNode *ki = xmlSecTmplSignatureEnsureKeyInfo(sig, nullptr);
    xmlNode *data = ki ? xmlSecTmplKeyInfoAddX509Data(ki) : nullptr;
    if (!data || !xmlSecTmplX509DataAddCertificate(data)) fail(reason::internal, "cannot add KeyInfo");
  }
  if (!xmlAddID(nullptr, doc, x(id.c_str()), id_attr)) fail(reason::internal, "cannot register the ID");
  dsig_ptr ctx(xmlSecDSigCtxCreate(nullptr));
  if (!ctx) throw std::bad_alloc();
  ctx->signKey = key.release();
  if (xmlSecDSigCtxSign(ctx.get(), sig) < 0)
    fail(reason::internal, "xmlsec1 could not sign the response: " + last_xmlsec_error);
}

} // namespace

std::string manage_name_id_response(const verified_request &request, std::string_view status_code,
                                    std::string_view sp_entity_id, std::string_view response_id,
                                    time_point now, const signing_key *key) {
  if (status_code.empty() || response_id.empty() || sp_entity_id.empty())
    fail(reason::missing_field, "a response needs a status code, an ID and the SP entity ID");
  init_xmlsec();
  const std::string status = status_code.substr(0, 4) == "urn:"
                                 ? std::string(status_code)
                                 : fmt::format("urn:oasis:names:tc:SAML:2.0:status:{}", status_code);
  const std::string id(response_id), issuer(sp_entity_id);
  doc_ptr doc(xmlNewDoc(x("1.0")));
  if (!doc) throw std::bad_alloc();
  xmlNode *resp = xmlNewNode(nullptr, x("ManageNameIDResponse"));
  if (!resp) throw std::bad_alloc();
  if (request.soap) {
    xmlNode *env = xmlNewNode(nullptr, x("Envelope"));
    xmlDocSetRootElement(doc.get(), env);
    xmlSetNs(env, xmlNewNs(env, x(soap_ns), x("SOAP-ENV")));
    xmlNode *body = xmlNewChild(env, env->ns, x("Body"), nullptr);
    xmlAddChild(body, resp);
  } else {
    xmlDocSetRootElement(doc.get(), resp);
  }
  xmlNs *samlp = xmlNewNs(resp, x(protocol_ns), x("samlp"));
  xmlNs *saml = xmlNewNs(resp, x(assertion_ns), x("saml"));
  xmlSetNs(resp, samlp);
  xmlAttr *id_attr = xmlNewProp(resp, x("ID"), x(id.c_str()));
  xmlNewProp(resp, x("Version"), x("2.0"));
  xmlNewProp(resp, x("IssueInstant"), x(format_instant(now).c_str()));
  xmlNewProp(resp, x("InResponseTo"), x(request.id.c_str()));
  xmlNode *iss = xmlNewTextChild(resp, saml, x("Issuer"), x(issuer.c_str()));
  xmlNode *st = xmlNewChild(resp, samlp, x("Status"), nullptr);
  xmlNode *code = xmlNewChild(st, samlp, x("StatusCode"), nullptr);
  if (!id_attr || !iss || !st || !code) throw std::bad_alloc();
  xmlNewProp(code, x("Value"), x(status.c_str()));
  if (key) sign_enveloped(doc.get(), iss, id_attr, id, *key);
  xmlChar *buf = nullptr;
  int size = 0;
  xmlDocDumpMemoryEnc(doc.get(), &buf, &size, "UTF-8");
  if (!buf) throw std::bad_alloc();
  std::string out(reinterpret_cast<const char *>(buf), static_cast<std::size_t>(size));
  xmlFree(buf);
  return out;
}

idp_trust load_trust(const endpoint_config &config, remember_once_fn remember_once) {
  if (config.endpoint_url.empty()) fail(reason::bad_metadata, "no SAML endpoint URL configured");
  idp_trust trust;
  parse_idp_metadata(read_file(config.metadata_file, max_metadata_bytes), trust);
  trust.destination = config.endpoint_url;
  trust.max_skew = config.max_skew;
  trust.remember_once = std::move(remember_once);
  return trust;
}

} // namespace reclaim::saml
