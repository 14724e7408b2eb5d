/* cli.h — the commands of the nnx binary, one file each (cmd_NAME.c).
 *
 * Each command gets the arguments after its name (argv[0] is the command
 * name) and returns the process exit status: 0 success, 1 a run failed,
 * 2 bad input (file, flags).  Commands print; nothing below them does.
 */
#ifndef NNX_CLI_H
#define NNX_CLI_H

#define NNX_VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_RUN_FAILED = 1, EXIT_BAD_INPUT = 2 };

typedef int (*nnx_command_fn)(int argc, char **argv);

/* One line per command, in the order `nnx help` lists them. */
int cmd_check(int argc, char **argv);
int cmd_fmt(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* After a report/diagnose error on DIR: if DIR holds run directories (runs/), name them. */
void cli_hint_rundirs(const char *cmd, const char *dir);

#endif
