# baton on Debian 12 (conf/deploy/README.md). Two stages: build with the -dev packages
# scripts/setup.sh lists, run with their runtime libraries only, as a non-root user.
#   docker build -t baton .
#   docker run --rm --network host baton --marathon http://marathon.mesos:8080 --group external

FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libevent-dev libssl-dev libnghttp2-dev node-llhttp libjemalloc-dev \
      libboost-dev libsimdjson-dev libtomlplusplus-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# No unit tests or benchmarks in the image (they need gtest and benchmark); CI runs them.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DBATON_TESTS=OFF -DBATON_BENCH=OFF \
 && cmake --build /build --target baton batonctl \
 && strip --strip-debug /build/main/baton /build/main/batonctl

FROM debian:12
ARG DEBIAN_FRONTEND=noninteractive
# The shared libraries baton links (ldd build/main/baton; libnghttp2 for HTTP/2, issue 6),
# nothing else: no compiler, no curl.
# libcap2-bin only for the setcap below, then removed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libevent-core-2.1-7 libevent-pthreads-2.1-7 libevent-extra-2.1-7 \
      libevent-openssl-2.1-7 libssl3 libnghttp2-14 libjemalloc2 libsimdjson14 \
      libtomlplusplus3 libcrypt1 ca-certificates libcap2-bin \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/main/baton /build/main/batonctl /usr/local/bin/
COPY conf/deploy/baton.toml /etc/baton/baton.toml
# A fixed uid so a host volume for the state file can be chowned to it (conf/deploy/README.md).
# Ports 80 and 443 without root: the binary carries CAP_NET_BIND_SERVICE (Docker's default
# capability set includes it; --security-opt no-new-privileges would disable it).
RUN groupadd --system --gid 10001 baton \
 && useradd --system --uid 10001 --gid baton --home-dir /var/lib/baton --shell /usr/sbin/nologin baton \
 && install -d -o baton -g baton -m 0750 /var/lib/baton /run/baton \
 && setcap cap_net_bind_service=+ep /usr/local/bin/baton \
 && apt-get purge -y libcap2-bin && apt-get autoremove -y
USER baton
# 80 shared vhosts, 443 (TLS, issue 6), 9090 admin HTTP (health check, stats, /metrics,
# dashboard), 9091 X-Marathon-App-Id, 10000-10100 marathon-lb's service port range.
EXPOSE 80 443 9090 9091 10000-10100
VOLUME ["/var/lib/baton"]
# batonctl speaks to the admin socket: fails (exit != 0) when baton does not answer.
ENV BATON_ADMIN_SOCKET=/run/baton/admin.sock
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/batonctl", "--timeout", "2", "show", "info"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/baton", "--config", "/etc/baton/baton.toml"]
