// scim_patch.cpp — RFC 7644 §3.5.2 operations on a copy of the stored
// resource; the result goes through normalise(), which checks types, turns
// dialect values ("False", a bare manager id) into canonical ones and drops
// duplicate members, so the operations themselves stay simple.
#include "scim/scim_patch.hpp"

#include "scim/scim_filter.hpp"
#include "scim/scim_path.hpp"
#include "scim/scim_protocol.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace reclaim::scim {
namespace {

using json = nlohmann::json;

enum class op_kind { add, replace, remove };

[[noreturn]] void fail(const char *type, const std::string &detail) { throw scim_error(400, type, detail); }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

const json *find_ci(const json &object, std::string_view key) {
  for (auto it = object.begin(); it != object.end(); ++it)
    if (iequals(it.key(), key))
      return &*it;
  return nullptr;
}

// A value's sub-attribute keys in canonical case, so that a merge replaces
// "givenName" whatever case the client wrote.
json canonical_keys(const json &value, const attribute_def &def) {
  if (!value.is_object() || def.type != attr_type::complex)
    return value;
  json out = json::object();
  for (const auto &[k, v] : value.items()) {
    const attribute_def *sd = find_sub_attribute(def, k);
    out[sd ? std::string(sd->name) : k] = v; // unknown ones are refused by normalise
  }
  return out;
}

json as_array(const json &value) { return value.is_array() ? value : json::array({value}); }

class patcher {
public:
  patcher(json resource, resource_kind kind) : r_(std::move(resource)), kind_(kind) {}

  void run(op_kind o, const json *path, const json *value) {
    if (!path) {
      if (o == op_kind::remove)
        fail("noTarget", "remove needs a path");
      if (!value)
        fail("invalidValue", "an operation without a path needs a value");
      if (!value->is_object())
        fail("invalidValue", "an operation without a path needs an object of attributes as its value");
      for (const auto &[key, v] : value->items()) {
        if (iequals(key, "schemas"))
          continue;
        if (const schema_def *s = find_schema(key); s && !is_core(kind_, *s) && v.is_object()) {
          const std::string urn(s->urn);
          for (const auto &[k, ev] : v.items())
            apply(o, parse_path(urn + ":" + k, kind_), &ev, true);
          continue;
        }
        apply(o, parse_path(key, kind_), &v, true);
      }
      return;
    }
    if (!path->is_string())
      fail("invalidPath", "path must be a string");
    apply(o, parse_path(path->get<std::string>(), kind_), value, false);
  }

  json take() { return std::move(r_); }

private:
  json r_;
  resource_kind kind_;

  json &container(const attribute_path &p) {
    if (p.in_core)
      return r_;
    json &c = r_[p.urn];
    if (!c.is_object())
      c = json::object();
    return c;
  }

