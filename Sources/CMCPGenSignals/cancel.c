#define _GNU_SOURCE
#include "mcpgen_cancel.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

// Written only by the handler, read by any thread: lock-free atomics are async-signal-safe.
static int cancel_signal = 0;
// The signals whose handler is ours (a bit per signal), so the handler resets only those.
static int installed = 0;

static int bit(int sig) { return sig == SIGINT ? 1 : 2; }

static void on_cancel(int sig) {
  int saved = errno;
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  // The second signal gets the default action: the process ends at once, and what it leaves is
  // what crash recovery handles.
  if (installed & bit(SIGINT)) sigaction(SIGINT, &dfl, NULL);
  if (installed & bit(SIGTERM)) sigaction(SIGTERM, &dfl, NULL);
  int none = 0;
  __atomic_compare_exchange_n(&cancel_signal, &none, sig, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  errno = saved;
}

int mcpgen_cancel_install(void) {
  const int signals[2] = {SIGINT, SIGTERM};
  for (int i = 0; i < 2; i++) {
    struct sigaction old;
    if (sigaction(signals[i], NULL, &old) != 0) return -1;
    if (old.sa_handler == SIG_IGN) continue;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_cancel;
    sigemptyset(&action.sa_mask);
    // Both blocked while the handler runs: a second signal then finds the default action.
    sigaddset(&action.sa_mask, SIGINT);
    sigaddset(&action.sa_mask, SIGTERM);
    action.sa_flags = SA_RESTART;
    installed |= bit(signals[i]);
    if (sigaction(signals[i], &action, NULL) != 0) return -1;
  }
  // A signal blocked by whoever started us would never arrive: take both.
  sigset_t both;
  sigemptyset(&both);
  sigaddset(&both, SIGINT);
  sigaddset(&both, SIGTERM);
  int rc = pthread_sigmask(SIG_UNBLOCK, &both, NULL);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  return 0;
}

int mcpgen_cancel_signal(void) { return __atomic_load_n(&cancel_signal, __ATOMIC_SEQ_CST); }
