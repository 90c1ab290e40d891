// Passive outlier ejection in the admin views: /status fields, /metrics families, the stats
// CSV's status word (issue 8).
#include <gtest/gtest.h>

#include <string>

#include "proxy/admin/render.h"
#include "proxy/admin/render_parts.h"
#include "proxy/admin/status.h"

namespace baton::proxy::admin {
namespace {

EdgeStatus model() {
  EdgeStatus s;
  ClusterStatus c;
  c.name = "web";
  c.outlier_enabled = true;
  c.outlier_ejected = 1;
  c.outlier_capped = 4;
  HostStatus out;
  out.name = "bad";
  out.address = "10.0.0.1:80";
  out.ejected = true;
  out.ejected_remaining_ms = 1250;
  out.ejections = 2;
  out.ejections_total = 7;
  HostStatus in;
  in.name = "good";
  in.address = "10.0.0.2:80";
  c.hosts = {out, in};
  s.clusters.push_back(c);
  return s;
}

TEST(OutlierRender, StatusJsonFields) {
  const std::string json = renderStatusJson(model());
  EXPECT_NE(json.find(R"("outlier_enabled":true,"outlier_ejected":1,"outlier_capped":4,)"
                      R"("outlier_panic":false)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("ejected":true,"ejected_remaining_ms":1250,"ejections":2,)"
                      R"("ejections_total":7)"),
            std::string::npos)
      << json;
}

TEST(OutlierRender, PrometheusFamilies) {
  const std::string text = renderPrometheus(model());
  EXPECT_NE(text.find("# TYPE baton_host_ejected gauge"), std::string::npos);
  EXPECT_NE(text.find(R"(baton_host_ejected{cluster="web",host="bad"} 1)"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(baton_host_ejected{cluster="web",host="good"} 0)"), std::string::npos);
  EXPECT_NE(text.find("# TYPE baton_outlier_ejections_total counter"), std::string::npos);
  EXPECT_NE(text.find(R"(baton_outlier_ejections_total{cluster="web",host="bad"} 7)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(baton_cluster_outlier_panic{cluster="web"} 0)"), std::string::npos);
}

TEST(OutlierRender, EjectedHostIsDownAndTakesNoRequests) {
  const EdgeStatus s = model();
  EXPECT_EQ(hostStatusWord(s.clusters[0].hosts[0]), "DOWN");
  EXPECT_FALSE(hostTakesRequests(s.clusters[0].hosts[0]));
  EXPECT_EQ(hostStatusWord(s.clusters[0].hosts[1]), "UP");
}

}  // namespace
}  // namespace baton::proxy::admin