  void apply(op_kind o, const attribute_path &p, const json *value, bool pathless) {
    if (o != op_kind::remove && !value)
      fail("invalidValue", "add and replace need a value");
    if (p.attribute.empty()) { // a bare extension URN
      if (o == op_kind::remove) {
        r_.erase(p.urn);
        return;
      }
      if (!value->is_object())
        fail("invalidValue", p.urn + " takes an object");
      if (o == op_kind::replace)
        r_.erase(p.urn);
      for (const auto &[k, v] : value->items())
        apply(o, parse_path(p.urn + ":" + k, kind_), &v, pathless);
      return;
    }
    if (p.def->mut == mutability::read_only || (p.sub_def && p.sub_def->mut == mutability::read_only)) {
      // Okta renames a group with {"op":"replace","value":{"id":..,"displayName":..}}:
      // an unchanged id (and any meta) in a path-less value is not a change.
      if (pathless && (p.attribute == "meta" || (r_.contains(p.attribute) && r_[p.attribute] == *value)))
        return;
      throw scim_error(400, "mutability", p.to_string() + " is read-only");
    }
    if (o == op_kind::remove && p.def->required && p.sub_attribute.empty() && !p.value_filter)
      throw scim_error(400, "mutability", p.attribute + " is required and cannot be removed");
    if (p.value_filter)
      return apply_filtered(o, p, value);
    json &c = container(p);
    if (!p.sub_attribute.empty())
      return apply_sub(o, c, p, value);
    switch (o) {
    case op_kind::remove:
      if (value && p.def->multi_valued && c.contains(p.attribute))
        return remove_listed(c[p.attribute], *value); // Entra: members by value array
      c.erase(p.attribute);
      return;
    case op_kind::add:
      if (p.def->multi_valued) {
        json &target = c[p.attribute];
        if (!target.is_array())
          target = target.is_null() ? json::array() : json::array({target});
        const std::size_t first_new = target.size();
        for (const auto &e : as_array(*value))
          target.push_back(canonical_keys(e, *p.def));
        demote_other_primaries(target, [&](std::size_t i) { return i >= first_new; });
        return;
      }
      [[fallthrough]];
    case op_kind::replace:
      if (!p.def->multi_valued && p.def->type == attr_type::complex && value->is_object() &&
          c.contains(p.attribute) && c[p.attribute].is_object()) {
        // RFC 7644 §3.5.2.1/3: sub-attributes not given are left unchanged.
        const json given = canonical_keys(*value, *p.def);
        for (const auto &[k, v] : given.items())
          c[p.attribute][k] = v;
        return;
      }
      c[p.attribute] = p.def->multi_valued ? json(json::array()) : json(nullptr);
      if (p.def->multi_valued)
        for (const auto &e : as_array(*value))
          c[p.attribute].push_back(canonical_keys(e, *p.def));
      else
        c[p.attribute] = canonical_keys(*value, *p.def);
      return;
    }
  }

  // name.givenName, manager.value, emails.value (every element).
  static void apply_sub(op_kind o, json &c, const attribute_path &p, const json *value) {
    json &target = c[p.attribute];
    if (p.def->multi_valued) {
      if (!target.is_array()) {
        if (target.is_null())
          c.erase(p.attribute);
        if (o == op_kind::remove)
          return;
        fail("noTarget", p.to_string() + ": " + p.attribute + " has no values");
      }
      for (auto &e : target)
        if (e.is_object()) {
          if (o == op_kind::remove)
            e.erase(p.sub_attribute);
          else
            e[p.sub_attribute] = *value;
        }
      return;
    }
    if (o == op_kind::remove) {
      if (target.is_object())
        target.erase(p.sub_attribute);
      else
        c.erase(p.attribute);
      return;
    }
    if (target.is_string()) // a bare manager id stored before: keep it as its value
      target = json{{"value", target}};
    if (!target.is_object())
      target = json::object();
    target[p.sub_attribute] = *value;
  }

  void apply_filtered(op_kind o, const attribute_path &p, const json *value) {
    json &c = container(p);
    json &target = c[p.attribute];
    if (!target.is_array())
      target = target.is_null() ? json::array() : json::array({target});
    std::vector<std::size_t> hits;
    for (std::size_t i = 0; i < target.size(); ++i)
      if (p.value_filter->matches_element(target[i]))
        hits.push_back(i);
    if (o == op_kind::remove) {
      if (p.sub_attribute.empty()) {
        json kept = json::array();
        std::size_t h = 0;
        for (std::size_t i = 0; i < target.size(); ++i) {
          if (h < hits.size() && hits[h] == i) {
            ++h;
            continue;
          }
          kept.push_back(std::move(target[i]));
        }
        target = std::move(kept);
      } else {
        for (std::size_t i : hits)
          if (target[i].is_object())
            target[i].erase(p.sub_attribute);
      }
      return;
    }
    if (hits.empty()) {
      // add emails[type eq "work"].value = x where there is no work email:
      // create the element the filter describes. A replace has no target.
      const auto eq = p.value_filter->simple_element_equality();
      if (o == op_kind::replace || !eq)
        throw scim_error(400, "noTarget", "no value of " + p.attribute + " matches the filter");
      json element = p.sub_attribute.empty() ? canonical_keys(*value, *p.def) : json::object();
      if (!element.is_object())
        fail("invalidValue", p.attribute + " elements are objects");
      element[eq->first] = eq->second;
      if (!p.sub_attribute.empty())
        element[p.sub_attribute] = *value;
      target.push_back(std::move(element));
      const std::size_t last = target.size() - 1;
      demote_other_primaries(target, [&](std::size_t i) { return i == last; });
      return;
    }
    for (std::size_t i : hits) {
      if (!p.sub_attribute.empty()) {
        target[i][p.sub_attribute] = *value;
      } else if (o == op_kind::add && value->is_object()) {
        const json given = canonical_keys(*value, *p.def);
        for (const auto &[k, v] : given.items())
          target[i][k] = v;
      } else {
        target[i] = canonical_keys(value->is_array() && value->size() == 1 ? (*value)[0] : *value, *p.def);
      }
    }
    demote_other_primaries(target, [&](std::size_t i) { return std::binary_search(hits.begin(), hits.end(), i); });
  }

