// libfuse3 low-level API, version 3.5 semantics.
#ifndef CFUSE_H
#define CFUSE_H
// No _GNU_SOURCE: it would give this module a different fd_set than Swift's Glibc.
#define FUSE_USE_VERSION 35
#include <sys/types.h>
#include <sys/stat.h>
#include <fuse3/fuse_lowlevel.h>
#include "FuseUring.h"   // the request loop over io_uring (FuseUring.c)
#endif
