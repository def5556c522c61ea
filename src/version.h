/* version.h: what this binary is and what it was built from.
 * LLMSWEEP_VERSION comes from build.zig; the git revision is generated at
 * build time (build_info.c). */
#ifndef LLMSWEEP_VERSION_H
#define LLMSWEEP_VERSION_H

extern const char llmsweep_git_revision[];

/* "x86_64-linux-musl" and the like: what the binary was compiled for. */
const char *version_target(void);

#endif