  static bool is_primary(const json &e) {
    if (!e.is_object())
      return false;
    const auto it = e.find("primary");
    return it != e.end() && (*it == true || (it->is_string() && iequals(it->get<std::string>(), "true")));
  }

  // RFC 7644 §3.5.2: a PATCH that makes a value primary makes the others
  // non-primary (an IdP adding a new primary email must not get a 400).
  template <class Touched> static void demote_other_primaries(json &target, Touched touched) {
    bool new_primary = false;
    for (std::size_t i = 0; i < target.size(); ++i)
      new_primary = new_primary || (touched(i) && is_primary(target[i]));
    if (!new_primary)
      return;
    for (std::size_t i = 0; i < target.size(); ++i)
      if (!touched(i) && is_primary(target[i]))
        target[i]["primary"] = false;
  }

  // Removes the elements whose "value" is listed: [{"value":"id"}, ...] or ["id", ...].
  static void remove_listed(json &target, const json &listed) {
    if (!target.is_array())
      return;
    std::set<std::string> drop;
    for (const auto &e : as_array(listed)) {
      const json *v = e.is_object() ? find_ci(e, "value") : &e;
      if (!v || !v->is_string())
        fail("invalidValue", "remove by value takes [{\"value\": \"...\"}]");
      drop.insert(v->get<std::string>());
    }
    json kept = json::array();
    for (auto &e : target) {
      const json *v = e.is_object() ? find_ci(e, "value") : nullptr;
      if (v && v->is_string() && drop.count(v->get<std::string>()))
        continue;
      kept.push_back(std::move(e));
    }
    target = std::move(kept);
  }
};

op_kind parse_op(const json &o) {
  if (!o.is_string())
    fail("invalidSyntax", "op must be a string");
  const auto &s = o.get_ref<const std::string &>();
  if (iequals(s, "add"))
    return op_kind::add;
  if (iequals(s, "replace"))
    return op_kind::replace;
  if (iequals(s, "remove"))
    return op_kind::remove;
  fail("invalidSyntax", "op must be add, replace or remove, not '" + s.substr(0, 50) + "'");
}

} // namespace

json apply_patch(const json &resource, const json &patch_body, resource_kind kind) {
  if (!patch_body.is_object())
    fail("invalidSyntax", "a PATCH body must be a PatchOp object");
  if (const json *schemas = find_ci(patch_body, "schemas")) {
    if (!schemas->is_array() || std::find(schemas->begin(), schemas->end(), json(patch_urn)) == schemas->end())
      fail("invalidSyntax", std::string("a PATCH body's schemas must list ") + patch_urn);
  }
  const json *ops = find_ci(patch_body, "Operations");
  if (!ops || !ops->is_array() || ops->empty())
    fail("invalidSyntax", "a PatchOp needs a non-empty Operations array");
  if (ops->size() > max_patch_operations)
    fail("invalidSyntax", "more than " + std::to_string(max_patch_operations) + " operations");
  if (!resource.is_object())
    fail("invalidSyntax", "the stored resource is not an object");
  patcher p(resource, kind);
  for (const auto &o : *ops) {
    if (!o.is_object())
      fail("invalidSyntax", "each operation must be an object");
    const json *op = find_ci(o, "op");
    if (!op)
      fail("invalidSyntax", "an operation needs an op");
    p.run(parse_op(*op), find_ci(o, "path"), find_ci(o, "value"));
  }
  json out = normalise(p.take(), kind);
  for (const char *kept : {"id", "meta"})
    if (auto it = resource.find(kept); it != resource.end())
      out[kept] = *it;
  return out;
}

} // namespace reclaim::scim
