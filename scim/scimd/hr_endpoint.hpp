// hr_endpoint.hpp — POST /hr/v1/workers (role hr): a Workday worker or
// HR-XML termination document, parsed by scim/hr_xml, each record submitted
// with source "hr" and the key reclaimctl ingest uses (hr/<worker>/<event>/
// <date>), so a file ingested and the same document posted are one event.
#pragma once

#include "engine_lib.hpp"
#include "scim_service.hpp"
#include "scim/hr_xml.hpp"

#include <string>

namespace reclaim::scimd {

// [hr] of reclaim.toml, read here because the host does not link plugin/
// (the engine validates the same section strictly when it opens). Throws
// config_error("file:line:col: key: problem").
hr::hr_config load_hr_config(const std::string &path);

// The handler for scim_service::add_route("/hr/v1/workers", role::hr, ...).
// engine must outlive it.
scim_service::route_handler hr_workers_handler(hr::hr_config cfg, engine_lib &engine);

} // namespace reclaim::scimd
