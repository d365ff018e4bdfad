// liburing, plus helpers for what Swift cannot import (macros, CQE iteration).
#ifndef CQTFS_URING_H
#define CQTFS_URING_H
#define _GNU_SOURCE
#include <liburing.h>
#endif
