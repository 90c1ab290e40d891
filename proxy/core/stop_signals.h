// The signals the control thread handles (SIGHUP reload, SIGTERM/SIGINT stop, SIGUSR2 upgrade;
// proxy/server.cc) are delivered to the control thread only: every other long-lived thread
// blocks them when it starts. Otherwise the kernel may pick any thread, and while the process
// exits (the control thread has freed its signal events, restoring the default disposition) a
// repeated SIGTERM landing on another thread would kill a process that was exiting cleanly.
#pragma once

#include <pthread.h>

#include <csignal>
#include <initializer_list>

namespace baton::core {

inline sigset_t stopSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signo : {SIGHUP, SIGTERM, SIGINT, SIGUSR2}) sigaddset(&set, signo);
  return set;
}

// Called first thing on a thread that is not the control thread.
inline void blockStopSignals() {
  const sigset_t set = stopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace baton::core
