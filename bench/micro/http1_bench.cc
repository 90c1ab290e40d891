// HTTP/1 codec micro-benchmarks: ServerCodec on a curl-like and a browser-like GET, and
// ClientCodec on a 200 response with a 16 KiB Content-Length body.
#include <benchmark/benchmark.h>

#include <string>

#include "proxy/http1/client_codec.h"
#include "proxy/http1/server_codec.h"

namespace baton::proxy::http1 {
namespace {

struct NullServerCallbacks : ServerCodecCallbacks {
  void onRequestHead(RequestHead&& head) override { benchmark::DoNotOptimize(head.headers.size()); }
  void onRequestBody(const char*, size_t) override {}
  void onRequestComplete() override { ++completed; }
  size_t completed = 0;
};

struct NullClientCallbacks : ClientCodecCallbacks {
  void onInformational(ResponseHead&&) override {}
  void onResponseHead(ResponseHead&& head) override { benchmark::DoNotOptimize(head.status); }
  void onResponseBody(const char*, size_t len) override { bytes += len; }
  void onResponseComplete() override { ++completed; }
  size_t bytes = 0;
  size_t completed = 0;
};

const std::string kCurlGet =
    "GET /api/items?id=42 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n\r\n";

const std::string kBrowserGet =
    "GET /static/js/app.3f9c2b1e.js?v=20240101 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Accept: */*\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Referer: https://www.example.com/products/list?page=2\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9,zh-CN;q=0.8\r\n"
    "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark\r\n\r\n";

void parseRequests(benchmark::State& state, const std::string& request) {
  NullServerCallbacks cb;
  ServerCodec codec(cb, ServerCodecLimits{});
  for (auto _ : state) {
    auto r = codec.feed(request.data(), request.size());
    if (!r || *r != request.size()) state.SkipWithError("parse failed");
    codec.resume();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * request.size()));
  state.SetItemsProcessed(static_cast<int64_t>(cb.completed));
}

void BM_ServerCodecCurlGet(benchmark::State& state) {
  parseRequests(state, kCurlGet);
}
void BM_ServerCodecBrowserGet(benchmark::State& state) {
  parseRequests(state, kBrowserGet);
}

void BM_ClientCodec16KiB(benchmark::State& state) {
  std::string response =
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
      "Content-Type: application/octet-stream\r\nContent-Length: 16384\r\n"
      "Connection: keep-alive\r\nETag: \"65920000-4000\"\r\n\r\n";
  response.append(16384, 'x');
  NullClientCallbacks cb;
  ClientCodec codec(cb);
  for (auto _ : state) {
    codec.expectResponse(false);
    auto r = codec.feed(response.data(), response.size());
    if (!r || *r != response.size()) state.SkipWithError("parse failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * response.size()));
  state.SetItemsProcessed(static_cast<int64_t>(cb.completed));
}

BENCHMARK(BM_ServerCodecCurlGet);
BENCHMARK(BM_ServerCodecBrowserGet);
BENCHMARK(BM_ClientCodec16KiB);

}  // namespace
}  // namespace baton::proxy::http1
