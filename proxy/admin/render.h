// Pure renderers of the admin model (proxy/admin/status.h): no I/O, no threads; tested from
// structs. Used by the socket commands, the admin HTTP listener and batonctl's --json.
#pragma once

#include <string>

#include "proxy/admin/status.h"

namespace baton::proxy::admin {

// /status and `show ... json`: JSON whose keys are EdgeStatus's field names (snake_case);
// admin states as words ("ready"/"drain"/"maint"); TrafficCounters as
// {"requests":{"1xx":n,...,"5xx":n,"other":n},"total":n,"bytes_in":n,"bytes_out":n,
//  "latency":{"count":n,"sum_us":n,"p50_s":x,"p90_s":x,"p99_s":x}}.
std::string renderStatusJson(const EdgeStatus& status);

// GET /instance: InstanceFacts as one JSON object (keys = its field names).
std::string renderInstanceJson(const InstanceFacts& facts);

// /metrics: Prometheus text exposition format 0.0.4. Label values are bounded by the config
// (listener, route id, cluster, host names): never raw paths or client addresses.
std::string renderPrometheus(const EdgeStatus& status);

// HAProxy's stats CSV ("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,...,status,
// weight,...") with one row per host and a BACKEND row per cluster; the columns mean what they
// mean in HAProxy where baton has the same thing (scur = in flight, status UP/DRAIN/MAINT,
// hrsp_1xx..hrsp_other, bin/bout, weight). marathon-lb's zdd parses it.
std::string renderStatCsv(const EdgeStatus& status);

}  // namespace baton::proxy::admin
