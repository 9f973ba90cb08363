/* The command line of the Manager's server binaries (mgr-gateway,
 * mgr-account, mgr-ca, mgr-vault): they take their settings from the
 * environment and answer only --version and --help. */
#ifndef MGR_COMMON_CMDLINE_H
#define MGR_COMMON_CMDLINE_H

/* Returns -1 when the process should go on and start; otherwise the exit
 * code: 0 after --version or --help (printed on stdout), 2 after anything
 * else on the command line (the usage on stderr). */
int mgr_cmdline(int argc, char **argv, const char *prog, const char *summary);

/* The Manager's version, "2.0.0". */
const char *mgr_version(void);

#endif
