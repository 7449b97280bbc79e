// vendor_api.cpp — the shared call path of the HTTP connectors and the
// mapping of failures to outcomes: below HTTP (connection refused, reset,
// timeout) is transient; a certificate that does not verify, a refused
// credential or a refused URL is permanent (retrying cannot help and would
// only storm the vendor).
#include "connectors/vendor_api.hpp"

#include "ldap/ldap_entry.hpp"

#include <fmt/format.h>

namespace reclaim {

using outcome = connector_result::outcome;

void fail_transient(const std::string &message, std::optional<std::chrono::milliseconds> retry_after) {
  throw action_failure(outcome::transient, message, retry_after);
}

void fail_permanent(const std::string &message) { throw action_failure(outcome::permanent, message); }

connector_result guarded(const std::function<connector_result()> &f) {
  try {
    return f();
  } catch (const action_failure &e) {
    return e.result();
  } catch (const http::credential_error &e) {
    return {outcome::permanent, e.what(), "{}"};
  } catch (const http::url_refused &e) {
    return {outcome::permanent, e.what(), "{}"};
  } catch (const http::transport_error &e) {
    return {e.tls_refused() ? outcome::permanent : outcome::transient, e.what(), "{}"};
  } catch (const http::json_too_deep &e) {
    return {outcome::transient, fmt::format("unexpected vendor answer: {}", e.what()), "{}"};
  } catch (const nlohmann::json::exception &e) {
    return {outcome::transient, fmt::format("unexpected vendor answer: {}", e.what()), "{}"};
  }
}

std::string subject_key(const action_row &a, const std::string &attribute) {
  if (attribute.empty()) return a.subject_id;
  const auto attrs = nlohmann::json::parse(a.subject_attrs, nullptr, false);
  if (attrs.is_object())
    for (const auto &[k, v] : attrs.items()) {
      if (ldap::lower_ascii(k) != ldap::lower_ascii(attribute)) continue;
      if (v.is_string() && !v.get<std::string>().empty()) return v.get<std::string>();
      if (v.is_array() && !v.empty() && v[0].is_string()) return v[0].get<std::string>();
    }
  fail_permanent(fmt::format("{} has no {} attribute to address them at the vendor",
                             a.subject_name.empty() ? a.subject_id : a.subject_name, attribute));
}

nlohmann::json parse_answer(const std::string &body, const std::string &what) {
  try {
    return http::parse_json(body);
  } catch (const http::json_too_deep &e) {
    fail_transient(fmt::format("{}: answer refused ({} bytes): {}", what, body.size(), e.what()));
  }
}

nlohmann::json parse_object(const std::string &body, const std::string &what) {
  auto j = parse_answer(body, what);
  if (j.is_discarded() || !j.is_object())
    fail_transient(fmt::format("{}: answer is not a JSON object ({} bytes: \"{}\")", what, body.size(),
                               http::printable_prefix(body, 60)));
  return j;
}

nlohmann::json parse_error_body(const std::string &body) {
  try {
    return http::parse_json(body);
  } catch (const http::json_too_deep &) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
}

std::string path_segment(const std::string &value, const std::string &what) {
  if (value.empty() || value == "." || value == "..")
    fail_permanent(fmt::format("{} \"{}\" cannot be put in a URL path (\"\", \".\" and \"..\" are refused: "
                               "the request would reach another resource)", what, value));
  return http::url_escape(value);
}

vendor_api::vendor_api(const connector_settings &s, std::shared_ptr<http::token_cache> tokens)
    : s_(s), client_(s.http), tokens_(std::move(tokens)),
      reads_(s.reads.per_second(), s.reads.burst > 0 ? s.reads.burst : s.reads.count),
      writes_(s.writes.per_second(), s.writes.burst > 0 ? s.writes.burst : s.writes.count),
      requests_(s.requests.per_second(), s.requests.burst > 0 ? s.requests.burst : s.requests.count) {}

void vendor_api::throttled(bool writes) {
  (writes ? writes_ : reads_).throttled();
  if (s_.requests.count > 0) requests_.throttled();
}

void vendor_api::pause(bool writes, std::chrono::milliseconds d) {
  (writes ? writes_ : reads_).pause_for(d);
  if (s_.requests.count > 0) requests_.pause_for(d);
}

http::response vendor_api::call(http::request r, int writes, int reads) {
  const int cost = writes > 0 ? writes : std::max(reads, 1);
  (writes > 0 ? writes_ : reads_).acquire(cost);
  if (s_.requests.count > 0) requests_.acquire(cost);
  const auto base_headers = r.headers;
  for (int attempt = 0;; ++attempt) {
    std::string token;
    r.headers = base_headers;
    if (tokens_) {
      token = tokens_->get();
      r.headers.emplace_back("Authorization", "Bearer " + token);
    }
    auto resp = client_.perform(r);
    if (resp.status == 401 && tokens_ && attempt == 0) {
      tokens_->invalidate(token); // perhaps revoked early: one fresh token, one more try
      continue;
    }
    if (resp.status == 429 || resp.status == 503) {
      if (auto ra = http::parse_retry_after(resp.header("retry-after"))) pause(writes > 0, *ra);
      throttled(writes > 0);
    } else if (resp.status < 400) {
      (writes > 0 ? writes_ : reads_).accepted(cost);
      if (s_.requests.count > 0) requests_.accepted(cost);
    }
    return resp;
  }
}

void vendor_api::fail_status(const http::response &resp, const std::string &what, const std::string &detail) {
  const auto msg = fmt::format("{}: HTTP {}{}{}", what, resp.status, detail.empty() ? "" : ": ", detail);
  if (resp.status == 429 || resp.status >= 500)
    fail_transient(msg, http::parse_retry_after(resp.header("retry-after")));
  if (resp.status == 401) fail_permanent(msg + " (the access token was refused twice; check the credential)");
  fail_permanent(msg);
}

} // namespace reclaim
