#ifndef MCPGEN_CANCEL_H
#define MCPGEN_CANCEL_H

// Ctrl-C (SIGINT) and SIGTERM as a request to cancel, not an instant death: a handler that only
// records the signal (async-signal-safe), which the engine polls at safe points. The first signal
// also puts both back to their default action, so a second one ends the process at once.
//
// sigaction(2) for SIGINT and SIGTERM. A signal that is ignored (nohup, a background job of a
// non-interactive shell) stays ignored. 0, or -1 with errno.
int mcpgen_cancel_install(void);

// The first cancelling signal received since mcpgen_cancel_install, or 0.
int mcpgen_cancel_signal(void);

#endif
