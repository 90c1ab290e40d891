// A synthetic `GET /v2/apps?embed=apps.tasks` body of any size, shaped like marathon.md §1.5's
// host-mode app (labels, a health check, tasks with health results). Used by parse_apps_test.cc
// (timing print) and bench/micro/marathon_parse_bench.cc. Header-only test helper.
#pragma once

#include <string>

namespace baton::discovery::testing {

// `apps` apps of `tasks_per_app` running tasks each; about 3.4 kB per 10 tasks.
inline std::string makeAppsDocument(int apps, int tasks_per_app) {
  std::string doc = R"({"apps":[)";
  for (int a = 0; a < apps; ++a) {
    if (a > 0) doc += ',';
    std::string n = std::to_string(a);
    std::string id = "/group" + std::to_string(a % 100) + "/app" + n;
    doc += R"({"id":")" + id + R"(","instances":)" + std::to_string(tasks_per_app) +
           R"(,"labels":{"HAPROXY_GROUP":"external","HAPROXY_0_VHOST":"app)" + n +
           R"(.example.com"},"networks":[{"mode":"host"}],"portDefinitions":[{"port":)" +
           std::to_string(10000 + a % 50000) +
           R"(,"protocol":"tcp"}],"healthChecks":[{"protocol":"HTTP","path":"/health",)"
           R"("portIndex":0}],"version":"2017-07-14T15:13:34.402Z","versionInfo":{)"
           R"("lastScalingAt":"2017-07-14T15:13:34.402Z","lastConfigChangeAt":)"
           R"("2017-07-14T15:13:34.402Z"},"deployments":[],"tasks":[)";
    for (int t = 0; t < tasks_per_app; ++t) {
      if (t > 0) doc += ',';
      doc += R"({"id":"app)" + n + ".task-" + std::to_string(t) +
             R"(-01da9a15-68a7-11e7-a229-e6a514ca0c21","appId":")" + id + R"(","host":"10.0.)" +
             std::to_string(t % 250) + "." + std::to_string(a % 250) + R"(","ports":[)" +
             std::to_string(31000 + t) +
             R"(],"state":"TASK_RUNNING","startedAt":"2017-07-14T15:13:58.326Z",)"
             R"("version":"2017-07-14T15:13:34.402Z","healthCheckResults":[{"alive":true,)"
             R"("consecutiveFailures":0,"lastFailure":null}]})";
    }
    doc += "]}";
  }
  doc += "]}";
  return doc;
}

}  // namespace baton::discovery::testing
