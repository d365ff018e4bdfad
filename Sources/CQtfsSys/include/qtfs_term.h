// Terminal and signal helpers for qtfs-rexec (termios and signalfd are GNU-only or
// macro-heavy for Swift's Glibc).
#ifndef QTFS_TERM_H
#define QTFS_TERM_H

/// Blocks `sigs` in the calling thread (before any other thread starts, so in all) and
/// returns a signalfd (non-blocking, close-on-exec) that reads them, or -1.
int qtfs_signalfd(const int *sigs, int n);
/// Reads one pending signal from a signalfd: its number, 0 when none, -1 on error.
int qtfs_signalfd_read(int fd);

/// The window size of terminal `fd`: 0, or -1 when it is not a terminal.
int qtfs_get_winsize(int fd, unsigned short *rows, unsigned short *cols);

/// Puts terminal `fd` in raw mode, saving its settings for qtfs_term_restore: 0 or -1.
int qtfs_term_raw(int fd);
/// Restores what qtfs_term_raw saved (once; later calls do nothing).
void qtfs_term_restore(void);

/// Dies of `sig` as the remote program did: default action, unblocked, no core file.
/// Returns only if the signal did not end the process.
void qtfs_die_of(int sig);
#endif
