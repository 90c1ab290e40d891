// HealthService: probes run on the health thread; the control thread sees verdicts flip (an
// on_change posted to its loop), applies them, and gets per-host details for the status.
#include "proxy/health/health_service.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "tests/unit/proxy/loopback_listener.h"
#include "tests/unit/proxy/run_on_loop.h"

namespace baton::proxy::health {
namespace {

using std::chrono::milliseconds;

// A listening loopback socket (probes connect) and a port nothing listens on (refused).
struct Ports {
  Ports() : listen_fd(test::listenLoopback(listening)) {}
  ~Ports() { ::close(listen_fd); }
  std::string up() const { return "127.0.0.1:" + std::to_string(ntohs(listening.sin_port)); }
  std::string down() const { return "127.0.0.1:" + std::to_string(refused); }
  sockaddr_in listening{};
  int listen_fd;
  uint16_t refused = test::refusedLoopbackPort();
};

class HealthServiceTest : public test::LoopThreadTest {
 protected:
  void SetUp() override { startLoop(); }  // the control thread's loop
  void TearDown() override {
    run([this] { service_.reset(); });
    stopLoop();
  }
  void start(std::function<void()> on_change) {
    run([&] { service_ = std::make_unique<HealthService>(loop_, std::move(on_change)); });
  }

  std::unique_ptr<HealthService> service_;
};

std::shared_ptr<const upstream::Cluster> tcpChecked(const std::vector<std::string>& addresses) {
  conf::ClusterSpec spec;
  spec.name = "web";
  conf::HealthCheckSpec check;
  check.protocol = conf::HealthCheckProtocol::Tcp;
  check.interval = milliseconds(20);
  check.timeout = milliseconds(1000);
  check.unhealthy_threshold = 2;
  spec.health_check = check;
  for (const auto& address : addresses) spec.hosts.push_back(conf::HostSpec{{}, address, 1});
  auto cluster = upstream::Cluster::create(spec);
  EXPECT_TRUE(cluster.has_value());
  return *cluster;
}

TEST_F(HealthServiceTest, AFailingHostFlipsOnTheHealthThreadAndTheControlThreadSeesIt) {
  Ports ports;
  std::promise<std::thread::id> changed;
  bool told = false;
  start([&] {
    if (!std::exchange(told, true)) changed.set_value(std::this_thread::get_id());
  });
  auto cluster = tcpChecked({ports.up(), ports.down()});
  run([&] { service_->sync({cluster}); });

  auto flipped = changed.get_future();
  ASSERT_EQ(flipped.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(flipped.get(), thread_.get_id()) << "on_change runs on the control loop";

  auto applied = run([&] { return service_->apply({cluster}); });
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_TRUE(applied[0]->hosts()[0].healthy);
  EXPECT_FALSE(applied[0]->hosts()[1].healthy);

  std::promise<admin::EdgeStatus> answered;
  run([&] {
    admin::EdgeStatus status;
    status.clusters.resize(1);
    status.clusters[0].name = "web";
    status.clusters[0].hosts.resize(2);
    status.clusters[0].hosts[0].address = ports.up();
    status.clusters[0].hosts[1].address = ports.down();
    service_->fillStatus(std::move(status),
                         [&](admin::EdgeStatus filled) { answered.set_value(std::move(filled)); });
  });
  auto filled = answered.get_future();
  ASSERT_EQ(filled.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const admin::EdgeStatus status = filled.get();
  EXPECT_TRUE(status.clusters[0].health_checked);
  EXPECT_FALSE(status.clusters[0].health_panic);
  EXPECT_EQ(status.clusters[0].hosts[1].health, "unhealthy");
  EXPECT_NE(status.clusters[0].hosts[0].health, "unhealthy");
  uint64_t probes = 0;
  for (const auto& [outcome, count] : status.clusters[0].health_checks) probes += count;
  EXPECT_GE(probes, 2u);
}

TEST_F(HealthServiceTest, AfterStopTheStatusIsAnsweredAtOnce) {
  start([] {});
  bool answered = false;
  run([&] {
    service_->stop();
    service_->sync({tcpChecked({"127.0.0.1:1"})});  // ignored: nothing runs any more
    service_->fillStatus(admin::EdgeStatus{}, [&](admin::EdgeStatus) { answered = true; });
  });
  EXPECT_TRUE(answered);
}

}  // namespace
}  // namespace baton::proxy::health
