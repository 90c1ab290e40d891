// buildUpstreamRequestHeaders / buildDownstreamResponseHeaders on typical browser-sized heads.
#include <benchmark/benchmark.h>

#include "proxy/forwarding.h"

namespace baton::proxy {
namespace {

http1::HeaderList browserRequest() {
  return {
      {"Host", "app.example.com"},
      {"Connection", "keep-alive"},
      {"Cache-Control", "max-age=0"},
      {"sec-ch-ua", "\"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\""},
      {"sec-ch-ua-mobile", "?0"},
      {"Upgrade-Insecure-Requests", "1"},
      {"User-Agent",
       "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/124.0.0.0 Safari/537.36"},
      {"Accept",
       "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"},
      {"Sec-Fetch-Site", "none"},
      {"Accept-Encoding", "gzip, deflate, br"},
      {"Accept-Language", "en-US,en;q=0.9"},
      {"Cookie", "session=0123456789abcdef; theme=dark"},
  };
}

ForwardContext context() {
  ForwardContext ctx;
  ctx.client_ip = "192.0.2.7";
  ctx.listener_port = 8080;
  ctx.host = "app.example.com";
  ctx.request_id = "0123456789abcdef0123456789abcdef";
  return ctx;
}

void BM_BuildUpstreamRequestHeaders(benchmark::State& state) {
  const http1::HeaderList in = browserRequest();
  const ForwardContext ctx = context();
  http1::HeaderList out;
  for (auto _ : state) {
    buildUpstreamRequestHeaders(in, ctx, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildUpstreamRequestHeaders);

// A fresh output vector each time, as a stream that does not recycle its header list would see.
void BM_BuildUpstreamRequestHeadersFreshOutput(benchmark::State& state) {
  const http1::HeaderList in = browserRequest();
  const ForwardContext ctx = context();
  for (auto _ : state) {
    http1::HeaderList out;
    buildUpstreamRequestHeaders(in, ctx, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildUpstreamRequestHeadersFreshOutput);

void BM_BuildDownstreamResponseHeaders(benchmark::State& state) {
  const http1::HeaderList in = {
      {"Server", "nginx"},
      {"Date", "Tue, 25 Nov 2026 18:20:33 GMT"},
      {"Content-Type", "text/html; charset=utf-8"},
      {"Content-Length", "16384"},
      {"Connection", "keep-alive"},
      {"Cache-Control", "no-cache"},
      {"ETag", "\"6553f1c2-4000\""},
      {"Set-Cookie", "session=0123456789abcdef; Path=/; HttpOnly"},
  };
  http1::HeaderList out;
  for (auto _ : state) {
    buildDownstreamResponseHeaders(in, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildDownstreamResponseHeaders);

}  // namespace
}  // namespace baton::proxy
